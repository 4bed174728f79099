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
# # luo2019/generalization: in a teacher-student model, BN generalizes better than WN, and behaves like WN + gamma decay
#
# > "Third, generalization of BN is explored by using statistical mechanics."
# > (Luo, Wang, Shao & Peng, "Towards understanding regularization in batch normalization", ICLR 2019, abstract;
# > the same abstract opens with "BN improves both convergence and generalization" and decomposes BN into
# > "population normalization (PN) and gamma decay as an explicit regularization")
#
# **Source availability.** Only the abstract, the start of §1 and Eq. (1) of the paper could be read (see
# `docs/papers/luo2019.md`). Its statistical-mechanics analysis (order parameters, $\varepsilon_{\rm gen}(\alpha)$
# curves) is not available to us; this notebook tests the abstract-level consequence by simulation, not the paper's
# replica calculation, theorems or numbers. Every definition below is ours and is listed as a stand-in.
#
# **Consequence tested.** If BN's regularization is PN plus a gamma decay $\zeta\gamma^2$ ($\zeta\propto1/M$), then
# in a teacher-student perceptron, in the sample-limited regime where regularization matters, (1) BN generalizes
# better than weight normalization (WN = PN for whitened input), (2) WN with the *explicit* gamma decay does too,
# (3) and recovers at least half of BN's gain, and (4) BN and WN + gamma decay generalize alike (two-sided).
#
# **What we run.** Teacher $y=\mathrm{relu}(w^{*\top}x/\sqrt d)+0.5\,\varepsilon$, $x\sim N(0,I_d)$, $d=100$, training
# sets of $P=\alpha d$ samples (nested across $\alpha$); single ReLU students trained by plain SGD at $M=8$ for the
# same number of steps at every $\alpha$: plain ($w^\top x+\beta$), WN ($\gamma w^\top x/\|w\|+\beta$), WN + $\zeta\gamma^2$
# ($\zeta$ computed on each mini-batch from our second-order derivation, stop-gradient; see luo2019/pn-gamma-decay)
# and BN (batch statistics in training, its training set's population statistics at test). All students of a
# seed start from the same $w_0$ and see the same mini-batches, so every comparison is paired per seed.
# $\varepsilon_{\rm gen}$ = MSE against the noise-free teacher on fresh test inputs.
#
# **The regime (redesign).** Version 1 checked $\alpha\in\{1,2,4\}$ at 200 epochs. A rerun found every student at
# $\alpha\le2$ with $\varepsilon_{\rm gen}\approx0.49$–$0.59$, worse than a constant predictor
# ($\mathrm{Var}\,\mathrm{relu}(N(0,1))=\tfrac12-\tfrac1{2\pi}\approx0.34$): those students fit the label noise and
# learn nothing usable, and a "regularizer wins" there says only which student is closer to a constant. The claim
# is about a student that generalizes. We therefore check it at $\alpha\in\{4,8\}$ (`checked_alphas`) and *require*,
# as `regime` checks, that every normalized student there beats the best constant predictor (the test set's own
# mean teacher output, per seed). At these ratios the unregularized WN student still overfits (its error at
# $\alpha=4$ is several times its error at $\alpha=8$), so a regularizer has something to do. $\alpha\in\{1,2\}$
# (`reported_alphas`) are still run, on fewer seeds, and reported as measurements: they keep visible what version 1
# found there, including that WN + gamma decay beat BN by about 2x at $\alpha=1$.
#
# Training length: a fixed 5000 SGD steps at every $\alpha$ (version 1: 200 epochs, i.e. a step count growing with
# $P$; at $\alpha=2$ both are 5000 steps), so that every $\alpha$ gets the same SGD time. In a pilot (seeds
# $\ge5\,000\,000$) the errors at $\alpha=8$ had nearly settled by then (WN 0.042 after 2000 steps, 0.046 after
# 5000), while at $\alpha=4$ WN keeps overfitting slowly (0.117 to 0.148). No early stopping is used: the claim is
# about trained students, and stopping early would be a regularizer of its own.
#
# **Checks** (pre-registered before the paper-scale run; each on the paired per-seed values, decided by the 95 %
# t interval of their mean), at every $\alpha$ in `checked_alphas`:
# - *regime*: $\varepsilon_{\rm gen}(\text{student})-\varepsilon_{\rm const}<0$ for WN, WN + GD and BN.
# - *claim*, part `bn-beats-wn`: $\varepsilon_{\rm gen}(\mathrm{BN})-\varepsilon_{\rm gen}(\mathrm{WN})<0$.
# - *claim*, part `gd-beats-wn`: $\varepsilon_{\rm gen}(\mathrm{WN{+}GD})-\varepsilon_{\rm gen}(\mathrm{WN})<0$.
# - *claim*, part `gd-half-of-bn`: $(\varepsilon_{WN}-\varepsilon_{WN+GD})-\tfrac12(\varepsilon_{WN}-\varepsilon_{BN})\ge0$: the explicit
#   gamma decay accounts for at least half of BN's gain (version 1's criterion, one-sided).
# - *claim*, part `bn-equals-wn-plus-gd` (new, two-sided): two one-sided tests (TOST) of the per-seed
#   $(\varepsilon_{WN+GD}-\varepsilon_{BN})/\varepsilon_{WN}$ against $\pm$`equivalence_margin` = $\pm0.1$: its interval must lie above
#   $-0.1$ and below $+0.1$ (each side at 95 %, so the pair is a TOST at level 2.5 %). The margin: BN = PN + gamma
#   decay is a second-order expansion, and our explicit $\zeta$ is its stop-gradient, per-batch estimate, so exact
#   equality is not expected; 10 % of WN's error is below BN's own gain over WN at $\alpha=4$ in the pilot (about
#   25 %), so a student as far from BN as WN is would fail it, and 256 seeds resolve it (pilot standard error of
#   the ratio about 0.01). It can fail either way: WN + GD better than BN (as at $\alpha\le2$) or worse.
#
# The win-fraction checks of version 1 (at least 75 % of 8 seeds) are gone: an exact interval on 8 seeds cannot
# certify 0.75 (8/8 gives [0.63, 1]); the fractions of paired wins are reported as measurements.
#
# **Seeds.** 256 seeds at the checked ratios and 64 at the reported ones (disjoint seed lists). The pilot (seeds
# $\ge5\,000\,000$, 128 seeds, this set-up) informed the count: at $\alpha=4$ the paired differences are 10-20
# standard errors from 0, at $\alpha=8$ BN - WN was $+0.0011\pm0.0006$ (1.8 standard errors at 128 seeds), so 256
# seeds are needed to decide it if that value holds.

