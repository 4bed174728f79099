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
# # luo2019/gamma-decay-batch-size: BN's gamma decay grows as the batch shrinks; weight normalization has none
#
# > "First, by viewing BN as an implicit regularizer, BN can be decomposed into population normalization (PN)
# > and gamma decay as an explicit regularization."
# > (Luo, Wang, Shao & Peng, "Towards understanding regularization in batch normalization", ICLR 2019, abstract)
#
# **Source availability.** Only the abstract, the start of §1 and Eq. (1) of the paper could be read (see
# `docs/papers/luo2019.md`). The strength of the decomposition's gamma decay, $\zeta\propto1/M$, comes from our own
# second-order derivation (luo2019/pn-gamma-decay); this notebook tests its abstract-level consequence, not the
# paper's experiments.
#
# **Consequence tested.** BN's loss is PN's plus $\zeta\gamma^2$ with $\zeta\propto1/M$, so the $\gamma$ that SGD
# learns under BN should shrink as the batch size $M$ shrinks. Weight normalization (WN, $h=w^\top x/\|w\|$) equals
# PN for whitened input and has no batch statistics in its forward pass, so its learned $\gamma$ should not depend
# on $M$ beyond what SGD noise alone does.
#
# **What we run.** Teacher $y=\mathrm{relu}(w^{*\top}x/\sqrt d)+0.5\varepsilon$, $x\sim N(0,I_d)$, $d=100$, $P=4d$
# training samples; single ReLU students $\mathrm{relu}(\gamma\,\mathrm{norm}(w^\top x)+\beta)$ with BN or WN, square
# loss, plain SGD for the same number of steps at every batch size $M\in\{4,8,32,128\}$, torch float64, batched over
# seeds and kinds (one run per $M$). At a given (seed, $M$) BN and WN see the same mini-batches and start from the
# same $w_0$. $\gamma$ is averaged over the last 20 % of training to remove SGD jitter.
#
# **Checks** (version 2, redesigned: every check on per-seed values, decided by the 95 % t interval of the mean;
# pre-registered before the paper-scale run):
# - *claim*, **a large effect**: the per-seed ratio $\gamma_{BN}(M_{\min})/\gamma_{BN}(M_{\max})\le0.7$ (a 30 % shrinkage;
#   our derivation predicts $\zeta(4)/\zeta(128)=32$, so the effect is expected to be large).
# - *claim*, **monotone in $M$**: for each pair of consecutive batch sizes, the per-seed paired increase
#   $\gamma_{BN}(M_{j+1})-\gamma_{BN}(M_j)>0$ (version 1 asked a Spearman correlation of 1 of the seed-mean curve: one
#   number with no interval).
# - *control*, **the same ratio under WN**: $\gamma_{WN}(M_{\min})/\gamma_{WN}(M_{\max})\ge0.9$. SGD noise also grows as $M$
#   shrinks, and it could shrink $\gamma$ without any batch statistics; if WN showed (part of) the effect, BN's trend
#   could not be credited to BN's gamma decay, and the claim would be inconclusive. This is how the claim checks
#   can fail to count: a pilot found WN's own ratio at 0.96 (a small SGD-noise effect), so the control is not
#   vacuous.
# - *control*, **WN is flat**: the per-seed spread $(\max_M-\min_M)/\mathrm{mean}_M$ of $\gamma_{WN}$ below 10 % (version 1
#   took it on the seed-mean curve).
#
# **Seeds.** 64 (version 1: 5). A pilot on seeds $\ge5\,000\,000$ (64 seeds, this set-up) gave standard errors of
# 0.006 for the ratios and 0.004-0.006 for the consecutive increases, the smallest of which (32 to 128) was 0.065:
# every check is then decided by more than ten standard errors if the pilot's values hold.

