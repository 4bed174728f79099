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
# # ergen2022/closed-form: when $n\le d$ the optimal BN network has a closed form, independent of $X$
#
# > "Our analyses also show that optimal layer weights can be obtained as simple closed-form formulas in the
# > high-dimensional and/or overparameterized regimes."
# > (Ergen, Sahiner, Ozturkler, Pauly, Mardani & Pilanci, ICLR 2022, abstract)
#
# **Source availability.** The paper's body could not be obtained (our paper notes, `docs/papers/ergen2022.md`), so its closed-form
# theorem was not seen. This notebook checks the *abstract-level* claim through a closed form **derived in this
# repository** (§2, `bnrepro.ergen2022.closed_form`), for the BN scaling of §1.1; the paper's
# constants may differ.
#
# **The derived closed form.** When the centred data have rank $n-1$ (e.g. $n\le d$, generic $X$), the whitened
# matrix $U'=[U,1/\sqrt n]$ is $n\times n$ orthogonal, every sign pattern is available, and the convex program
# reduces to $\min_{u,u'\ge0}\tfrac12\|u-u'-y\|^2+\beta(\|u\|+\|u'\|)$, solved by group soft-thresholding:
# $u^*=(1-\beta/\|y_+\|)_+y_+$, $u'^*=(1-\beta/\|y_-\|)_+y_-$, $p^*=\phi(\|y_+\|)+\phi(\|y_-\|)$ with
# $\phi(s)=\beta s-\beta^2/2$ for $s>\beta$ (else $s^2/2$). Two neurons suffice: $w_1\propto X^\dagger y_+$,
# $w_2\propto X^\dagger y_-$ (within the row space of the centred data), $a=\pm\sqrt{\|u\|}$. Neither $p^*$ nor the
# optimal training predictions $u^*-u'^*$ depend on $X$.
#
# **What we run.** For every seed: $X\in\mathbb R^{n\times d}$ Gaussian, $y$ Gaussian, and a second design
# $X_{\rm alt}\in\mathbb R^{n\times d_{\rm alt}}$ with another draw, another dimension, strongly anisotropic columns and
# a non-zero mean, with the **same** $y$. On each design: the closed-form value, the closed-form weights through a
# real BN forward pass, the convex program (cvxpy + Clarabel over sampled arrangements plus the sign patterns of
# $y$), and Adam on the non-convex network.
#
# **Checks** (verdict version 2; each on every seed and both designs, decided on the worst run):
# - *claim, part `trained-optimum`*: Adam on the non-convex network reaches the closed-form value ($10^{-4}$
#   relative) and no trained network goes below $p^*$ at any step: the closed form is the optimum of the BN
#   *network*, not only of our convex program;
# - *claim, part `trained-predictions`*: the trained networks' training predictions are the closed form's
#   ($10^{-3}$ relative) and the same on both designs ($2\cdot10^{-3}$). v1 called these non-essential; they are the
#   only measurement of "the training predictions do not depend on $X$" that is not algebra (the closed form's
#   independence of $X$ holds by construction, below), so they are their own part;
# - *claim, part `overparameterized`* (new in this version; the abstract's "high-dimensional **and/or overparameterized**
#   regimes"): the same Adam schedule on networks of width `wide_width` $=5n$, far above the $n+1$ neurons that make the
#   convex program exact: no trained wide network goes below $p^*$ at any step and every one reaches it ($10^{-4}$
#   relative). Extra width gives the non-convex problem more parameters and more ways to fit $y$; if the closed form
#   were only the optimum among narrow networks, a wide network would go below it; if width changed the landscape,
#   Adam would stall above it. "High-dimensional" ($n\le d$) is the regime of every run here (the regime check);
#   "overparameterized" is tested as a width regime (our reading: the abstract's term is not defined in what could be
#   read), at $n\le d$: the closed form is not claimed, and not tested, for $n>d$;
# - *regime*: the centred data have rank $n-1$ (the closed form's condition); the wide width is at least $n+1$;
# - *sanity*: closed form = its weights through a real BN forward pass ($10^{-8}$) = the convex solve (solver
#   accuracy, $10^{-6}$, with the closed form's patterns in the pattern set), and the closed-form value, predictions
#   and convex value are the same on both designs. These are identities of the derivation or agreement of two
#   implementations of it: v1 counted them as evidence; they fail only on a bug.