# %% tags=["parameters"]
claim_id = "luo2019/generalization"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3, 4, 5, 6, 7]
reported_seeds = [8, 9, 10, 11]
threads = 1
d = 100
checked_alphas = [4.0, 8.0]
reported_alphas = [1.0, 2.0]
noise = 0.5
batch_size = 8
steps = 5000
lr = 0.02
w0_scale = 1.0
test_samples = 1000
equivalence_margin = 0.1
min_gd_share = 0.5

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from bnrepro import claims
from bnrepro import stats
from bnrepro.luo2019 import neuron

verdict = claims.open(
    claim_id,
    statement=(
        "Abstract-level claim checked through a derived formulation (the paper's body and its statistical-"
        "mechanics analysis could not be read): in a teacher-student ReLU perceptron, at sample ratios where the "
        "students generalize (beat a constant predictor) but still overfit, BN and weight normalization with "
        "explicit gamma decay both generalize better than weight normalization alone, the explicit gamma decay "
        "recovers at least half of BN's gain, and BN and WN + gamma decay generalize alike (within 10% of WN's error)."
    ),
    source="Abstract (BN improves generalization; BN = PN + gamma decay; generalization via statistical mechanics)",
    evidence="abstract",
    stand_ins=[
        "method: SGD simulation of a teacher-student ReLU perceptron at d = 100 instead of the paper's "
        "statistical-mechanics analysis (ours)",
        "data: teacher y = relu(w*^T x / sqrt d) + 0.5 eps, x ~ N(0, I_d), nested training sets P = alpha d (ours)",
        "regime: sample ratios alpha in {4, 8}, where every normalized student beats the best constant predictor "
        "(ours; alpha <= 2 is reported only)",
        "training: plain SGD, M = 8, lr 0.02, 5000 steps at every alpha, no early stopping (ours)",
        "explicit gamma decay: zeta from each mini-batch as in our second-order derivation (luo2019/pn-gamma-decay), "
        "stop-gradient",
        "generalization error: MSE against the noise-free teacher on fresh inputs (ours)",
        "equivalence margin: 10% of WN's generalization error (ours, argued in the notebook)",
    ],
    scale=scale, seeds=seeds + reported_seeds, threads=threads, seed_offset=seed_offset,
)
print(f"d={d}, checked alpha={checked_alphas} on {len(seeds)} seeds, reported alpha={reported_alphas} on "
      f"{len(reported_seeds)} seeds; M={batch_size}, {steps} SGD steps, lr={lr}; torch float64 on {verdict.device}")

