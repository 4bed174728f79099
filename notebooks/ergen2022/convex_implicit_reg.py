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
# **Source caveat.** The paper's body could not be obtained (`docs/papers/ergen2022.md`, "What of the paper could
# be read"): its encoding, its CIFAR setup and its numbers are unknown. This notebook checks the *abstract-level*
# claim through the formulation derived in `docs/papers/ergen2022.md` (sections 1-3), not the paper's theorems or
# figures.
#
# **Model and encodings (sections 1.3 and 3 of `docs/papers/ergen2022.md`, derived).** The BN network's convex
# program sees the data only through the whitened matrix $U'=[U,\mathbf 1/\sqrt n]$ ($PX=U\Sigma V^\top$): all
# singular directions are equal to it. GD on the non-convex network moves direction $i$ at a rate
# $\propto\sigma_i^2$ and so favours the top singular directions. The explicit encodings tested here form one
# family: the same convex program on $U'_k=[U_k,\mathbf 1/\sqrt n]$ (the top-$k$ directions; **truncation**),
# optionally with the **weighted** penalty $\|\Lambda q_i\|$, $\Lambda=\mathrm{diag}((\sigma_1/\sigma_j)^p,\,1)$
# (section 3's weighted family; $p=0$ is plain truncation, $k=r$ with every pattern is the whitened optimum).
# One member is selected per seed on a validation split: that is "the explicit regularization". Test rows go
# through BN with the training-batch statistics: $[(x-\mu)V_k\Sigma_k^{-1},1/\sqrt n]$.
#
# **Three methods per seed**, on the same training draw (a class pair, $n=200$):
# 1. *GD-BN*: the non-convex two-layer BN network (`Linear -> BatchNorm1d -> ReLU -> Linear`, width 100, the
#    objective of section 1.1 with $\beta=10^{-2}$), full-batch GD from PyTorch's default initialization;
# 2. *whitened convex optimum*: the global optimum of the BN training problem; with $n\le d$ it is the closed form
#    of section 2 (it is also the family's member $k=r$);
# 3. *encoded convex*: the validated member of the family (sampled hyperplane patterns plus the label patterns).
#
# **Parts.** The abstract's "mimicking and substantially improving" makes two statements, judged apart:
# `mimics` (the encoded program behaves like GD-BN, not like the whitened optimum) and `improves` (it beats
# GD-BN by a meaningful margin). **reproduced** = both parts; **partial** = one reproduced, the other not.
#
# **Pre-registration.** Written and committed before the first paper-scale run (see `docs/runs/` for the
# commit). A pilot on seeds 5000001-5000002 (never the registry's or the replicate's) informed the design: the
# cost of the convex solves (the $k=100$ solve dominates; a weighted member at $k=50$ costs a quarter of it), that
# $k=100$ was the validated truncation on both pilot seeds (so the grid must reach past 50), that GD-BN fits its
# training set and moves its test accuracy by less than half a point between 1000 and 2000 steps, and that at
# $n=200$ the gap between GD-BN and the whitened optimum is about 8 points.

# %% tags=["parameters"]
claim_id = "ergen2022/convex-implicit-reg"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
threads = 2
strict_data = False
beta = 0.01
width = 100
gd_lr = 0.0003
gd_steps = 2000
train_per_class = 100
val_per_class = 100
test_per_class = 1000
k_grid = [10, 25, 50, 100]
weighted_k = 50
weighted_powers = [1.0]
pattern_samples = 20
solver_tol = 1e-06
mimic_margin = 0.03
gap_fraction = 0.5
improve_margin = 0.01
convergence_margin = 0.01
fit_floor = 0.99

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch

from bnrepro import claims
from bnrepro.data import real, subsets
from bnrepro.ergen2022 import implicit_reg, tasks

