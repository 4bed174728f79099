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
# > (Luo, Wang, Shao & Peng, ICLR 2019, abstract)
#
# **Source availability.** Only the abstract, the start of §1 and Eq. (1) of the paper could be read. The
# decomposition's strength $\zeta\propto1/M$ is a recollection [U] confirmed by an independent derivation [D]
# (luo2019/pn-gamma-decay); this notebook tests its abstract-level consequence, not the paper's experiments.
#
# **Consequence tested.** BN's loss is PN's plus $\zeta\gamma^2$ with $\zeta\propto1/M$, so the $\gamma$ that SGD
# learns under BN should shrink as the batch size $M$ shrinks. Weight normalization (WN, $h=w^\top x/\|w\|$) equals
# PN for whitened input and has no batch noise in its forward pass, so its learned $\gamma$ should not depend on $M$.
#
# **What we run** (spec D2): teacher $y=\mathrm{relu}(w^{*\top}x/\sqrt d)+0.5\varepsilon$, $x\sim N(0,I_d)$,
# $P=\alpha d$ training samples; single ReLU students $\mathrm{relu}(\gamma\,\mathrm{norm}(w^\top x)+\beta)$ with BN
# or WN, square loss, plain SGD at batch sizes $M$, all seeds and batch sizes trained at once (torch float64).
# $\gamma$ is averaged over the last part of training to remove SGD jitter.
#
# **Checks** (verdict version 2; thresholds unchanged from version 1):
# - *claim*: the seed-mean $\gamma_{BN}$ increases with $M$ (Spearman correlation 1, one number over the seed-mean
#   curve) and the mean over seeds of $\gamma_{BN}(M_{\min})/\gamma_{BN}(M_{\max})$ is at most 0.7 (t interval);
# - *control*: $\gamma_{WN}$ (seed means) varies by less than 10% across $M$: WN has no batch noise, so it must show
#   no gamma-decay dependence on $M$; if it did, SGD noise rather than BN's batch statistics could explain BN's trend.

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
test_samples = 5000

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
        "smaller gamma at small batch sizes, while a weight-normalized neuron (= PN for whitened input) does not."
    ),
    source="Abstract; decomposition BN = PN + gamma decay with zeta ~ 1/M recollected [U], derived [D]",
    evidence="abstract",
    stand_ins=[
        "decomposition: zeta ~ 1/M from our derivation (luo2019/pn-gamma-decay); the paper's formula is a recollection",
        "model: single ReLU neuron relu(gamma norm(w^T x) + beta) with BN or WN, square loss, plain SGD (spec D2, ours)",
        "data: teacher-student regression, x ~ N(0, I_d), P = alpha d, noise 0.5 (spec D2, ours)",
        "learned gamma: the average over the last part of training (ours)",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
p_train = round(alpha * d)
print(f"d={d}, P={p_train}, M={batch_sizes}, steps={steps}, lr={lr}; torch float64 on {verdict.device}")

# %% [markdown]
# ## Train BN and WN students at every batch size and seed (one batched run)
#
# The same mini-batch sequence feeds BN and WN at a given (seed, $M$). Every student starts from the same
# $w_0\sim N(0,I/d)$ (so $\|w_0\|\approx1$ and the effective learning rate $\eta/\|w\|^2$ starts at $\eta$), $\gamma=1$, $\beta=0$.

# %%
data = neuron.teacher_data(seeds, p_train, d, noise=noise, n_test=test_samples)
kinds = np.array(["bn", "wn"])
grid = np.array([(k, s, m) for k in range(len(kinds)) for s in range(len(seeds)) for m in batch_sizes])
started = time.perf_counter()
run = neuron.train(data, kinds[grid[:, 0]], grid[:, 1], np.full(len(grid), p_train), grid[:, 2],
                   np.full(len(grid), steps), lr=lr, w0_scale=w0_scale, record_every=record_every, device=verdict.device)
verdict.timing("SGD, all models", time.perf_counter() - started)
shape = (len(kinds), len(seeds), len(batch_sizes))
last = max(1, round(average_last * run.gamma_history.shape[0]))
gamma_avg = run.gamma_history[-last:].mean(0).reshape(shape)  # (kind, seed, M)
test_err = neuron.test_error(data, run).reshape(shape)
g_bn, g_wn = gamma_avg[0].mean(0), gamma_avg[1].mean(0)
print(f"gamma averaged over the last {last * record_every} steps, mean over seeds:")
print("  M:        ", batch_sizes)
print("  BN gamma: ", np.array2string(g_bn, precision=3))
print("  WN gamma: ", np.array2string(g_wn, precision=3))
print("  BN test MSE:", np.array2string(test_err[0].mean(0), precision=3))
print("  WN test MSE:", np.array2string(test_err[1].mean(0), precision=3))
for k, kind in enumerate(kinds):
    for j, m in enumerate(batch_sizes):
        verdict.measure(f"{kind} gamma (seed mean) at M={m}", gamma_avg[k, :, j].mean())
        verdict.measure(f"{kind} test MSE (seed mean) at M={m}", test_err[k, :, j].mean())

# %% [markdown]
# ## Checks
#
# 1. *Claim*, **monotone in $M$ under BN** (Spearman 1 on the seed means, one number: the correlation is over the
#    batch sizes of the seed-mean curve, not over seeds): $\zeta\propto1/M$ decreases strictly with $M$.
# 2. *Claim*, **a large effect**: $\gamma_{BN}(M_{\min})\le0.7\,\gamma_{BN}(M_{\max})$ (spec D2; a 30% shrinkage is far
#    outside the seed-to-seed spread seen in the spec's pilot). Version 1 took the ratio of the seed means; version 2
#    decides on the mean of the per-seed ratios with its t interval (the ratio of the seed means is reported).
# 3. *Control*, **WN is flat**: $(\max_M-\min_M)/\mathrm{mean}_M$ of the seed-mean $\gamma_{WN}$ below 10%: SGD noise also
#    changes with $M$ under WN, but it does not enter WN's forward pass (one number over the seed-mean curve, as in
#    version 1).
# 4. Reported (version 1: a non-essential check): the largest per-seed shrinkage ratio, against the same 0.7. It is
#    not evidence of its own: the mean ratio with its interval (check 2) already weighs the seed-to-seed spread.

# %%
rho_bn = stats.spearman(batch_sizes, g_bn)
ratio_bn = g_bn[0] / g_bn[-1]
per_seed_ratio = gamma_avg[0, :, 0] / gamma_avg[0, :, -1]
wn_spread = (g_wn.max() - g_wn.min()) / g_wn.mean()
print("per-seed gamma_BN(M_min)/gamma_BN(M_max):", np.array2string(per_seed_ratio, precision=3))
verdict.check("Spearman correlation of seed-mean gamma_BN with M", rho_bn, ">=", 1.0, kind="claim")
verdict.check(f"mean over seeds of gamma_BN(M={batch_sizes[0]}) / gamma_BN(M={batch_sizes[-1]})", per_seed_ratio, "<=", 0.7,
              kind="claim", aggregate="mean")
verdict.check("(max - min)/mean over M of seed-mean gamma_WN", wn_spread, "<", 0.1, kind="control")
verdict.measure(f"gamma_BN(M={batch_sizes[0]}) / gamma_BN(M={batch_sizes[-1]}), seed means", ratio_bn)
verdict.measure(f"max over seeds of gamma_BN(M={batch_sizes[0]}) / gamma_BN(M={batch_sizes[-1]})", per_seed_ratio.max())
verdict.measure("Spearman correlation of seed-mean gamma_WN with M", stats.spearman(batch_sizes, g_wn))

# %% [markdown]
# ## Figure: learned $\gamma$ against batch size, BN and WN
#
# Left: $\gamma$ (averaged over the end of training) per seed (thin) and seed mean (thick). Right: $\gamma(t)$ of
# seed `seeds[0]` during training, one line per $M$.

# %%
fig, (ax, ax_t) = plt.subplots(1, 2, figsize=(13.5, 4.4), gridspec_kw={"width_ratios": [1, 1.25]})
colours = dict(zip(kinds, sns.color_palette(n_colors=2)))
names = {"bn": "BN", "wn": "WN (= PN here)"}
for k, kind in enumerate(kinds):
    for s in range(len(seeds)):
        ax.plot(batch_sizes, gamma_avg[k, s], color=colours[kind], lw=0.7, alpha=0.5)
    ax.plot(batch_sizes, gamma_avg[k].mean(0), "o-", color=colours[kind], lw=2.2, label=names[kind])
ax.set_xscale("log", base=2)
ax.set(xlabel="batch size M", ylabel=r"learned $\gamma$", title=f"d={d}, P={p_train}, {steps} SGD steps, lr={lr}")
ax.legend()
t_axis = np.arange(1, run.gamma_history.shape[0] + 1) * record_every
hist = run.gamma_history.reshape(-1, *shape)
shades = sns.color_palette("viridis", n_colors=len(batch_sizes))
for j, m in enumerate(batch_sizes):
    ax_t.plot(t_axis, hist[:, 0, 0, j], color=shades[j], label=f"BN, M={m}")
    ax_t.plot(t_axis, hist[:, 1, 0, j], color=shades[j], ls="--", label=f"WN, M={m}")
ax_t.axvspan(t_axis[-last], t_axis[-1], color="0.9", zorder=0)
ax_t.set(xlabel="SGD step", ylabel=r"$\gamma$", title=f"seed {seeds[0]} (shaded: averaging window)")
ax_t.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
verdict.figure(fig, "gamma-vs-batch-size")
plt.show()

# %% [markdown]
# ## Deviations from the paper

# %%
verdict.deviation(
    "The paper's body could not be read: only the abstract and Eq. (1) are verified, and the gamma-decay formula "
    "is a recollection [U] checked by an independent derivation [D]. This verdict tests the abstract-level "
    "consequence (gamma shrinks with the batch size under BN only), not the paper's experiments or numbers."
)
verdict.deviation(
    "Set-up (teacher-student regression, d, alpha, noise, lr, steps, batch sizes, w0 ~ N(0, I/d)) is the spec's D2, "
    "with our choice of initialization; the paper's own batch-size experiments (CNNs) are not reproduced."
)
verdict.deviation(
    f"gamma is the average over the last {average_last:.0%} of training (SGD keeps gamma fluctuating); "
    "the figure shows the full trajectories."
)
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
