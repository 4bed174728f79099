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
# # luo2019/generalization: BN, and WN with explicit gamma decay, generalize better than WN in a teacher-student model
#
# > "Third, generalization of BN is explored by using statistical mechanics."
# > (Luo, Wang, Shao & Peng, ICLR 2019, abstract; the claim that BN = PN + gamma decay is from the same abstract)
#
# **Source availability.** Only the abstract, the start of §1 and Eq. (1) of the paper could be read. The
# statistical-mechanics analysis (order parameters, $\varepsilon_{\rm gen}(\alpha)$ curves) is known only by
# recollection [U]; this notebook tests the abstract-level consequence by simulation (spec D4), not the paper's
# replica calculation, theorems or numbers.
#
# **Consequence tested.** If BN's regularisation is PN plus a gamma decay $\zeta\gamma^2$, then in a teacher-student
# perceptron BN should generalize better than weight normalization (WN = PN for whitened input), and WN with the
# *explicit* gamma decay should recover (most of) BN's gain.
#
# **What we run** (spec D4): teacher $y=\mathrm{relu}(w^{*\top}x/\sqrt d)+0.5\varepsilon$, $x\sim N(0,I_d)$, training
# sets of $P=\alpha d$ samples (nested across $\alpha$); single ReLU students trained by SGD ($M=8$, fixed epochs):
# plain ($w^\top x+\beta$), WN, WN + $\zeta\gamma^2$ ($\zeta$ from the batch as in luo2019/pn-gamma-decay, stop-gradient)
# and BN. All students at once in torch float64, with identical mini-batch sequences per (seed, $\alpha$), so the
# comparisons are paired. $\varepsilon_{\rm gen}$ = MSE against the noise-free teacher on fresh test inputs.
#
# **Checks** (verdict version 2; thresholds unchanged from version 1), at every $\alpha\ge1$, all on paired per-seed
# values:
# - *claim, part `bn-beats-wn`*: mean of the paired differences $\varepsilon_{\rm gen}$(BN) − WN below 0 (t interval), and
#   the fraction of seeds where BN wins at least 75% (6 of 8; exact binomial interval);
# - *claim, part `gd-beats-wn`*: the same for WN + gamma decay against WN;
# - *claim, part `gd-half-of-bn`*: the explicit gamma decay's gain over WN is at least half of BN's, as the mean over
#   seeds of the per-seed $(\varepsilon_{WN}-\varepsilon_{WN+GD})-\tfrac12(\varepsilon_{WN}-\varepsilon_{BN})\ge0$ (version 1: on the
#   seed means).
#
# A fraction $\ge0.75$ decided on an exact 95% interval needs more than 8 seeds: even 8 wins of 8 give $[0.63, 1]$, so
# the win-fraction checks can be `undecided` at best with this seed count (a finding of version 2, not changed here).

# %% tags=["parameters"]
claim_id = "luo2019/generalization"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3, 4, 5, 6, 7]
threads = 1
d = 100
alphas = [0.5, 1.0, 2.0, 4.0]
noise = 0.5
batch_size = 8
epochs = 200
lr = 0.02
w0_scale = 1.0
test_samples = 5000
min_win_fraction = 0.75

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from bnrepro import claims
from bnrepro.luo2019 import neuron