# %% tags=["parameters"]
claim_id = "ergen2022/closed-form"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3, 4]
threads = 1
n = 20
d = 50
alt_d = 80
beta = 0.01
width = 20
wide_width = 100
sampled_samples = 100
lr = 0.01
steps = 3000
polish_lr = [0.001, 0.0001]
polish_steps = [1500, 1000]

# %%
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch

from bnrepro import claims
from bnrepro import ergen2022 as eg
from bnrepro.ergen2022 import tasks, training

verdict = claims.open(
    claim_id,
    statement=(
        "Abstract-level claim, tested through our derived closed form (the paper's body was not available): when "
        "n <= d the optimal weight-decay regularized two-layer ReLU network with BN has a closed form (two neurons, "
        "X^+ y_+ and X^+ y_-, group soft-thresholding), equal to the convex program's optimum and to trained "
        "networks, and its optimal value and training predictions do not depend on X."
    ),
    source="Abstract (the closed-form theorem itself was not available)",
    evidence="abstract",
    stand_ins=[
        "formulation: the closed form (group soft-thresholding of y_+ and y_-, weights X^+ y_pm) and its BN scaling "
        "(shift alpha/sqrt(n)) derived here, not the paper's theorem",
        f"data: synthetic, n={n}, Gaussian X (d={d}) and a second design (d={alt_d}, anisotropic, mean 3), Gaussian y "
        "(ours)",
        "non-convex baseline: Adam with our schedule and width",
        f"overparameterized regime: width {wide_width} (ours; the abstract's term is read as width >> n)",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
total_steps = steps + sum(polish_steps)
print(f"n={n}, d={d}, alt_d={alt_d}, beta={beta}, width={width} and {wide_width}, Adam lr {lr} x {steps} steps then {polish_lr} x "
      f"{polish_steps}; float64")

# %% [markdown]
# ## Closed form, weights through BN, convex solve and Adam, per seed and design
#
# The designs come from `tasks.closed_form_designs`: $X$ Gaussian; $X_{\rm alt}$ another draw with column scales
# $1\ldots10^{-2}$ and mean 3; the same Gaussian $y$. Adam at a fixed rate stalls at a noise floor of about
# $10^{-3}$-$10^{-4}$ relative here, so the same networks continue with Adam at smaller rates (`polish_lr`,
# `polish_steps`: "polishing", `training.train(net=...)`).

# %%
results = []
for seed in seeds:
    designs, y = tasks.closed_form_designs(seed, n, d, alt_d)
    for design, X in designs.items():
        wh = eg.whiten(X)
        cf = eg.closed_form(X, y, beta, whitening=wh)
        net_cf = cf.network
        p_weights = eg.objective(X, y, net_cf.W, net_cf.gamma, net_cf.alpha, net_cf.a, beta)
        f_cf = eg.bn_forward(X, net_cf.W, net_cf.gamma, net_cf.alpha, net_cf.a)
        patterns = eg.unique_patterns(eg.arrangements_sampled(wh.Up, sampled_samples, np.random.default_rng(seed)),
                                      eg.sign_patterns(y))
        covered = eg.has_pattern(patterns, cf.u > 0) and eg.has_pattern(patterns, cf.u_neg > 0)
        sol = eg.solve_convex(wh.Up, y, beta, patterns)
        f_cvx = eg.convex_predict(wh.Up, sol.patterns, sol.Q, sol.Qp)
        # model 0: width `width`; model 1: `wide_width` (one batched run; each model's draw depends only on its
        # seed and width, and Adam acts per coordinate, so the two are independent)
        net, trace = training.train(X, y, beta, width=max(width, wide_width), seeds=[seed, seed],
                                    widths=[width, wide_width], optimizer="adam", lr=lr, steps=steps,
                                    device=verdict.device, progress=False)
        traces = [trace.objective] + [training.train(X, y, beta, net=net, optimizer="adam", lr=plr, steps=ps,
                                                     device=verdict.device, progress=False)[1].objective[:, 1:]
                                      for plr, ps in zip(polish_lr, polish_steps, strict=True)]
        objective, objective_wide = np.concatenate(traces, axis=1)
        with torch.no_grad():
            f_nc = net(torch.as_tensor(X, device=verdict.device))[0, :, 0].cpu().numpy()
        verdict.timing(f"Clarabel solve, seed {seed}, {design}", sol.solve_time)
        verdict.timing(f"Adam first stage ({steps} steps), seed {seed}, {design}", trace.seconds[-1])
        results.append({"seed": seed, "design": design, "y": y, "rank": wh.rank, "p_closed": cf.value,
                        "p_weights": p_weights, "f_target": cf.u - cf.u_neg, "f_cf": f_cf, "p_cvx": sol.value,
                        "f_cvx": f_cvx, "status": sol.status, "n_patterns": len(patterns), "covered": covered,
                        "objective": objective, "objective_wide": objective_wide, "f_nc": f_nc})
        print(f"seed {seed}, {design:5s}: rank {wh.rank}, p_closed={cf.value:.10g}, "
              f"p_cvx/p_closed-1={sol.value / cf.value - 1:.2g} ({len(patterns)} patterns), "
              f"Adam final/p_closed-1={objective[-1] / cf.value - 1:.2g}")

col = {key: np.array([r[key] for r in results]) for key in results[0] if not key.startswith("objective")}  # one row per run
on_X, on_alt = col["design"] == "X", col["design"] == "X_alt"
p_closed, p_weights, p_cvx = col["p_closed"], col["p_weights"], col["p_cvx"]
p_adam = np.array([r["objective"][-1] for r in results])

# %% [markdown]
# ## Regime and sanity: the closed-form weights, run through BN, attain the closed-form value
#
# Both sides are float64 evaluations of the same number (the BN forward pass on $X$ against the formula
# $\phi(\|y_+\|)+\phi(\|y_-\|)$); $10^{-8}$ relative is the paper notes' tolerance, many orders above rounding (*sanity*).
# The regime condition, centred rank $n-1$, is checked first (*regime*). One value per run (seed and design),
# decided on the worst.

# %%
rel_weights = np.abs(p_closed - p_weights) / p_closed
print("centred rank per run:", col["rank"].tolist(), f"(n - 1 = {n - 1})")
print("|p_closed - p_weights| / p_closed:", np.array2string(rel_weights, precision=3))
verdict.check("max over runs of |centred rank - (n - 1)|", np.abs(col["rank"] - (n - 1)), "<=", 0, kind="regime", aggregate="max")
verdict.check("max over seeds and designs of |p_closed - p_weights| / p_closed", rel_weights, "<=", 1e-8, kind="sanity",
              aggregate="max")
rel_pred_cf = np.array([np.linalg.norm(r["f_cf"] - r["f_target"]) / np.linalg.norm(r["f_target"]) for r in results])
verdict.check("max over runs of ||f_closed-form weights(X) - (u* - u'*)|| / ||u* - u'*||", rel_pred_cf, "<=", 1e-8,
              kind="sanity", aggregate="max")

# %% [markdown]
# ## Sanity: the convex program agrees
#
# The program is solved over a *subset* of patterns (`sampled_samples` Gaussian directions plus the sign patterns of
# $y$), so its value is an upper bound on $p^*$; it reaches $p^*$ only if the closed form's two patterns
# $1[y>0]$, $1[y<0]$ are in the set (checked first; `sign_patterns` puts them there). Tolerance: Clarabel stops at
# a relative duality gap and residuals of $10^{-8}$ (defaults); cvxpy's conic reformulation (second-order cones for the
# norms and the square loss) rescales the problem, so the objective is accurate to some $10^{-8}$-$10^{-7}$ relative
# (the paper notes' preliminary runs: agreement to the 6 printed digits). We allow $10^{-6}$: ten times the worst we
# expect from the solver, still small enough that a wrong closed form (a missing neuron, wrong shrinkage, each of
# order $\beta/\|y_\pm\|\sim10^{-3}$ relative) would fail. Both are *sanity* checks: the closed form is our derivation
# of the convex program's solution, and the solver is a second implementation of the same program (v1 counted the
# agreement as evidence; a disagreement would be a bug in one of them).

# %%
rel_cvx = np.abs(p_cvx - p_closed) / p_closed
print("patterns per solve:", col["n_patterns"].tolist(), " solver status:", sorted(set(col["status"])))
print("(p_cvx - p_closed) / p_closed:", np.array2string((p_cvx - p_closed) / p_closed, precision=3))
verdict.check("number of runs whose pattern set lacks the closed form's patterns", np.sum(~col["covered"]), "<=", 0,
              kind="sanity")
verdict.check("max over seeds and designs of |p_cvx - p_closed| / p_closed", rel_cvx, "<=", 1e-6, kind="sanity",
              aggregate="max")
rel_pred_cvx = np.array([np.linalg.norm(r["f_cvx"] - r["f_target"]) / np.linalg.norm(r["f_target"]) for r in results])
verdict.measure("max over runs of ||f_cvx - (u* - u'*)|| / ||u* - u'*||", rel_pred_cvx.max())
print("||f_cvx - (u* - u'*)|| / ||u* - u'*||:", np.array2string(rel_pred_cvx, precision=3))

# %% [markdown]
# ## Claim: Adam on the non-convex network reaches the closed form, and never goes below it
#
# One initialisation per seed and design (torch seed = data seed), width `width`. The paper notes' criterion is
# $10^{-4}$ relative on the objective (its preliminary runs reached $10^{-7}$ after 20k iterations). The closed
# form is the global optimum, so no value along any trajectory may be lower; $10^{-10}$ relative is rounding room
# (part `trained-optimum`, worst run decides).
# The training predictions must match $u^*-u'^*$ to $10^{-3}$ relative (the paper notes' optional criterion; part
# `trained-predictions`): a near-optimal objective pins the predictions only to about the square root of the
# objective gap, so this can fail where the objective check passes.

# %%
rel_adam = (p_adam - p_closed) / p_closed
lowest = np.array([r["objective"].min() for r in results]) / p_closed - 1
rel_pred_nc = np.array([np.linalg.norm(r["f_nc"] - r["f_target"]) / np.linalg.norm(r["f_target"]) for r in results])
print("Adam final / p_closed - 1:  ", np.array2string(rel_adam, precision=3))
print("Adam lowest / p_closed - 1: ", np.array2string(lowest, precision=3))
print("||f_Adam - (u* - u'*)|| / ||u* - u'*||:", np.array2string(rel_pred_nc, precision=3))
verdict.check("max over seeds and designs of |p_Adam(final) - p_closed| / p_closed", np.abs(rel_adam), "<=", 1e-4,
              kind="claim", part="trained-optimum", aggregate="max")
verdict.check("min over seeds, designs and steps of p_Adam / p_closed - 1", lowest, ">=", -1e-10,
              kind="claim", part="trained-optimum", aggregate="min")
verdict.check("max over runs of ||f_Adam - (u* - u'*)|| / ||u* - u'*||", rel_pred_nc, "<=", 1e-3,
              kind="claim", part="trained-predictions", aggregate="max")

# %% [markdown]
# ## Claim, part `overparameterized`: wide networks neither go below the closed form nor stall above it
#
# The same seeds, designs, initialisation rule and Adam schedule at width `wide_width`, trained in the same batched run
# as the width-`width` networks. Same tolerances as above ($10^{-4}$ to reach; $10^{-10}$ rounding room below). The
# regime check asks the wide width to be at least $n+1$, the width above which the convex program is exact for any
# data (section 1.3 of `docs/papers/ergen2022.md`).

# %%
rel_wide = np.array([r["objective_wide"][-1] for r in results]) / p_closed - 1
lowest_wide = np.array([r["objective_wide"].min() for r in results]) / p_closed - 1
print(f"width {wide_width}: Adam final / p_closed - 1: ", np.array2string(rel_wide, precision=3))
print(f"width {wide_width}: Adam lowest / p_closed - 1:", np.array2string(lowest_wide, precision=3))
verdict.check("wide width - (n + 1)", wide_width - (n + 1), ">=", 0, kind="regime")
verdict.check(f"max over seeds and designs of |p_Adam(final) - p_closed| / p_closed, width {wide_width}", np.abs(rel_wide),
              "<=", 1e-4, kind="claim", part="overparameterized", aggregate="max")
verdict.check(f"min over seeds, designs and steps of p_Adam / p_closed - 1, width {wide_width}", lowest_wide, ">=", -1e-10,
              kind="claim", part="overparameterized", aggregate="min")

# %% [markdown]
# ## $p^*$ and the predictions do not depend on $X$
#
# Same $y$, two very different designs (different draw, dimension `d` vs `alt_d`, column scales from 1 to $10^{-2}$,
# mean 3). Computed on each design separately: the value of the closed-form weights through BN, the convex optimum,
# the closed-form training predictions, and the trained networks' predictions. Tolerances: the first and third are
# exact evaluations ($10^{-8}$); the convex values agree to twice the solver tolerance above; the trained
# predictions to twice the per-design tolerance above. The first three are *sanity* (the closed form depends on $y$
# only, by construction, and both convex values are solver agreements with it; v1 counted them as evidence); the
# trained networks' predictions are *claim, part `trained-predictions`* (v1: non-essential), one value per seed.

# %%
same = {key: tasks.relative_difference(col[key][on_X], col[key][on_alt]) for key in ("p_weights", "p_cvx", "f_cf", "f_nc")}
for key, values in same.items():
    print(f"X vs X_alt, relative difference of {key}:", np.array2string(values, precision=3))
verdict.check("max over seeds of |p_weights(X) - p_weights(X_alt)| / p_weights(X)", same["p_weights"], "<=", 1e-8,
              kind="sanity", aggregate="max")
verdict.check("max over seeds of ||f_closed-form(X) - f_closed-form(X_alt)|| / ||f_closed-form(X)||", same["f_cf"], "<=", 1e-8,
              kind="sanity", aggregate="max")
verdict.check("max over seeds of |p_cvx(X) - p_cvx(X_alt)| / p_cvx(X)", same["p_cvx"], "<=", 2e-6, kind="sanity", aggregate="max")
verdict.check("max over seeds of ||f_Adam(X) - f_Adam(X_alt)|| / ||f_Adam(X)||", same["f_nc"], "<=", 2e-3,
              kind="claim", part="trained-predictions", aggregate="max")

# %% [markdown]
# ## Figure 1: Adam's objective gap, and the four values per seed
#
# Left: $p_{\rm Adam}/p^*-1$ per seed (colour) on $X$ (solid) and $X_{\rm alt}$ (dashed); the dotted verticals mark
# the switches to smaller learning rates. Right: each method's value relative to the closed form, per seed
# and design ($|p/p^*-1|$, log scale; a value of exactly 0 is drawn at $10^{-17}$).

# %%
palette = sns.color_palette(n_colors=len(seeds))
fig, (ax, ax_v) = plt.subplots(1, 2, figsize=(12, 4.3))
it = np.arange(total_steps + 1)
for r in results:
    colour = palette[seeds.index(r["seed"])]
    ax.semilogy(it[1:], (r["objective"] / r["p_closed"] - 1)[1:], color=colour, lw=0.9,
                ls="-" if r["design"] == "X" else "--", label=f"seed {r['seed']}" if r["design"] == "X" else None)
for boundary in np.cumsum([steps] + polish_steps[:-1]):
    ax.axvline(boundary, color="k", ls=":", lw=1)
ax.axhline(1e-4, color="k", lw=0.8, label="1e-4 criterion")
ax.set(xlabel="Adam iteration", ylabel=r"$p_{\rm Adam}/p^*-1$", title=f"n={n}, d={d} (solid) / {alt_d} (dashed), beta={beta}")
ax.legend(fontsize=8)
floor = 1e-17
labels = ["weights through BN", "convex solve", "Adam (final)"]
values = [rel_weights, rel_cvx, np.abs(rel_adam)]
for k, (_label, v) in enumerate(zip(labels, values, strict=True)):
    for i, r in enumerate(results):
        offset = (seeds.index(r["seed"]) - (len(seeds) - 1) / 2) * 0.08 + (0.03 if r["design"] == "X_alt" else -0.03)
        ax_v.scatter(k + offset, max(v[i], floor), color=palette[seeds.index(r["seed"])],
                     marker="o" if r["design"] == "X" else "^", s=25)
ax_v.set_yscale("log")
ax_v.set_xticks(range(len(labels)), labels)
ax_v.set(ylabel=r"$|p/p^*_{\rm closed}-1|$", title="agreement with the closed form (o: X, ^: X_alt)")
for tol, k in [(1e-8, 0), (1e-6, 1), (1e-4, 2)]:
    ax_v.hlines(tol, k - 0.3, k + 0.3, color="k", lw=1)
verdict.figure(fig, "closed-form-agreement")
plt.show()

# %% [markdown]
# ## Figure 2: the trained networks' predictions against the closed form, on both designs
#
# Each point is one training sample: the closed-form prediction $u^*-u'^*$ (the soft-thresholded $y$) against
# the trained network's prediction on $X$ (circles) and on $X_{\rm alt}$ (triangles).

# %%
fig, ax = plt.subplots(figsize=(5.5, 5))
for r in results:
    ax.scatter(r["f_target"], r["f_nc"], color=palette[seeds.index(r["seed"])], s=14,
               marker="o" if r["design"] == "X" else "^", alpha=0.8)
lim = max(np.abs(col["f_target"]).max(), np.abs(col["f_nc"]).max()) * 1.05
ax.plot([-lim, lim], [-lim, lim], color="k", lw=0.8)
ax.set(xlabel=r"closed form $u^*-u'^*$", ylabel="trained network's prediction", xlim=(-lim, lim), ylim=(-lim, lim),
       title="training predictions (o: X, ^: X_alt)")
verdict.figure(fig, "predictions")
plt.show()

# %% [markdown]
# ## Deviations from the paper

# %%
verdict.deviation(
    "The paper's body was not available: the closed form (group soft-thresholding of y_+ and y_-, weights "
    "X^+ y_pm, a = +-sqrt(||u||)) and its BN scaling (shift alpha/sqrt(n)) are this repository's derivation "
    "(§2); the verdict tests the abstract-level claim through it, not the paper's theorem or constants."
)
verdict.deviation(
    f"The experiment is ours: n={n}, d={d}, Gaussian X and y, beta={beta}, sum squared loss, weight decay on gamma, "
    f"alpha and a only; the second design (d={alt_d}, column scales 1..1e-2, mean 3) is our choice for the "
    "X-independence check."
)
verdict.deviation(
    f"The convex program is solved over {sampled_samples} sampled arrangements plus the sign patterns of y, not "
    "all patterns (in this regime all 2^n patterns exist); its value is therefore an upper bound, which the "
    "closed form's patterns make tight."
)
verdict.deviation(
    f"Adam schedule is ours: lr {lr} for {steps} steps, then fresh Adam at {polish_lr} for {polish_steps} steps "
    f"(a fixed rate stalls above 1e-4 relative); width {width}, PyTorch default initialisation, BN without epsilon."
)
verdict.deviation(
    f"'Overparameterized' (abstract) is read as a width regime: width {wide_width} = {wide_width / n:g} n, trained by the same "
    f"Adam schedule, added in the v2 redesign (issue 16); every run is in the n <= d ('high-dimensional') regime, and "
    "the closed form is neither claimed nor tested for n > d."
)
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