# %% [markdown]
# ## Train all students (kinds x seeds, one batched run per alpha)

# %%
options = dict(noise=noise, batch_size=batch_size, steps=steps, lr=lr, n_test=test_samples, w0_scale=w0_scale,
               device=verdict.device)
started = time.perf_counter()
checked = neuron.generalization(seeds, d, checked_alphas, **options)
verdict.timing("SGD, checked alphas", time.perf_counter() - started)
started = time.perf_counter()
reported = neuron.generalization(reported_seeds, d, reported_alphas, **options)
verdict.timing("SGD, reported alphas", time.perf_counter() - started)
kinds = list(neuron.KINDS)  # plain, wn, wn+gd, bn
K = {k: i for i, k in enumerate(kinds)}
print("mean eps_gen (columns: " + ", ".join(kinds) + ", best constant)")
for res, label in ((reported, "reported"), (checked, "checked")):
    for a, alpha in enumerate(res.alphas):
        means = res.error[:, a].mean(1)
        print(f"  alpha={alpha:<4} ({label}, {len(res.seeds)} seeds)", np.array2string(means, precision=4),
              f"{res.constant_error.mean():.4f}", "  final gamma:", np.array2string(res.gamma[:, a].mean(1), precision=3))
        for k in kinds:
            verdict.measure(f"mean eps_gen {k}, alpha={alpha}", res.error[K[k], a].mean())
    verdict.measure(f"mean eps_gen of the best constant ({label} seeds)", res.constant_error.mean())

# %% [markdown]
# ## Out of regime ($\alpha\le2$): what version 1 measured, kept visible
#
# The students do worse than a constant predictor here; the paired differences below (mean and 95 % t interval)
# are reported, not checked. Version 1's contrary finding was that WN + gamma decay beat BN by about 2x at
# $\alpha=1$, which sits badly with "BN = PN + gamma decay".

# %%
for a, alpha in enumerate(reported.alphas):
    e = {k: reported.error[K[k], a] for k in kinds}
    for name, values in (
        ("eps_gen(WN) - best constant", e["wn"] - reported.constant_error),
        ("eps_gen(BN) - eps_gen(WN)", e["bn"] - e["wn"]),
        ("eps_gen(WN+GD) - eps_gen(WN)", e["wn+gd"] - e["wn"]),
        ("eps_gen(WN+GD) - eps_gen(BN)", e["wn+gd"] - e["bn"]),
    ):
        low, high = stats.t_interval(values)
        print(f"alpha={alpha}: {name}: {values.mean():+.4f} [{low:+.4f}, {high:+.4f}]")
        verdict.measure(f"alpha={alpha} (out of regime): mean {name}", values.mean())
        verdict.measure(f"alpha={alpha} (out of regime): mean {name}, 95% interval low", low)
        verdict.measure(f"alpha={alpha} (out of regime): mean {name}, 95% interval high", high)
    verdict.measure(f"alpha={alpha} (out of regime): eps_gen(BN) / eps_gen(WN+GD), seed means", e["bn"].mean() / e["wn+gd"].mean())
    verdict.measure(f"alpha={alpha} (out of regime): fraction of seeds where BN beats WN", np.mean(e["bn"] < e["wn"]))

# %% [markdown]
# ## Checks at the checked sample ratios

