# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # ergen2022/convex-equivalence: a two-layer ReLU network with BN *is* a convex program
#
# > "We introduce an analytic framework based on convex duality to obtain exact convex representations of
# > weight-decay regularized ReLU networks with BN, which can be trained in polynomial-time."
# > (Ergen, Sahiner, Ozturkler, Pauly, Mardani & Pilanci, ICLR 2022, abstract; the main BN equivalence is
# > **Theorem 2.2** according to a third-party note quoting the paper)
#
# **Source availability.** The paper's body could not be obtained (our paper notes, `docs/papers/ergen2022.md`). This notebook
# checks the *abstract-level* claim through a formulation **derived in this repository** (§§1.1-1.5,
# `bnrepro.ergen2022.convex`), not the paper's Theorem 2.2 itself; its BN scaling and constants may differ
# from the paper's. The only verified facts it leans on are that the program uses whitened data with
# $U'^\top U'=I$.
#
# **Model** (derived). BN before the ReLU over the full batch,
# $\mathrm{BN}_{\gamma,\alpha}(h)=\gamma Ph/\|Ph\|+\alpha/\sqrt n$, $f(X)=\sum_j a_j(\mathrm{BN}_{\gamma_j,\alpha_j}(Xw_j))_+$,
# objective $\tfrac12\|f(X)-y\|^2+\tfrac\beta2\sum_j(\gamma_j^2+\alpha_j^2+a_j^2)$. With $PX=U\Sigma V^\top$ and
# $U'=[U,1/\sqrt n]$, $\mathrm{BN}(Xw)=U'q$ with $\|q\|^2=\gamma^2+\alpha^2$, so the network is a bias-free ReLU
# network on $U'$ and its training problem equals the group lasso over the hyperplane arrangements $D_i$ of $U'$:
# $\min\tfrac12\|\sum_iD_iU'(q_i-q_i')-y\|^2+\beta\sum_i(\|q_i\|+\|q_i'\|)$ s.t. $(2D_i-I)U'q_i\ge0$, $(2D_i-I)U'q_i'\ge0$.
#
# **What we run.** Synthetic regression data with $n=30$, $d=2$ (so $U'$ is $30\times3$), one data set per seed.
# Every arrangement pattern is enumerated exactly; the convex program is solved with cvxpy + Clarabel; its
# solution is turned back into BN-network weights and run through a real BN forward pass; the non-convex
# network is trained with Adam and with full-batch GD at several widths and initialisations.
#
# **Checks** (verdict version 2; every one per data set, decided on the worst data set):
# - *claim*: no non-convex run, at any step, goes below the convex optimum: $p_{\rm nc}\ge p_{\rm cvx}(1-10^{-6})$.
#   This is the one check that could fail if the formulation were wrong (a convex value above the true minimum);
# - *regime*: the best non-convex run comes close, $\min p_{\rm nc}\le p_{\rm cvx}(1+0.05)$, and every training run
#   stays finite. Closeness is not part of the statement (the equivalence says nothing about what Adam or GD find),
#   but it is what lets the claim check discriminate: runs that stayed far above the optimum could not reveal a
#   convex value that is too high. v1 counted it as evidence; it is the precondition of the evidence;
# - *sanity*: the enumeration is complete (the number of patterns equals the general-position count
#   $2\sum_{k\le2}\binom{n-1}{k}$), and the recovered weights reproduce the convex optimum through a BN forward pass
#   ($|p_{\rm cvx}-p_{\rm rec}|/p_{\rm cvx}\le10^{-6}$). Both are identities of our construction (general position
#   holds almost surely; the recovery maps each group to a neuron with the same penalty): v1 counted them as
#   evidence; they fail only on a bug.
# - *measurements* (v2, issue 16): the cost of the exact program against $n$ at fixed $d=2$ (`scaling_ns`): the exact
#   pattern count and the number of cone-constraint rows, with their log-log slopes (deterministic, in the verdict);
#   the Clarabel solve time per $n$ and its log-log slope go to the run record (wall time varies between runs, so it
#   cannot be in a byte-identical verdict). "Polynomial time" is therefore *measured*, not checked.
#
# **Scope.** $d=2$ (a $30\times3$ $U'$) is the only case in which this repository enumerates the arrangements
# exactly; for larger $d$ the program over sampled patterns is an upper bound, and the equivalence is not tested there.