verdict = claims.open(
    claim_id,
    statement=(
        "Abstract-level claim checked through a derived formulation (the paper's body and its statistical-"
        "mechanics analysis could not be read): in a teacher-student ReLU perceptron, BN and weight normalization "
        "with explicit gamma decay both generalize better than weight normalization alone at every sample ratio "
        "alpha >= 1, with paired wins over seeds, and the explicit gamma decay accounts for at least half of BN's gain."
    ),
    source="Abstract (generalization via statistical mechanics; BN = PN + gamma decay); analysis details [U]",
    evidence="abstract",
    stand_ins=[
        "method: SGD simulation of a teacher-student ReLU perceptron at finite d instead of the paper's "
        "statistical-mechanics analysis (spec D4, ours)",
        "data: teacher y = relu(w*^T x / sqrt d) + 0.5 eps, x ~ N(0, I_d), nested training sets P = alpha d (spec D4, ours)",
        "explicit gamma decay: zeta from each mini-batch as in our derivation (luo2019/pn-gamma-decay), stop-gradient",
        "generalization error: MSE against the noise-free teacher on fresh inputs (ours)",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
sizes = [round(a * d) for a in alphas]
print(f"d={d}, alpha={alphas} (P={sizes}), M={batch_size}, {epochs} epochs, lr={lr}; torch float64 on {verdict.device}")

# %% [markdown]
# ## Train all students (variants x alpha x seeds in one batched run)
#
# Each student takes $\lceil{\rm epochs}\cdot P/M\rceil$ SGD steps; all start from the same $w_0\sim N(0,I/d)$ of their
# seed, $\gamma=1$, $\beta=0$.

# %%
data = neuron.teacher_data(seeds, max(sizes), d, noise=noise, n_test=test_samples)
kinds = list(neuron.KINDS)  # plain, wn, wn+gd, bn
grid = np.array([(k, a, s) for k in range(len(kinds)) for a in range(len(alphas)) for s in range(len(seeds))])
p_model = np.array(sizes)[grid[:, 1]]
steps_model = np.ceil(epochs * p_model / batch_size).astype(int)
started = time.perf_counter()
run = neuron.train(data, np.array(kinds)[grid[:, 0]], grid[:, 2], p_model, np.full(len(grid), batch_size), steps_model,
                   lr=lr, w0_scale=w0_scale, device=verdict.device)
verdict.timing("SGD, all models", time.perf_counter() - started)
shape = (len(kinds), len(alphas), len(seeds))
err = neuron.test_error(data, run).reshape(shape)  # (kind, alpha, seed)
gam = run.gamma.reshape(shape)
K = {k: i for i, k in enumerate(kinds)}
print("mean eps_gen (rows: alpha; columns: " + ", ".join(kinds) + ")")
for a, alpha in enumerate(alphas):
    print(f"  alpha={alpha:<4}", np.array2string(err[:, a].mean(1), precision=4), "  final gamma:", np.array2string(gam[:, a].mean(1), precision=3))
    for k in kinds:
        verdict.measure(f"mean eps_gen {k}, alpha={alpha}", err[K[k], a].mean())

# %% [markdown]
# ## Checks at every $\alpha\ge1$
#
# - Part `bn-beats-wn` and part `gd-beats-wn` (claim): the mean paired difference of $\varepsilon_{\rm gen}$ against WN
#   below 0, decided on its t interval over the seeds (version 1 compared the two means, without an interval).
# - The same parts (claim): paired wins (same data, same initialization, same mini-batches) on at least
#   `min_win_fraction` of the seeds, as a fraction of per-seed wins with its exact binomial interval. Version 1
#   counted wins against 6 of 8: with 8 seeds, 6 wins has a one-sided sign-test p of 0.14 for a single comparison,
#   so together with the mean it asked for a consistent effect rather than a significant one (spec D4's
#   criterion); decided on an interval, a 0.75 fraction cannot be certified by 8 seeds.
# - Part `gd-half-of-bn` (claim): gamma decay explains BN's regularisation,
#   $(\varepsilon_{WN}-\varepsilon_{WN+GD})\ge\tfrac12(\varepsilon_{WN}-\varepsilon_{BN})$ (the spec's 50%), as the mean of the per-seed
#   values with its t interval (version 1: on the means). One-sided as in version 1: WN + gamma decay doing much
#   *better* than BN also passes it, although BN = PN + gamma decay would have them close; left for the claim's
#   redesign issue.
# $\alpha=0.5$ is reported, not checked (spec D4).

# %%
wins_bn = err[K["bn"]] < err[K["wn"]]  # (alpha, seed)
wins_gd = err[K["wn+gd"]] < err[K["wn"]]
for a, alpha in enumerate(alphas):
    e_wn, e_bn, e_gd = (err[K[k], a] for k in ("wn", "bn", "wn+gd"))  # per seed
    print(f"alpha={alpha}: paired wins over WN: BN {wins_bn[a].sum()}/{len(seeds)}, WN+GD {wins_gd[a].sum()}/{len(seeds)}")
    if alpha < 1:
        verdict.measure(f"alpha={alpha}: paired wins BN over WN", wins_bn[a].sum())
        verdict.measure(f"alpha={alpha}: paired wins WN+GD over WN", wins_gd[a].sum())
        continue
    verdict.check(f"alpha={alpha}: mean eps_gen(BN) - eps_gen(WN)", e_bn - e_wn, "<", 0,
                  kind="claim", part="bn-beats-wn", aggregate="mean")
    verdict.check(f"alpha={alpha}: mean eps_gen(WN+GD) - eps_gen(WN)", e_gd - e_wn, "<", 0,
                  kind="claim", part="gd-beats-wn", aggregate="mean")
    verdict.check(f"alpha={alpha}: fraction of seeds where BN beats WN", wins_bn[a], ">=", min_win_fraction,
                  kind="claim", part="bn-beats-wn", aggregate="fraction")
    verdict.check(f"alpha={alpha}: fraction of seeds where WN+GD beats WN", wins_gd[a], ">=", min_win_fraction,
                  kind="claim", part="gd-beats-wn", aggregate="fraction")
    verdict.check(f"alpha={alpha}: mean (eps_WN - eps_WN+GD) - 0.5 (eps_WN - eps_BN)", (e_wn - e_gd) - 0.5 * (e_wn - e_bn),
                  ">=", 0, kind="claim", part="gd-half-of-bn", aggregate="mean")

# %% [markdown]
# ## Figure: generalization error against the sample ratio $\alpha$
#
# Left: mean $\varepsilon_{\rm gen}(\alpha)$ with ±1 standard error over seeds. Right: the learned $\gamma$ (gamma decay
# shrinks it; plain has no $\gamma$).

# %%
fig, (ax, ax_g) = plt.subplots(1, 2, figsize=(12, 4.4))
palette = dict(zip(kinds, sns.color_palette(n_colors=len(kinds))))
labels = {"plain": "plain", "wn": "WN", "wn+gd": r"WN + $\zeta\gamma^2$", "bn": f"BN (M={batch_size})"}
for k in kinds:
    mean = err[K[k]].mean(1)
    se = err[K[k]].std(1, ddof=1) / np.sqrt(len(seeds))
    ax.errorbar(alphas, mean, yerr=se, marker="o", capsize=3, color=palette[k], label=labels[k])
    if k != "plain":
        ax_g.plot(alphas, gam[K[k]].mean(1), "o-", color=palette[k], label=labels[k])
ax.set_xscale("log", base=2)
ax.set(xlabel=r"sample ratio $\alpha=P/d$", ylabel=r"$\varepsilon_{\rm gen}$ (test MSE vs noise-free teacher)",
       title=f"d={d}, noise={noise}, {epochs} epochs, {len(seeds)} seeds")
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
    "analysis is known only by recollection [U]. This verdict tests the abstract-level consequence by simulation "
    "(finite d, SGD), not the paper's replica/annealed calculation, theorems or numbers."
)
verdict.deviation(
    "Set-up is the spec's D4 (d, alphas, noise, M, epochs, lr, seeds); the initialization w0 ~ N(0, I/d) for every "
    "student, the nested training sets across alpha and BN's test-time statistics (population statistics of its "
    "own training set) are our choices."
)
verdict.deviation(
    "The explicit gamma decay uses zeta from each mini-batch (u = w^T x/||w||, l'' = 1[z > 0], kappa = batch mean "
    "of u^4, divided by the batch size), under stop-gradient, as the spec describes; the paper's own form of the "
    "regularizer is not known."
)
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
