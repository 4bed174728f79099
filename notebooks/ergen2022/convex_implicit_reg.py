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
# # ergen2022/convex-implicit-reg: encoding GD's bias in the convex BN program
#
# > "Furthermore, we find that Gradient Descent provides an algorithmic bias effect on the standard non-convex
# > BN network, and we design an approach to explicitly encode this implicit regularization into the convex
# > objective. Experiments with CIFAR image classification highlight the effectiveness of this explicit
# > regularization for mimicking and substantially improving the performance of standard BN networks."
# > (Ergen, Sahiner, Ozturkler, Pauly, Mardani & Pilanci, ICLR 2022, **abstract**)
#
# **Source caveat.** The paper's body could not be obtained (our paper notes, `docs/papers/ergen2022.md`, "What of the
# paper could be read"): its encoding, its CIFAR setup and its numbers are unknown. This notebook checks the
# *abstract-level* claim through the formulation derived in `docs/papers/ergen2022.md` (sections 1-3, derived), not the paper's
# theorems or figures.
#
# **Model and encoding (§§1.3 and 3, derived).** The BN network's convex program sees the data only
# through the whitened matrix $U'=[U,\mathbf 1/\sqrt n]$ ($PX=U\Sigma V^\top$): all singular directions are equal
# to it. GD on the non-convex network moves direction $i$ at a rate $\propto\sigma_i^2$ and so favours the top
# singular directions. The explicit encoding tested here is **truncated whitening**: the same convex program on
# $U'_k=[U_k,\mathbf 1/\sqrt n]$, the top-$k$ left singular vectors, with $k$ chosen on a validation split.
# Test rows go through BN with the training-batch statistics: $[(x-\mu)V_k\Sigma_k^{-1},1/\sqrt n]$.
#
# **Three methods per seed**, on the same training draw:
# 1. *GD-BN*: the non-convex two-layer BN network (`Linear -> BatchNorm1d -> ReLU -> Linear`, width 100, the
#    objective of §1.1 with $\beta=10^{-2}$), full-batch GD from PyTorch's default initialization;
# 2. *whitened convex optimum*: the global optimum of the BN training problem; with $n\le d$ it is the closed form
#    of §2 (per output column);
# 3. *truncated convex*: the convex program on $U'_k$ with sampled hyperplane patterns plus the label patterns.
#
# **Two tasks.** (a) a class pair (C4: n = 300, 5 seeds); (b) 10-class one-vs-all (C5), smaller: the
# convex side is $C$ independent scalar programs sharing one set of sampled patterns (one group per
# (pattern, class), the lab practice of §4), the BN network is one network with $C$ outputs.
#
# **Checks** (verdict version 2). The abstract's sentence "mimicking and substantially improving" makes two
# statements; they are two parts of the claim, judged apart (in v1 "improves" was a set of non-essential checks,
# which is why the claim read `partial` when only "mimics" held; now each is a part with its own status):
# - *claim, part `mimics`* (both tasks): the truncated program recovers the accuracy the whitened optimum
#   loses, i.e. it is far above the whitened optimum and within a stated margin of GD-BN (mean paired differences
#   over seeds, decided on their 95% t intervals);
# - *claim, part `improves`* (both tasks): the truncated program beats GD-BN: the mean paired difference over seeds
#   is above 0 on its 90% t interval, exactly v1's one-sided paired t-test at $p<0.05$ (v1's point-mean check and its
#   test are this one check now).
#
# So the status reads: **reproduced** = both parts; **partial** = one reproduced, the other not; **not-reproduced**
# = neither reproduced, one failed; **inconclusive** = neither decided (few seeds give wide intervals). The paper notes'
# preliminary runs (section 3) suggest "improves" will not reproduce. No sanity, regime or control checks: the
# three methods' accuracies are the measurement itself.