# %% tags=["parameters"]
claim_id = "ergen2022/convex-equivalence"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3, 4]
threads = 1
n = 30
d = 2
beta = 0.1
widths = [10, 30, 100]
init_seeds = [0, 1, 2]
steps = 3000
adam_lr = 0.01
gd_lr = 0.003
sampled_samples = 400000
scaling_ns = [10, 15, 20, 30, 40]

# %%
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from bnrepro import claims
from bnrepro import ergen2022 as eg
from bnrepro.ergen2022 import scaling, tasks, training

verdict = claims.open(
    claim_id,
    statement=(
        "Abstract-level claim, tested through our derived formulation (the paper's body was not available): "
        "weight-decay regularized two-layer ReLU networks with BN before the ReLU are exactly a convex "
        "program (group lasso over the hyperplane arrangements of the whitened data U' = [U, 1/sqrt(n)]); "
        "its solution gives network weights attaining the optimum, and no trained network goes below it."
    ),
    source="Abstract; Theorem 2.2 (per a third-party note; the paper's body was not available)",
    evidence="abstract",
    stand_ins=[
        "formulation: BN scaling (shift alpha/sqrt(n)), convex program and weight recovery derived here, not the "
        "paper's Theorem 2.2",
        f"data: synthetic regression, n={n}, d={d}, Gaussian X and an independent Gaussian y (ours)",
        "non-convex baseline: Adam and full-batch GD, our widths, initialisations and learning rates",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
models = [(w, s) for s in init_seeds for w in widths]  # one batched training run per optimizer and data set
run_widths = [w for w, _ in models]
run_seeds = [1000 * s + w for w, s in models]  # distinct torch seeds per (init seed, width)
print(f"n={n}, d={d}, beta={beta}, widths={widths}, init seeds={init_seeds}, steps={steps}, Adam lr={adam_lr}, "
      f"GD lr={gd_lr}; float64")


# %% [markdown]
# ## Data, exact arrangements, convex optimum, recovered weights, and training (one data set at a time)
#
# Each data set: $X\sim N(0,I_d)$ rows, $y\sim N(0,1)$ independent of $X$ (a generic regression target; the
# equivalence does not depend on the target). Training: all widths and initialisations of one optimizer
# in one batched run (PyTorch parameters, default init, objective exactly the one above).

# %%
results = []
for seed in seeds:
    X, y = tasks.regression_data(seed, n, d)
    wh = eg.whiten(X)
    patterns = eg.arrangements_exact(wh.Up)
    sampled = eg.arrangements_sampled(wh.Up, sampled_samples, np.random.default_rng(seed))
    sol = eg.solve_convex(wh.Up, y, beta, patterns)
    net = eg.recover_weights(sol, wh)
    p_rec = eg.objective(X, y, net.W, net.gamma, net.alpha, net.a, beta)
    runs = {}
    for optimizer, lr in [("adam", adam_lr), ("gd", gd_lr)]:
        _, trace = training.train(X, y, beta, width=max(widths), seeds=run_seeds, widths=run_widths,
                                  optimizer=optimizer, lr=lr, steps=steps, device=verdict.device, progress=False)
        runs[optimizer] = trace
        verdict.timing(f"{optimizer} training, data seed {seed} ({len(models)} models batched)", trace.seconds[-1])
    verdict.timing(f"Clarabel solve, data seed {seed}", sol.solve_time)
    results.append({"seed": seed, "X": X, "y": y, "wh": wh, "patterns": patterns, "sampled": sampled, "sol": sol,
                    "net": net, "p_rec": p_rec, "runs": runs})
    best = min(np.nanmin(t.objective) for t in runs.values())
    print(f"data seed {seed}: {len(patterns)} patterns (exact), {len(sampled)} (sampled), p_cvx={sol.value:.8g}, "
          f"{net.width} neurons recovered, best non-convex / p_cvx - 1 = {best / sol.value - 1:.3g}")

p_cvx = np.array([r["sol"].value for r in results])

# %% [markdown]
# ## Sanity: the enumeration is exact
#
# Gaussian data is in general position almost surely, so the $n$ planes $\{s:u_k'^\top s=0\}$ in $\mathbb R^3$ cut it
# into exactly $2\sum_{k=0}^{2}\binom{n-1}{k}$ cells; the enumeration must find every one (equality, no tolerance).
# For comparison we also record what dense Gaussian sampling of $s$ finds: the paper notes' point that sampling misses
# thin cells, as a measurement (not a pass/fail criterion).

# %%
expected = eg.general_position_count(n, d)
counts = np.array([len(r["patterns"]) for r in results])
sampled_counts = np.array([len(r["sampled"]) for r in results])
print(f"general-position count: {expected}")
print("exact enumeration per data seed:  ", counts.tolist())
print(f"Gaussian sampling ({sampled_samples} draws):", sampled_counts.tolist())
verdict.check("max over data seeds of |exact pattern count - general-position count|", np.abs(counts - expected), "<=", 0,
              kind="sanity", aggregate="max")
verdict.measure(f"min over data seeds of patterns found by {sampled_samples} Gaussian samples / exact count",
                (sampled_counts / counts).min())
verdict.measure(f"max over data seeds of patterns found by {sampled_samples} Gaussian samples / exact count",
                (sampled_counts / counts).max())
verdict.measure("general-position pattern count", expected)
verdict.measure("mean over data seeds of patterns missed by Gaussian sampling", np.mean(counts - sampled_counts))

# %% [markdown]
# ## Sanity: the recovered weights attain the convex optimum through a real BN forward pass
#
# Groups with $\|q_i\|\le10^{-6}\max\|q\|$ (interior-point dust) are dropped; each kept group becomes one neuron
# (`recover_weights`), and the network is evaluated by the numpy BN forward pass on $X$ (not through $U'$).
# Clarabel's default tolerances are $10^{-8}$ (relative duality gap and residuals); dropping the dust moves the value
# by about the dropped groups' penalty. $10^{-6}$ relative leaves a factor $\ge 10$ of room above that and is still
# far below any difference an optimisation error would cause (the trained networks sit $10^{-3}$-$10^{-2}$ above).
# The recovered width is recorded: an optimum with at most $n+1$ neurons exists (Carathéodory), but the
# interior-point solution lies inside the optimal face and may spread over more groups. v1 asked (non-essentially)
# that the recovered width not exceed the widest trained network; it is a measurement now: the regime question it
# stood for (can the widest trained network represent *an* optimum?) is answered by Carathéodory, $n+1\le\max$
# `widths` (31 <= 100 at both scales), whatever width the interior-point solution happens to spread over.

# %%
p_rec = np.array([r["p_rec"] for r in results])
recovery = np.abs(p_cvx - p_rec) / p_cvx
rec_widths = np.array([r["net"].width for r in results])
print("p_cvx per data seed:            ", np.array2string(p_cvx, precision=8))
print("|p_cvx - p_rec| / p_cvx:        ", np.array2string(recovery, precision=3))
print("neurons in the recovered network:", rec_widths.tolist())
print("solver status:                  ", [r["sol"].status for r in results])
verdict.check("max over data seeds of |p_cvx - p_recovered| / p_cvx", recovery, "<=", 1e-6, kind="sanity", aggregate="max")
verdict.measure("max over data seeds of recovered width - largest trained width", (rec_widths - max(widths)).max())
verdict.measure("min over data seeds of recovered width", rec_widths.min())
verdict.measure("max over data seeds of recovered width", rec_widths.max())

# %% [markdown]
# ## Claim: no trained network beats the convex optimum; regime: the best comes close
#
# The convex value with *every* pattern is a lower bound on the non-convex objective at any width (each neuron
# is a feasible group with the same penalty). We take the lowest value every run reached at any step, so a
# transient dip below $p_{\rm cvx}$ would count. The tolerance $10^{-6}$ relative covers the solver accuracy (above).
# One value per data set (the lowest over optimizers, widths, inits and steps), decided on the worst data set.
#
# Closeness (*regime*): the paper notes' preliminary runs were $0.5$-$2\%$ above the optimum; $5\%$ is its criterion,
# applied to the best run per data set (worst data set decides). Every run must also stay finite (*regime*: a
# diverged run would say nothing).

# %%
lowest = np.array([[np.nanmin(r["runs"][o].objective, axis=1) for o in ("adam", "gd")] for r in results])  # (S, 2, M)
finite = all(np.isfinite(r["runs"][o].objective).all() for r in results for o in ("adam", "gd"))
gap_lowest = lowest / p_cvx[:, None, None] - 1
for o, name in enumerate(("Adam", "GD")):
    for w in widths:
        cols = [i for i, (mw, _) in enumerate(models) if mw == w]
        print(f"{name:4s} width {w:3d}: lowest objective / p_cvx - 1 per data seed (best init):",
              np.array2string(gap_lowest[:, o, cols].min(axis=1), precision=4))
verdict.check("number of non-finite objective values in all training runs", 0 if finite else 1, "<=", 0, kind="regime")
best_gap = gap_lowest.reshape(len(seeds), -1).min(axis=1)
print("best run per data seed, p_nc / p_cvx - 1:", np.array2string(best_gap, precision=4))
verdict.check("min over data seeds of (min over optimizers, widths, inits, steps of p_nc / p_cvx - 1)", best_gap, ">=", -1e-6,
              kind="claim", aggregate="min")
verdict.check("max over data seeds of (best non-convex run) / p_cvx - 1", best_gap, "<=", 0.05, kind="regime", aggregate="max")
widest = [i for i, (mw, _) in enumerate(models) if mw == max(widths)]
verdict.measure(f"max over data seeds of best Adam width-{max(widths)} run / p_cvx - 1", gap_lowest[:, 0, widest].min(axis=1).max())
verdict.measure(f"max over data seeds of best GD width-{max(widths)} run / p_cvx - 1", gap_lowest[:, 1, widest].min(axis=1).max())
verdict.measure("max over data seeds of best run / p_cvx - 1 at width 10",
                gap_lowest[:, :, [i for i, (mw, _) in enumerate(models) if mw == min(widths)]].reshape(len(seeds), -1).min(axis=1).max())

# %% [markdown]
# ## Figure 1: the non-convex objective against iterations, relative to the convex optimum
#
# Every run of every data set (faint), coloured by width; the thick line is each width's median over data sets
# and initialisations. The convex optimum is the line $y=0$ of the relative gap, below the plotted range of
# a log axis: any run below it would have shown up as a negative gap in the claim check.

# %%
palette = dict(zip(widths, sns.color_palette(n_colors=len(widths)), strict=True))
it = np.arange(steps + 1)
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
for ax, (o, name) in zip(axes, [("adam", "Adam"), ("gd", "full-batch GD")], strict=True):
    for w in widths:
        cols = [i for i, (mw, _) in enumerate(models) if mw == w]
        gaps = np.concatenate([r["runs"][o].objective[cols] / r["sol"].value - 1 for r in results])
        for g in gaps:
            ax.semilogy(it[1:], g[1:], color=palette[w], alpha=0.2, lw=0.7)
        ax.semilogy(it[1:], np.median(gaps, axis=0)[1:], color=palette[w], lw=2, label=f"width {w}")
    ax.axhline(0.05, color="k", ls=":", lw=1, label="5 % above the optimum")
    ax.set(xlabel="iteration", title=f"{name} (lr {adam_lr if o == 'adam' else gd_lr})")
axes[0].set_ylabel(r"$p_{\rm nc}/p_{\rm cvx}-1$")
axes[0].legend()
fig.suptitle(f"n={n}, d={d}, beta={beta}: {len(seeds)} data sets x {len(init_seeds)} inits per width")
verdict.figure(fig, "objective-vs-iteration")
plt.show()

# %% [markdown]
# ## Figure 2: the same against wall time, with the convex solve time marked
#
# Drawn from measured wall times, so it is saved outside the byte-identical outputs (`*.run.png`) and not shown
# inline. Time axis: the batched training run (all widths and initialisations of one optimizer together, as run);
# vertical lines: Clarabel's solve time on each data set (exact arrangements).

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
for ax, (o, name) in zip(axes, [("adam", "Adam"), ("gd", "full-batch GD")], strict=True):
    for r in results:
        t = r["runs"][o].seconds
        for i, (w, _) in enumerate(models):
            ax.semilogy(t[1:], (r["runs"][o].objective[i] / r["sol"].value - 1)[1:], color=palette[w], alpha=0.3, lw=0.7)
        ax.axvline(r["sol"].solve_time, color="k", lw=0.8, alpha=0.6)
    for w in widths:
        ax.plot([], [], color=palette[w], label=f"width {w}")
    ax.plot([], [], color="k", lw=0.8, label="Clarabel solve time (one per data set)")
    ax.set(xlabel=f"wall time of the batched run of {len(models)} models (s)", title=name)
axes[0].set_ylabel(r"$p_{\rm nc}/p_{\rm cvx}-1$")
axes[0].legend()
print(verdict.figure(fig, "objective-vs-time", measured_time=True)[0])

# %% [markdown]
# ## Figure 3: one data set and its arrangement
#
# Left: the data of the first seed coloured by $y$. Right: patterns per data set: exact enumeration, the
# general-position formula, and dense Gaussian sampling of $s$ (which misses thin cells).

# %%
r0 = results[0]
fig, (ax, ax_c) = plt.subplots(1, 2, figsize=(11, 4))
sc = ax.scatter(r0["X"][:, 0], r0["X"][:, 1], c=r0["y"], cmap="coolwarm", s=30)
fig.colorbar(sc, ax=ax, label="y")
ax.set(xlabel="$x_1$", ylabel="$x_2$", title=f"data seed {r0['seed']}: n={n}, d={d}")
pos = np.arange(len(seeds))
ax_c.bar(pos - 0.2, counts, width=0.4, label="exact enumeration")
ax_c.bar(pos + 0.2, sampled_counts, width=0.4, label=f"{sampled_samples} Gaussian samples")
ax_c.axhline(expected, color="k", ls="--", lw=1, label="general-position count")
ax_c.set_ylim(0.9 * sampled_counts.min(), 1.03 * expected)
ax_c.set_xticks(pos, [str(s) for s in seeds])
ax_c.set(xlabel="data seed", ylabel="arrangement patterns of U'")
ax_c.legend(loc="lower right")
verdict.figure(fig, "data-and-arrangements")
plt.show()

# %% [markdown]
# ## Measurement: the cost of the exact program against $n$ at $d=2$
#
# One data set per $n$ (`tasks.regression_data` with the first seed), every pattern enumerated, the program solved
# by Clarabel. For rank $r=2$ the pattern count is $2\sum_{k\le2}\binom{n-1}{k}=O(n^2)$ (sanity: equality at every
# $n$) and the cone constraints have $2Pn=O(n^3)$ rows; the solve time's slope, in the run record, is what an
# interior-point method makes of that size. A polynomial slope over this short range is consistent with the
# abstract's "polynomial-time" but does not prove it; it is a measurement, not a check.

# %%
cost = scaling.solve_scaling(scaling_ns, d, beta, seeds[0])
print("n:", cost.ns.tolist(), " patterns:", cost.patterns.tolist(), " constraint rows:", cost.constraint_rows.tolist())
print("solve time (s, run-dependent):", np.array2string(cost.seconds, precision=3),
      f" log-log slope {cost.slope('seconds'):.2f}")
verdict.check("max over n of |exact pattern count - general-position count| (cost scan)",
              np.abs(cost.patterns - np.array([eg.general_position_count(m, d) for m in scaling_ns])), "<=", 0,
              kind="sanity", aggregate="max")
verdict.measure(f"log-log slope of the exact pattern count against n (d = {d}, n = {scaling_ns})", cost.slope("patterns"))
verdict.measure(f"log-log slope of the cone-constraint rows against n (d = {d})", cost.slope("constraint_rows"))
for m, seconds in zip(scaling_ns, cost.seconds, strict=True):
    verdict.timing(f"cost scan: Clarabel solve at n = {m}, d = {d}", seconds)
verdict.timing(f"cost scan: log-log slope of the solve time against n (d = {d}; a slope, not seconds)",
               cost.slope("seconds"))

# %% [markdown]
# ## Deviations from the paper

# %%
verdict.deviation(
    "The paper's body was not available: the BN scaling (shift alpha/sqrt(n)), the convex program and the weight "
    "recovery are this repository's derivation from the problem statement (§§1.1-1.5); the verdict "
    "tests the abstract-level claim through it, not the paper's Theorem 2.2 or any of its numbers."
)
verdict.deviation(
    f"The experiment is ours (the paper's experiments are unknown): synthetic n={n}, d={d}, Gaussian X and an "
    f"independent Gaussian target y, beta={beta}, sum squared loss; weight decay on gamma, alpha and a only (BN makes "
    "W scale-invariant)."
)
verdict.deviation(
    "BN uses full-batch statistics without epsilon (exact equivalence needs eps -> 0); the PyTorch parameters are "
    "BatchNorm1d's weight and bias (gamma = sqrt(n) weight, alpha = sqrt(n) bias)."
)
verdict.deviation(
    f"Optimizers and hyper-parameters are our choices: Adam lr {adam_lr} and full-batch GD lr {gd_lr}, {steps} steps, "
    f"widths {widths}, {len(init_seeds)} initialisations each, PyTorch default initialisation."
)
verdict.deviation(
    "Arrangements are enumerated exactly (d = 2), not sampled as the lab's code does; a sampled set would make the "
    "convex value an upper bound instead of the optimum."
)
verdict.deviation(
    "d = 2 is the only exact-enumeration case tested (arrangements_exact handles d <= 2): the equivalence is not "
    "tested at larger d. 'Polynomial-time' is not checked: the exact program's size against n at d = 2 is measured "
    "(pattern count and constraint rows, log-log slopes in the measurements), and the solve time against n, which "
    "varies between runs, is in the run record (results/claims/ergen2022-convex-equivalence.run.json)."
)
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