# %% tags=["parameters"]
claim_id = "luo2019/gamma-decay-batch-size"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3, 4]
threads = 1
d = 100
alpha = 4.0
noise = 0.5
batch_sizes = [4, 8, 32, 128]
steps = 5000
lr = 0.02
w0_scale = 1.0
average_last = 0.2
record_every = 50
test_samples = 1000
max_bn_ratio = 0.7
min_wn_ratio = 0.9
max_wn_spread = 0.1

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
        "Abstract-level claim checked through a derived formulation (the paper's body could not be read): "
        "BN's implicit gamma decay is batch-size dependent, so a single BN ReLU neuron trained by SGD learns a "
        "smaller gamma at smaller batch sizes (at least 30% smaller at M = 4 than at M = 128, increasing between "
        "consecutive batch sizes), while a weight-normalized neuron (= PN for whitened input) does not."
    ),
    source="Abstract (BN = PN + gamma decay); the 1/M strength of the gamma decay from our derivation",
    evidence="abstract",
    stand_ins=[
        "decomposition: zeta ~ 1/M from our second-order derivation (luo2019/pn-gamma-decay)",
        "model: single ReLU neuron relu(gamma norm(w^T x) + beta) with BN or WN, square loss, plain SGD, "
        "5000 steps at every batch size (ours)",
        "data: teacher-student regression, x ~ N(0, I_d), d = 100, P = 4 d, noise 0.5 (ours)",
        "learned gamma: the average over the last 20% of training (ours)",
        "thresholds: 30% shrinkage from M = 128 to M = 4 under BN, less than 10% under WN (ours)",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
p_train = round(alpha * d)
print(f"d={d}, P={p_train}, M={batch_sizes}, steps={steps}, lr={lr}, {len(seeds)} seeds; torch float64 on {verdict.device}")

# %% [markdown]
# ## Train BN and WN students at every batch size and seed

# %%
started = time.perf_counter()
sweep = neuron.batch_size_sweep(seeds, d, p_train, batch_sizes, noise=noise, steps=steps, lr=lr, n_test=test_samples,
                                kinds=("bn", "wn"), average_last=average_last, record_every=record_every,
                                w0_scale=w0_scale, device=verdict.device)
verdict.timing("SGD, all models", time.perf_counter() - started)
kinds = list(sweep.kinds)
gamma_bn, gamma_wn = sweep.gamma  # (seed, M) each
print(f"gamma averaged over the last {sweep.averaged_records * record_every} steps, mean over seeds:")
print("  M:        ", batch_sizes)
print("  BN gamma: ", np.array2string(gamma_bn.mean(0), precision=3))
print("  WN gamma: ", np.array2string(gamma_wn.mean(0), precision=3))
print("  BN test MSE:", np.array2string(sweep.error[0].mean(0), precision=3))
print("  WN test MSE:", np.array2string(sweep.error[1].mean(0), precision=3))
for k, kind in enumerate(kinds):
    for j, m in enumerate(batch_sizes):
        verdict.measure(f"{kind} gamma (seed mean) at M={m}", sweep.gamma[k, :, j].mean())
        verdict.measure(f"{kind} test MSE (seed mean) at M={m}", sweep.error[k, :, j].mean())

# %% [markdown]
# ## Checks

# %%
m_lo, m_hi = batch_sizes[0], batch_sizes[-1]
verdict.check(f"mean over seeds of gamma_BN(M={m_lo}) / gamma_BN(M={m_hi})", gamma_bn[:, 0] / gamma_bn[:, -1], "<=",
              max_bn_ratio, kind="claim", aggregate="mean")
for j in range(len(batch_sizes) - 1):
    verdict.check(f"mean over seeds of gamma_BN(M={batch_sizes[j + 1]}) - gamma_BN(M={batch_sizes[j]})",
                  gamma_bn[:, j + 1] - gamma_bn[:, j], ">", 0, kind="claim", aggregate="mean")
verdict.check(f"mean over seeds of gamma_WN(M={m_lo}) / gamma_WN(M={m_hi})", gamma_wn[:, 0] / gamma_wn[:, -1], ">=",
              min_wn_ratio, kind="control", aggregate="mean")
verdict.check("mean over seeds of (max - min)/mean over M of gamma_WN", np.ptp(gamma_wn, axis=1) / gamma_wn.mean(1), "<",
              max_wn_spread, kind="control", aggregate="mean")
spearman_bn = np.array([stats.spearman(batch_sizes, g) for g in gamma_bn])
verdict.measure("fraction of seeds whose gamma_BN increases strictly with M", np.mean(np.all(np.diff(gamma_bn, axis=1) > 0, axis=1)))
verdict.measure("mean over seeds of the Spearman correlation of gamma_BN with M", spearman_bn.mean())
verdict.measure(f"gamma_BN(M={m_lo}) / gamma_BN(M={m_hi}), seed means", gamma_bn[:, 0].mean() / gamma_bn[:, -1].mean())
verdict.measure(f"max over seeds of gamma_BN(M={m_lo}) / gamma_BN(M={m_hi})", (gamma_bn[:, 0] / gamma_bn[:, -1]).max())
verdict.measure("Spearman correlation of seed-mean gamma_WN with M", stats.spearman(batch_sizes, gamma_wn.mean(0)))
for check in verdict.checks:
    print(check)

# %% [markdown]
# ## Figure: learned $\gamma$ against batch size, BN and WN
#
# Left: $\gamma$ (averaged over the end of training) per seed (thin, the first 16 seeds) and seed mean (thick). Right: $\gamma(t)$ of
# seed `seeds[0]` during training, one line per $M$.

# %%
fig, (ax, ax_t) = plt.subplots(1, 2, figsize=(13.5, 4.4), gridspec_kw={"width_ratios": [1, 1.25]})
colours = dict(zip(kinds, sns.color_palette(n_colors=2)))
names = {"bn": "BN", "wn": "WN (= PN here)"}
for k, kind in enumerate(kinds):
    for s in range(min(len(seeds), 16)):
        ax.plot(batch_sizes, sweep.gamma[k, s], color=colours[kind], lw=0.7, alpha=0.4)
    ax.plot(batch_sizes, sweep.gamma[k].mean(0), "o-", color=colours[kind], lw=2.2, label=names[kind])
ax.set_xscale("log", base=2)
ax.set(xlabel="batch size M", ylabel=r"learned $\gamma$", title=f"d={d}, P={p_train}, {steps} SGD steps, lr={lr}")
ax.legend()
t_axis = np.arange(1, sweep.history.shape[0] + 1) * record_every
hist = sweep.history  # (record, kind, seed, M)
shades = sns.color_palette("viridis", n_colors=len(batch_sizes))
for j, m in enumerate(batch_sizes):
    ax_t.plot(t_axis, hist[:, 0, 0, j], color=shades[j], label=f"BN, M={m}")
    ax_t.plot(t_axis, hist[:, 1, 0, j], color=shades[j], ls="--", label=f"WN, M={m}")
ax_t.axvspan(t_axis[-sweep.averaged_records], t_axis[-1], color="0.9", zorder=0)
ax_t.set(xlabel="SGD step", ylabel=r"$\gamma$", title=f"seed {seeds[0]} (shaded: averaging window)")
ax_t.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
verdict.figure(fig, "gamma-vs-batch-size")
plt.show()

# %% [markdown]
# ## Deviations from the paper

# %%
verdict.deviation(
    "The paper's body could not be read: only the abstract and Eq. (1) are verified, and the 1/M strength of the "
    "gamma decay comes from our own derivation. This verdict tests the abstract-level consequence (gamma shrinks "
    "with the batch size under BN only), not the paper's experiments or numbers."
)
verdict.deviation(
    "Set-up (teacher-student regression, d, alpha, noise, lr, steps, batch sizes, w0 ~ N(0, I/d)) is ours; the "
    "paper's own batch-size experiments (CNNs) are not reproduced. A pilot on seeds >= 5,000,000 informed the seed "
    "count (64)."
)
verdict.deviation(
    f"gamma is the average over the last {average_last:.0%} of training (SGD keeps gamma fluctuating); "
    "the figure shows the full trajectories."
)
verdict.deviation(
    "Redesigned for verdict version 2 before its paper-scale run: version 1's Spearman correlation of the seed-mean "
    "curve (one number) became per-seed paired increases between consecutive batch sizes, and the WN control "
    "gained the same per-seed ratio as the claim check; the thresholds 0.7 and 10% are unchanged."
)
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