# %%
for a, alpha in enumerate(checked.alphas):
    e_wn, e_gd, e_bn = (checked.error[K[k], a] for k in ("wn", "wn+gd", "bn"))  # per seed, paired
    for k in ("wn", "wn+gd", "bn"):
        verdict.check(f"alpha={alpha}: mean eps_gen({k}) - eps_gen(best constant)", checked.error[K[k], a] - checked.constant_error,
                      "<", 0, kind="regime", aggregate="mean")
    verdict.check(f"alpha={alpha}: mean eps_gen(BN) - eps_gen(WN)", e_bn - e_wn, "<", 0,
                  kind="claim", part="bn-beats-wn", aggregate="mean")
    verdict.check(f"alpha={alpha}: mean eps_gen(WN+GD) - eps_gen(WN)", e_gd - e_wn, "<", 0,
                  kind="claim", part="gd-beats-wn", aggregate="mean")
    verdict.check(f"alpha={alpha}: mean (eps_WN - eps_WN+GD) - {min_gd_share} (eps_WN - eps_BN)",
                  (e_wn - e_gd) - min_gd_share * (e_wn - e_bn), ">=", 0, kind="claim", part="gd-half-of-bn", aggregate="mean")
    relative_gap = (e_gd - e_bn) / e_wn
    verdict.check(f"alpha={alpha}: mean (eps_WN+GD - eps_BN) / eps_WN, lower side", relative_gap, ">", -equivalence_margin,
                  kind="claim", part="bn-equals-wn-plus-gd", aggregate="mean")
    verdict.check(f"alpha={alpha}: mean (eps_WN+GD - eps_BN) / eps_WN, upper side", relative_gap, "<", equivalence_margin,
                  kind="claim", part="bn-equals-wn-plus-gd", aggregate="mean")
    verdict.measure(f"alpha={alpha}: mean (eps_WN - eps_BN) / eps_WN (BN's relative gain)", ((e_wn - e_bn) / e_wn).mean())
    verdict.measure(f"alpha={alpha}: fraction of seeds where BN beats WN", np.mean(e_bn < e_wn))
    verdict.measure(f"alpha={alpha}: fraction of seeds where WN+GD beats WN", np.mean(e_gd < e_wn))
for check in verdict.checks:
    print(check)

# %% [markdown]
# ## Figure: generalization error against the sample ratio $\alpha$
#
# Left: mean $\varepsilon_{\rm gen}(\alpha)$ with ±1 standard error over seeds; dashed: the best constant predictor;
# shaded: the ratios outside the regime (reported only). Right: the learned $\gamma$ (gamma decay shrinks it).

# %%
fig, (ax, ax_g) = plt.subplots(1, 2, figsize=(12, 4.4))
palette = dict(zip(kinds, sns.color_palette(n_colors=len(kinds))))
labels = {"plain": "plain", "wn": "WN", "wn+gd": r"WN + $\zeta\gamma^2$", "bn": f"BN (M={batch_size})"}
all_alphas = reported.alphas + checked.alphas
for k in kinds:
    errs = [reported.error[K[k], a] for a in range(len(reported.alphas))] + [checked.error[K[k], a] for a in range(len(checked.alphas))]
    mean = [e.mean() for e in errs]
    se = [e.std(ddof=1) / np.sqrt(e.size) for e in errs]
    ax.errorbar(all_alphas, mean, yerr=se, marker="o", capsize=3, color=palette[k], label=labels[k])
    if k != "plain":
        ax_g.plot(all_alphas, [g.mean() for g in [*reported.gamma[K[k]], *checked.gamma[K[k]]]], "o-", color=palette[k], label=labels[k])
ax.axhline(checked.constant_error.mean(), color="0.4", ls="--", label="best constant")
ax.axvspan(min(all_alphas) / 1.2, max(reported.alphas) * 1.2, color="0.92", zorder=0)
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set(xlabel=r"sample ratio $\alpha=P/d$", ylabel=r"$\varepsilon_{\rm gen}$ (test MSE vs noise-free teacher)",
       title=f"d={d}, noise={noise}, {steps} steps; {len(seeds)} / {len(reported_seeds)} seeds")
ax.legend()
ax_g.set_xscale("log", base=2)
ax_g.set(xlabel=r"sample ratio $\alpha$", ylabel=r"final $\gamma$ (seed mean)", title="learned scale")
ax_g.legend()
verdict.figure(fig, "generalization-vs-alpha")
plt.show()

# %% [markdown]
# ## Deviations from the paper

# %%
verdict.deviation(
    "The paper's body could not be read: only the abstract and Eq. (1) are verified; its statistical-mechanics "
    "analysis is not available. This verdict tests the abstract-level consequence by simulation (finite d, SGD), "
    "not the paper's calculation, theorems or numbers."
)
verdict.deviation(
    "Set-up (d, alphas, noise, M, steps, lr, initialization w0 ~ N(0, I/d), nested training sets, BN's test-time "
    "statistics from its own training set) is ours. A pilot on seeds >= 5,000,000 informed the checked alphas "
    "(where the students beat a constant predictor), the fixed step count and the seed counts."
)
verdict.deviation(
    "The explicit gamma decay uses zeta from each mini-batch (u = w^T x/||w||, l'' = 1[z > 0], kappa = batch mean "
    "of u^4, divided by the batch size), under stop-gradient; the paper's own form of the regularizer is not known."
)
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