verdict = claims.open(
    claim_id,
    statement=(
        "Abstract-level claim, checked through the derived formulation of docs/papers/ergen2022.md (the paper's body was "
        "not available): encoding GD's implicit bias explicitly in the convex BN program (a family of truncated and "
        "spectrally weighted whitenings, one member chosen per seed on a validation split) mimics the GD-trained BN "
        f"network (part 'mimics': not worse than GD-BN by more than {mimic_margin} in test accuracy, and closer to "
        "GD-BN than to the whitened convex optimum) and substantially improves on it (part 'improves': better than "
        f"GD-BN by more than {improve_margin}); paired differences over seeds, 95% t intervals."
    ),
    source="Abstract; docs/papers/ergen2022.md sections 3, 4 and 6 (C4)",
    evidence="abstract",
    stand_ins=[
        "formulation: BN scaling and the whitened convex program derived in docs/papers/ergen2022.md, not the paper's",
        f"the encoding of GD's bias: truncation to the top-k whitened directions (k in {k_grid}) and the weighted "
        f"penalty (sigma_1/sigma_j)^p on the top {weighted_k} (p in {weighted_powers}), one member per seed chosen on a "
        "validation split (ours; the paper's encoding is unknown)",
        f"network/budget: full-batch GD-BN, width {width}, lr {gd_lr}, {gd_steps} steps, instead of the abstract's "
        "SGD-trained networks (ours)",
        f"task: one class pair, n = {2 * train_per_class} training images per seed, {pattern_samples} sampled "
        "hyperplane patterns plus the label patterns (ours)",
        f"thresholds: 'mimics' = within {mimic_margin} of GD-BN and closer to GD-BN than to the whitened optimum; "
        f"'substantially' = by more than {improve_margin} (ours, argued in the notebook)",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
torch.set_num_threads(1)  # GD's small matmuls run faster on one thread; `threads` processes share the convex solves
ds = real.load("cifar10", strict=strict_data)
verdict.use_dataset(ds)
pair = tasks.DEFAULT_PAIRS[ds.used]
(train_per_class, val_per_class), test_per_class, shortfall = subsets.per_class_counts(
    ds, (train_per_class, val_per_class), test_per_class)
if shortfall:
    verdict.deviation(shortfall)
members = [implicit_reg.Member(k) for k in k_grid] + [implicit_reg.Member(weighted_k, p) for p in weighted_powers]
solver_options = {"tol_gap_abs": solver_tol, "tol_gap_rel": solver_tol, "tol_feas": solver_tol}
print(f"data: requested cifar10, used {ds.used}" + (" (SUBSTITUTED: CIFAR-10 not available)" if ds.substituted else ""))
print(f"pair {pair}: {2 * train_per_class} train / {2 * val_per_class} val / {2 * test_per_class} test per seed, "
      f"{len(seeds)} seeds")
print(f"beta={beta}; GD-BN width {width}, lr {gd_lr}, {gd_steps} full-batch steps; convex members "
      f"{[m.label for m in members]} + the whitened optimum, {pattern_samples} Gaussian pattern samples + label "
      f"patterns; Clarabel tolerance {solver_tol}")

# %% [markdown]
# ## The three methods
#
# One library call (`implicit_reg.compare`). Per seed: GD-BN is trained for `gd_steps` steps and its test accuracy
# is read after half of them too (a convergence check, below); the whitening and the whitened optimum (closed form)
# are computed; then every (seed, member) convex program runs as an independent job, `threads` at a time in
# separate processes (the results do not depend on that). Member $(k,p)$ draws its patterns from a generator
# seeded by (seed, $k$), so the truncated and weighted members at one $k$ share them. The selected member is the
# candidate with the best validation accuracy (ties: the first in the order truncations by $k$, weighted, whitened);
# "truncation only" repeats the selection without the weighted members. Times go to the run record.
#
# **GD step size** (v1's pilot, not tuned on test accuracy). With the sum-of-squares objective the output layer's
# curvature is about $\lambda_{\max}(H^\top H)\approx mn/4$ for the ReLU-BN features $H$, so GD is stable only below
# about $8/(mn)=4\times10^{-4}$ at $n=200$, $m=100$; v1's pilot found $3\times10^{-4}$ stable and chose it.
# GD runs for a fixed budget: its objective keeps falling slowly (weight decay on the BN scales), but what is
# compared is test accuracy, and the regime checks below ask that it fits the training set and that its test
# accuracy has stopped moving (half the steps against all of them).

# %%
t0 = time.perf_counter()
res = implicit_reg.compare(ds, pair, (train_per_class, val_per_class, test_per_class), seeds, members, pattern_samples,
                           beta=beta, width=width, gd_lr=gd_lr, gd_steps=gd_steps, solver_options=solver_options,
                           threads=verdict.threads, device=verdict.device, timing=verdict.timing)
verdict.timing("pair task total", time.perf_counter() - t0)
labels = res["labels"]

# %% [markdown]
# ## Checks
#
# Every comparison is a **mean over seeds of paired differences** of test accuracy (the methods share each seed's
# data draw), decided on its 95% t interval: `pass` when the whole interval is on the passing side.
#
# **Part `mimics`.** "Mimicking" a network cannot mean equal accuracy between a convex program on sampled patterns
# and a non-convex network, and its upper side (not *better* than GD-BN) would contradict the sentence's own
# "substantially improving"; so it is a non-inferiority margin plus a statement of *which* model the encoded
# program resembles:
# - *claim*: mean acc(encoded) $-$ acc(GD-BN) $\ge -0.03$ (the one-sided half of an equivalence test; 0.03 is
#   v1's margin, suggested in `docs/papers/ergen2022.md` section 6, C4, well below the GD-BN / whitened-optimum
#   gap). It fails when the encoding loses more than three points to GD-BN.
# - *claim*: mean of acc(encoded) $-$ acc(whitened) $-\frac12$(acc(GD-BN) $-$ acc(whitened)) $\ge0$: the encoded
#   program closes at least half of the gap that the whitened optimum leaves to GD-BN, i.e. it sits nearer GD-BN
#   than the whitened optimum. This replaces v1's absolute "$\ge0.05$ above the whitened optimum", whose meaning
#   depends on the size of the gap (about 8 points at $n=200$ in the pilot, 13-20 at $n=300$-$500$). It fails when
#   the encoding stays with the whitened optimum.
# - *control*: the whitened optimum itself, which encodes nothing, must *not* pass the first check: mean
#   acc(whitened) $-$ acc(GD-BN) $< -0.03$. If it did, the margin could not tell an encoding from none, and the part
#   would be inconclusive.
#
# **Part `improves`.** *claim*: mean acc(encoded) $-$ acc(GD-BN) $> 0.01$. "Substantially" is not quantified in the
# abstract; one point of accuracy is the least we would call substantial: it is the binomial standard error of one
# seed's 2000-image test accuracy and smaller than what v1's step-size pilot moved GD-BN by. It fails when the
# interval lies below 0.01 (no improvement of that size), passes when it lies above.
#
# **Regime** (our GD-BN stand-in is a trained network): GD-BN classifies its training set (worst seed $\ge0.99$),
# and its test accuracy has converged: mean acc(all steps) $-$ acc(half the steps) $\le0.01$ (if GD were still
# improving, the comparison would understate GD-BN). **Sanity**: GD-BN's objective is never below the global
# optimum $p^*$ (closed form). The selected $k$ is reported with whether it is interior to the grid (below the
# whitened $k=r$ and above the smallest $k$).
#
# **Seeds.** Ten: the pilot's paired differences (GD-BN $-$ encoded about 1-2 points, seed-to-seed spread of the
# order of 1-2 points as in v1's per-seed sd 0.016) give a 95% half-width of about 0.01 with ten seeds, enough to
# decide checks whose thresholds sit 1.5-2 points from the pilot's means. This is the smallest count the convex
# solves allow in the budget (section "Deviations"). **Raised to 20 after the first paper-scale result was seen**:
# with 10 seeds the non-inferiority check of `mimics` was undecided (its interval straddled $-0.03$; that run is
# recorded in `docs/runs/ergen2022-convex-implicit-reg.md`); no check, threshold or member was changed.

# %%
white, gd, enc = res["white"], res["gd"], res["encoded"]
verdict.check(f"mean acc(encoded) - acc(GD-BN), paired (non-inferiority margin {mimic_margin})", enc - gd, ">=",
              -mimic_margin, kind="claim", part="mimics", aggregate="mean")
verdict.check(f"mean acc(encoded) - acc(whitened) - {gap_fraction} (acc(GD-BN) - acc(whitened)), paired (closes "
              "at least half the gap)", enc - white - gap_fraction * (gd - white), ">=", 0.0, kind="claim", part="mimics",
              aggregate="mean")
verdict.check(f"control: mean acc(whitened) - acc(GD-BN), paired (the unencoded optimum is outside the margin {mimic_margin})",
              white - gd, "<", -mimic_margin, kind="control", part="mimics", aggregate="mean")
verdict.check(f"mean acc(encoded) - acc(GD-BN), paired (substantial: more than {improve_margin})", enc - gd, ">",
              improve_margin, kind="claim", part="improves", aggregate="mean")
verdict.check("GD-BN training accuracy (worst seed)", res["gd_train"], ">=", fit_floor, kind="regime", aggregate="min")
verdict.check(f"GD-BN test accuracy, {gd_steps} steps - {gd_steps // 2} steps, paired (converged)",
              res["gd"] - res["gd_half"], "<=", convergence_margin, kind="regime", aggregate="mean")
verdict.check("GD-BN objective - p* (closed form), worst seed", res["gd_obj"] - res["p_star"], ">=", 0.0, kind="sanity",
              aggregate="min")

trunc_labels = [m.label for m in members if m.power == 0] + ["whitened"]
k_star = [labels[i] for i in res["selected_trunc"]]
interior = [lab not in (trunc_labels[0], "whitened") for lab in k_star]
verdict.measure("fraction of seeds whose validated truncation k* is interior to the grid", np.mean(interior))
verdict.measure("mean acc(truncation only, validated) - acc(GD-BN)", np.mean(res["trunc"] - gd))
verdict.measure("mean acc(encoded) - acc(whitened optimum)", np.mean(enc - white))
for key, label in [("gd", "GD-BN"), ("gd_half", f"GD-BN after {gd_steps // 2} steps"), ("white", "whitened optimum"),
                   ("encoded", "encoded convex (validated member)"), ("trunc", "truncation only (validated k)")]:
    verdict.measure(f"mean test accuracy, {label}", res[key].mean())
for j, label in enumerate(labels):
    verdict.measure(f"mean test accuracy, member {label} (oracle, not selected)", res["test"][:, j].mean())
    verdict.measure(f"fraction of seeds selecting {label}", np.mean(res["selected"] == j))
verdict.measure("mean GD-BN final objective", res["gd_obj"].mean())
verdict.measure("mean whitened optimum p*", res["p_star"].mean())
print(f"selected member per seed: {[labels[i] for i in res['selected']]}")
print(f"validated truncation k* per seed: {k_star} (interior on {sum(interior)}/{len(interior)} seeds)")

# %% [markdown]
# ## Figure 1: test accuracy of every member of the family
#
# Thin lines: each seed's test accuracy for every candidate, in the selection order (circles: the selected one);
# thick line: the mean. Horizontal lines: GD-BN (mean; band: the seeds' range). The last candidate is the whitened
# optimum ($k=r$).

# %%
palette = sns.color_palette(n_colors=3)
fig, ax = plt.subplots(figsize=(9, 4.3))
x = np.arange(len(labels))
for s in range(len(gd)):
    ax.plot(x, res["test"][s], color=palette[2], lw=0.8, alpha=0.5)
    ax.plot(res["selected"][s], res["encoded"][s], "o", color=palette[2], mfc="none", ms=7)
ax.plot(x, res["test"].mean(axis=0), color=palette[2], lw=2.5, marker="s", label="convex member (mean)")
ax.axhline(gd.mean(), color=palette[0], lw=2, label="GD-BN (mean)")
ax.axhspan(gd.min(), gd.max(), color=palette[0], alpha=0.15)
ax.set_xticks(x, labels)
ax.set(xlabel="convex encoding (top-k whitened directions, weighted by (sigma_1/sigma_j)^p)", ylabel="test accuracy",
       title=f"{' vs '.join(pair)} ({ds.used}, n = {2 * train_per_class}, {len(gd)} seeds)")
ax.legend(loc="lower right")
verdict.figure(fig, "accuracy-vs-member")
plt.show()

# %% [markdown]
# ## Figure 2: the three methods, paired by seed
#
# Bars: mean test accuracy; grey lines join one seed's three values.

# %%
methods = [("gd", "GD-BN"), ("white", "whitened\nconvex optimum"), ("encoded", "encoded\nconvex (validated)")]
fig, ax = plt.subplots(figsize=(7, 4.3))
values = np.stack([res[key] for key, _ in methods], axis=1)
for i in range(len(methods)):
    ax.bar(i, values[:, i].mean(), color=palette[i], alpha=0.7, width=0.6)
for row in values:
    ax.plot(range(len(methods)), row, color="grey", lw=0.7, marker="o", ms=3)
ax.set_xticks(range(len(methods)), [label for _, label in methods])
ax.set_ylim(max(0.0, values.min() - 0.1), 1.0)
ax.set(ylabel="test accuracy", title=f"{ds.used}, {len(gd)} seeds")
verdict.figure(fig, "methods")
plt.show()

# %% [markdown]
# ## Deviations from the paper

# %%
verdict.deviation(
    "The paper's body was not available (`docs/papers/ergen2022.md`, 'What of the paper could be read'): this verdict "
    "checks the abstract-level claim through the derived formulation (BN scaling, whitened convex program, the "
    "truncated and weighted encodings), not the paper's theorems, encoding, experimental setup or numbers."
)
if ds.substituted:
    verdict.deviation(
        f"CIFAR-10 was requested but could not be had offline; the data-policy fallback used {ds.used} instead "
        f"(pair {pair[0]} vs {pair[1]}). Reason: {ds.reason}"
    )
verdict.deviation(
    "The baseline is full-batch GD (the abstract's 'Gradient Descent provides an algorithmic bias'), not the SGD of "
    f"its experiments: width {width}, PyTorch default initialization, lr {gd_lr}, {gd_steps} steps, the objective of "
    f"section 1.1 with beta = {beta}; BN at test time uses the training-batch statistics."
)
verdict.deviation(
    "Budget (the convex solves dominate; Clarabel at n = 200, k = 100 costs tens of CPU seconds): one class pair "
    f"with n = {2 * train_per_class} per seed (v1: 300) and {pattern_samples} sampled patterns plus the label patterns "
    f"(v1: 100), truncation grid {k_grid} (v1: 5, 10, 25, 50, whose top was selected on 4/5 seeds; 100 added so "
    f"that the grid reaches past the pilot's validated optimum; the whitened optimum k = r closes it), the weighted "
    f"family only at k = {weighted_k} with p in {weighted_powers} (a full-rank weighted program, k = r, costs "
    "minutes per solve). Fewer patterns restrict the convex model further: an upper bound on its optimum, every "
    "solution a realizable BN network on the truncated data."
)
verdict.deviation(
    "v1's 10-class one-vs-all task (3 seeds, n = 200, every (seed, k) costing 10 solves) is not run: it could not be "
    "decided within the budget, and the class pair carries both parts. v1's part 'mimics' check 'encoded - whitened "
    ">= 0.05' is replaced by 'closes at least half the gap' (argued in the checks' markdown); its value is still "
    "reported as a measurement."
)
verdict.deviation(
    "Changed after the paper-scale result was seen: the seed count, from 10 (pre-registered) to 20, because the 10-seed "
    "run left the non-inferiority check of part 'mimics' undecided (docs/runs/ergen2022-convex-implicit-reg.md records "
    "that run and its replicate). Checks, thresholds, members and every other setting are unchanged."
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