# %% tags=["parameters"]
claim_id = "ergen2022/convex-implicit-reg"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3, 4]
threads = 2
strict_data = False
beta = 0.01
width = 100
gd_lr = 0.0003
gd_steps = 1500
pair_train_per_class = 150
pair_val_per_class = 100
pair_test_per_class = 1000
k_grid = [5, 10, 25, 50]
pattern_samples = 100
ova_seeds = [0, 1, 2]
ova_train_per_class = 20
ova_val_per_class = 20
ova_test_per_class = 100
ova_k_grid = [10, 25]
ova_pattern_samples = 20
solver_tol = 1e-06

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch

from bnrepro import claims
from bnrepro.data import real
from bnrepro.ergen2022 import tasks

verdict = claims.open(
    claim_id,
    statement=(
        "Abstract-level claim, checked through the paper notes' derived formulation (the paper's body was not available): "
        "encoding GD's implicit bias explicitly in the convex BN program (truncated whitening to the top-k singular "
        "directions, k chosen on a validation split) mimics the GD-trained BN network (part 'mimics': within 0.03 "
        "of GD-BN's mean test accuracy and at least 0.05 above the whitened convex optimum, on a class pair and on "
        "10-class one-vs-all) and substantially improves on it (part 'improves': mean paired difference above GD-BN "
        "on its 90% interval over seeds, i.e. a one-sided paired t-test p < 0.05). 'reproduced' = both parts, "
        "'partial' = one of them."
    ),
    source="Abstract; §§3, 4 and 6 (C4, C5)",
    evidence="abstract",
    stand_ins=[
        "formulation: BN scaling and the whitened convex program derived here, not the paper's",
        "the encoding of GD's bias: truncated whitening to the top-k singular directions, k on a validation split "
        "(ours; the paper's encoding is unknown)",
        f"network/budget: full-batch GD-BN, width {width}, lr {gd_lr}, {gd_steps} steps, instead of the abstract's "
        "SGD-trained networks (ours)",
        f"tasks: small subsets (pair n = {2 * pair_train_per_class}, 10-class n = {10 * ova_train_per_class}) and "
        "sampled hyperplane patterns (ours)",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
torch.set_num_threads(1)  # GD's small matmuls run faster on one thread; `threads` processes share the convex solves
ds = real.load("cifar10", strict=strict_data)
verdict.use_dataset(ds)
pair = tasks.DEFAULT_PAIRS[ds.used]
solver_options = {"tol_gap_abs": solver_tol, "tol_gap_rel": solver_tol, "tol_feas": solver_tol}
print(f"data: requested cifar10, used {ds.used}" + (" (SUBSTITUTED: CIFAR-10 not available)" if ds.substituted else ""))
print(f"pair {pair}: {2 * pair_train_per_class} train / {2 * pair_val_per_class} val / "
      f"{2 * pair_test_per_class} test per seed, seeds {seeds}")
print(f"10-class one-vs-all: {10 * ova_train_per_class} train / {10 * ova_val_per_class} val / "
      f"{10 * ova_test_per_class} test, seeds {ova_seeds}")
print(f"beta={beta}; GD-BN width {width}, lr {gd_lr}, {gd_steps} full-batch steps; convex: k in {k_grid} (pair), "
      f"{ova_k_grid} (10-class), {pattern_samples} / {ova_pattern_samples} Gaussian pattern samples + label patterns; "
      f"Clarabel tolerance {solver_tol}")

# %% [markdown]
# ## The three methods
#
# One library call per task (`tasks.three_methods`). The whitening is computed once per seed; the patterns are
# sampled once per (seed, k) from a generator seeded by (seed, k), and for 10 classes shared by the C scalar programs
# (each adds its own label patterns $1[y_c>0]$, $1[y_c<0]$, all-ones). The (seed, k) programs are independent jobs,
# solved `threads` at a time in separate processes (the results do not depend on that). $k^*$ is the grid value with
# the best validation accuracy (ties: the smallest $k$). Solve and training times go to the run record, not the
# notebook.
#
# **GD step size** (a pilot, not tuned on test accuracy). With the sum-of-squares objective the output layer's
# curvature is about $\lambda_{\max}(H^\top H)\approx mn/4$ for the ReLU-BN features $H$ ($n=300$, $m=100$), so GD
# is stable only below about $2/\lambda_{\max}\approx3\times10^{-4}$. In a pilot (pair task, seeds 0-4, 1500 steps)
# lr $3\times10^{-3}$ diverged on every seed and $10^{-3}$ on one; $10^{-4}$, $2\times10^{-4}$ and $3\times10^{-4}$
# (seeds 0, 1) trained without diverging, with test accuracy 0.81-0.83 for all three; we use the largest,
# $3\times10^{-4}$ (the paper notes' "lr 0.05" is for a mean loss: $0.05/n\approx1.7\times10^{-4}$ here). "Stable" means
# no divergence and an objective falling by more than an order of magnitude; BN's scale-invariant layer still
# shows transient increases of the objective in the first steps, as usual for GD near its stability edge.
# GD is run for a fixed number of steps: it is GD's *finite-time* bias that is being encoded (§3), so
# GD-BN is not expected to reach the convex optimum $p^*$; its final objective is reported beside $p^*$.

# %% [markdown]
# ## Task (a): the class pair

# %%
t0 = time.perf_counter()
pair_res = tasks.three_methods("pair", ds, pair, (pair_train_per_class, pair_val_per_class, pair_test_per_class), seeds,
                               k_grid, pattern_samples, beta=beta, width=width, gd_lr=gd_lr, gd_steps=gd_steps,
                               solver_options=solver_options, threads=verdict.threads, device=verdict.device,
                               timing=verdict.timing)
verdict.timing("pair task total", time.perf_counter() - t0)

# %% [markdown]
# ## Task (b): 10-class one-vs-all
#
# Smaller than the pair task, and with a two-value $k$ grid and fewer patterns: every $(seed, k)$ costs $C=10$
# convex solves (the budget argument is in "Deviations").

# %%
t0 = time.perf_counter()
ova_res = tasks.three_methods("10-class", ds, None, (ova_train_per_class, ova_val_per_class, ova_test_per_class),
                              ova_seeds, ova_k_grid, ova_pattern_samples, beta=beta, width=width, gd_lr=gd_lr,
                              gd_steps=gd_steps, solver_options=solver_options, threads=verdict.threads,
                              device=verdict.device, timing=verdict.timing)
verdict.timing("10-class task total", time.perf_counter() - t0)

# %% [markdown]
# ## Checks
#
# All comparisons are of **means over seeds of paired differences** of test accuracy (the methods share each seed's
# data draw), per task, decided on the t interval of the mean.
#
# **Part `mimics`** (95% intervals).
# - *Far above the whitened optimum*: mean acc(truncated) $-$ mean acc(whitened) $\ge0.05$. Five points is well
#   beyond the seed-to-seed noise of a 2000-image test set (binomial s.e. about 0.009 per seed, smaller for the mean)
#   and about a third to a half of the gap the paper notes' preliminary runs saw between GD-BN and the whitened optimum
#   (13-20 points): truncation must recover a substantial part of that gap, not a rounding error.
# - *Within a margin of GD-BN*: mean acc(truncated) $\ge$ mean acc(GD-BN) $-0.03$. "Mimicking" a network cannot mean
#   equality of accuracies between a convex program on sampled patterns and a non-convex network; three points is
#   the paper notes' suggested margin (section 6, C4), below the 13-20 point gap that separates the whitened optimum from
#   GD-BN, so passing it means the truncated program sits with GD-BN, not with the whitened optimum.
#
# The 10-class task's checks belong to the part too: the claim is about CIFAR classification in general, and C5
# asks for the same relative criteria there. Its smaller scale is a deviation, stated below.
#
# **Part `improves`.** mean acc(truncated) $-$ acc(GD-BN) $>0$, decided on the 90% t interval of the paired
# differences: its lower end is above 0 exactly when v1's one-sided paired t-test gives $p<0.05$ (v1 checked the
# point mean and the test separately, both non-essential; the interval does both, and a seed-constant difference
# needs no special case). With 5 (pair) and 3 (10-class) seeds the interval is wide, so an `undecided` means "not
# shown at this scale", and an interval wholly below 0 means the claim's direction does not hold here.

# %%
results = {"pair": pair_res, "10-class": ova_res}
for name, r in results.items():
    print(f"{name}: mean test accuracy GD-BN {r['gd'].mean():.4f}, whitened {r['white'].mean():.4f}, "
          f"truncated {r['trunc'].mean():.4f}; k* per seed {r['k_star'].tolist()}")
    verdict.check(f"{name}: mean acc(truncated) - acc(whitened optimum), paired", r["trunc"] - r["white"], ">=", 0.05,
                  kind="claim", part="mimics", aggregate="mean")
    verdict.check(f"{name}: mean acc(truncated) - acc(GD-BN), paired (margin 0.03)", r["trunc"] - r["gd"], ">=", -0.03,
                  kind="claim", part="mimics", aggregate="mean")
for name, r in results.items():
    verdict.check(f"{name}: mean acc(truncated) - acc(GD-BN), paired (90% interval = one-sided paired t-test p < 0.05)",
                  r["trunc"] - r["gd"], ">", 0, kind="claim", part="improves", aggregate="mean", confidence=0.90)
    for key, label in [("gd", "GD-BN"), ("white", "whitened optimum"), ("trunc", "truncated convex")]:
        verdict.measure(f"{name}: mean test accuracy, {label}", r[key].mean())
    verdict.measure(f"{name}: mean GD-BN final objective", r["gd_obj"].mean())
    verdict.measure(f"{name}: mean whitened optimum p*", r["p_star"].mean())
    for k, a in zip(k_grid if name == "pair" else ova_k_grid, r["test"].mean(axis=0), strict=True):
        verdict.measure(f"{name}: mean test accuracy, truncated k={k} (oracle, not selected)", a)

# %% [markdown]
# ## Figure 1: test accuracy against the truncation level $k$
#
# Thin lines: each seed's test accuracy of the truncated program at every $k$ of the grid (the circle marks the
# $k^*$ chosen on the validation split); thick line: the mean. Horizontal bands: GD-BN and the whitened
# optimum (mean, and the seeds' range). $k=r$ (the full rank $n-1$) would be the whitened optimum itself.

# %%
palette = sns.color_palette(n_colors=3)
colour = {"gd": palette[0], "white": palette[1], "trunc": palette[2]}
fig, axes = plt.subplots(1, 2, figsize=(12, 4.3))
for ax, (name, r), grid in zip(axes, results.items(), [k_grid, ova_k_grid], strict=True):
    for s in range(len(r["trunc"])):
        ax.plot(grid, r["test"][s], color=colour["trunc"], lw=0.8, alpha=0.5)
        ax.plot(r["k_star"][s], r["trunc"][s], "o", color=colour["trunc"], mfc="none", ms=7)
    ax.plot(grid, r["test"].mean(axis=0), color=colour["trunc"], lw=2.5, marker="s", label="truncated convex (mean)")
    for key, label in [("gd", "GD-BN"), ("white", "whitened optimum")]:
        ax.axhline(r[key].mean(), color=colour[key], lw=2, label=f"{label} (mean)")
        ax.axhspan(r[key].min(), r[key].max(), color=colour[key], alpha=0.15)
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(grid, [str(k) for k in grid])
    ax.set(xlabel="truncation level k (top-k whitened directions)", ylabel="test accuracy",
           title=f"{name}: {' vs '.join(pair) if name == 'pair' else '10 classes, one-vs-all'} ({ds.used})")
axes[0].legend(loc="lower right")
verdict.figure(fig, "accuracy-vs-k")
plt.show()

# %% [markdown]
# ## Figure 2: the three methods, with the seeds' spread
#
# Bars: mean test accuracy; dots: the seeds (spread sideways deterministically); whiskers: min to max.

# %%
methods = [("gd", "GD-BN"), ("white", "whitened\nconvex optimum"), ("trunc", "truncated\nconvex (k*)")]
fig, axes = plt.subplots(1, 2, figsize=(11, 4.3))
for ax, (name, r) in zip(axes, results.items(), strict=True):
    for i, (key, _label) in enumerate(methods):
        values = r[key]
        ax.bar(i, values.mean(), color=colour[key], alpha=0.7, width=0.6)
        ax.errorbar(i, values.mean(), yerr=[[values.mean() - values.min()], [values.max() - values.mean()]],
                    color="black", capsize=5)
        ax.scatter(i + np.linspace(-0.15, 0.15, len(values)), values, color="black", s=14, zorder=3)
    ax.set_xticks(range(len(methods)), [label for _, label in methods])
    low = min(r[key].min() for key, _ in methods)
    ax.set_ylim(max(0.0, low - 0.1), 1.0)
    ax.set(ylabel="test accuracy", title=f"{name} ({ds.used}, {len(r['gd'])} seeds)")
verdict.figure(fig, "methods")
plt.show()

# %% [markdown]
# ## Deviations from the paper

# %%
verdict.deviation(
    "The paper's body was not available (`docs/papers/ergen2022.md`, 'What of the paper could be read'): this verdict checks "
    "the abstract-level claim through the paper notes' derived formulation (BN scaling, whitened convex program, truncation "
    "as the encoding), not the paper's theorems, encoding, experimental setup or numbers, none of which could be read."
)
if ds.substituted:
    verdict.deviation(
        f"CIFAR-10 was requested but could not be had offline; the data-policy fallback used {ds.used} instead "
        f"(pair {pair[0]} vs {pair[1]}; 10-class one-vs-all on its 10 classes). Reason: {ds.reason}"
    )
verdict.deviation(
    "The paper's encoding is unknown (§3, not verified); we test truncated whitening to the top-k singular "
    f"directions with k in {k_grid} (pair) and {ova_k_grid} (10-class) chosen on a validation split. The weighted "
    "family Lambda = (sigma_1/sigma_j)^p of `docs/papers/ergen2022.md` was not run (budget)."
)
verdict.deviation(
    "The baseline is full-batch GD (the paper notes' 'GD provides an algorithmic bias'), not the SGD of the abstract's "
    f"experiments: width {width}, PyTorch default initialization, lr {gd_lr} (stable-step pilot, see the markdown), "
    f"{gd_steps} steps, objective of §1.1 with beta = {beta}; BN at test time uses the training-batch statistics."
)
verdict.deviation(
    f"Small subsets instead of the paper's (unknown, probably full) CIFAR sets: pair n = {2 * pair_train_per_class} "
    f"({len(seeds)} seeds), 10-class n = {10 * ova_train_per_class} ({len(ova_seeds)} seeds), so that the whitened "
    "optimum has its closed form (n <= d) and the interior-point solves fit the budget."
)
verdict.deviation(
    f"Sampled hyperplane patterns ({pattern_samples} Gaussian draws for the pair, {ova_pattern_samples} for 10 classes, "
    "plus the label patterns) instead of all: the truncated program is solved over a subset of its patterns "
    "(an upper bound on its optimum; every solution is a realizable BN network on the truncated data). The pair "
    "uses the paper notes' P ~ 100; fewer patterns restrict the truncated model further and can move its accuracy by a "
    "few points at this n, so the pattern count was not cut to save time (it dominates the run time: a Clarabel "
    f"solve at n = 300, k = 50, P ~ 100 takes tens of seconds). Clarabel tolerances {solver_tol} (accuracy "
    "comparisons, not equivalence checks)."
)
verdict.deviation(
    "10-class task, reduced to fit the budget (each (seed, k) costs 10 solves): n = "
    f"{10 * ova_train_per_class}, {len(ova_seeds)} seeds, k grid {ova_k_grid}, {ova_pattern_samples} sampled "
    "patterns. The convex side is 10 independent scalar one-vs-all programs sharing the sampled patterns (one group "
    "per (pattern, class)); the GD-BN side is one network with 10 outputs; prediction by the largest output."
)
if scale != "paper":
    verdict.deviation(f"Scale '{scale}': a smoke-test size; the verdict rests on the paper scale.")
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict
#
# Part `mimics` and part `improves`: **reproduced** means both held, **partial** means one held and the other did not.

# %%
verdict.finish()
