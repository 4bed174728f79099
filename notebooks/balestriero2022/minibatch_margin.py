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
# # balestriero2022/minibatch-margin: mini-batch statistics jitter the partition and widen the margin
#
# > "We also show that the variation of BN statistics between mini-batches introduces a dropout-like random
# > perturbation to the partition boundaries and hence the decision boundary for classification problems. This
# > per mini-batch perturbation reduces overfitting and improves generalization by increasing the margin between
# > the training samples and the decision boundary."
# > (Balestriero & Baraniuk, "Batch Normalization Explained", arXiv:2209.14778, **abstract**)
#
# **The paper's body text was not available** (see our paper notes, `docs/papers/balestriero2022.md`, "What of the
# paper could be read"): this notebook checks the abstract-level claim, with the BN geometry of the successor paper
# (Riedi, Balestriero & Baraniuk, PMLR 334), not the paper's theorem, figures or numbers, none of which could be read.
#
# **C4a, the perturbation.** With BN, unit $k$ of layer 1 has the hyperplane $\{x: w^\top x=\mu_B\}$,
# $\mu_B$ the mini-batch mean of $w^\top x$: its offset along the unit normal is $\mu_B/\|w\|$. Over mini-batches
# of $B$ distinct rows out of $N$, $\operatorname{Var}\mu_B=\frac{w^\top\Sigma w}{B}\frac{N-B}{N-1}$ exactly, so
#
# $$\operatorname{std}(\text{offset})=\frac{\text{RMS distance of the data to the hyperplane}}{\sqrt B}\sqrt{\frac{N-B}{N-1}}.$$
#
# We draw many mini-batches per $B$, measure the spread of every unit's offset, and compare.
#
# **C4b, the margin.** Three copies of one network on two moons, identical but for the statistics each hidden layer
# normalizes its mini-batch with (`bnrepro.balestriero2022.noise`):
# - `bn`: the mini-batch's own mean and standard deviation (standard BN);
# - `popgrad`: the whole training set's, recomputed at every step, **with** the gradient through them (full-batch
#   BN applied to the mini-batch): BN without the mini-batch noise, and nothing else removed. `bn` against
#   `popgrad` isolates the noise, which is what the abstract is about;
# - `pop`: the whole training set's, recomputed at every step, **without** gradient (version 1's noise-free arm). It
#   differs from `bn` both in the noise and in the missing gradient through $\mu,\sigma$, so it cannot isolate the
#   noise; its comparison stays in the verdict as measurements (version 1's checks were made against it).
#
# Same initialization, same mini-batches, same data per seed; all evaluated with their training set's statistics.
# The signed margin of a training point is its Euclidean distance to the decision boundary, negative when
# misclassified; the boundary is sampled where it crosses the lines of a grid, each crossing located by bisection.
#
# **Checks** (verdict version 2, redesigned for issue 15; pre-registered before the paper-scale run).
# - *sanity*: the measured jitter follows the law (median measured/predicted within 5% for every $B$, log-log slope
#   in $[-0.55,-0.45]$ on every seed): an identity of the sample mean, it checks our BN offsets, not the paper.
# - *regime*: every arm fits its training set (mean training accuracy $\ge0.95$, t interval): margins of networks
#   that do not separate the moons say nothing about the paper's setting.
# - *claim, part `median-margin`*: the geometric mean over seeds of the ratio of median margins `bn`/`popgrad` is
#   $>1$ (the mean of the per-seed log ratios $>0$, t interval).
# - *claim, part `generalization`*: "improves generalization": the mean over seeds of the paired test-accuracy
#   difference `bn` $-$ `popgrad` on fresh draws is $>0$ (t interval).
# - *claim, part `tail-margin`*: "increasing the margin" read as *all* margins: the paired differences `bn` $-$
#   `popgrad` of the 10th-percentile and of the minimum signed margin are $>0$ on average (t intervals).
# - *claim, part `noise-dose`*: less noise, less gain: the per-seed log ratio `bn`/`popgrad` at $B$=`batch_size` exceeds
#   the one at $B$=`dose_batch_size` (as much noise as $\sqrt{\text{dose\_batch\_size}/\text{batch\_size}}$ times
#   less) at an equal number of SGD steps (mean of the per-seed differences $>0$, t interval).

# %% tags=["parameters"]
claim_id = "balestriero2022/minibatch-margin"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3]
threads = 1
jitter_models = 10
jitter_n = 2000
jitter_noise = 0.1
jitter_shift = 3.0
jitter_width = 64
batch_size_jitter = [8, 16, 32, 64, 128, 256]
jitter_samples = 2000
n = 200
noise = 0.15
width = 64
batch_size = 8
epochs = 100
lr = 0.05
dose_batch_size = 64
dose_steps = 2500
grid_n = 200
grid_pad = 1.0
flip_samples = 200
boundary_samples = 20
test_samples = 5000

# %%
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch

from bnrepro import claims
from bnrepro import stats
from bnrepro.balestriero2022 import datasets
from bnrepro.balestriero2022 import margins as mg
from bnrepro.balestriero2022 import noise as nz
from bnrepro.nets import SwitchableMLP

verdict = claims.open(
    claim_id,
    statement=(
        "Abstract-level claim (the paper's body was not available): the variation of BN statistics between "
        "mini-batches perturbs the partition boundaries (offset jitter = RMS distance / sqrt(B)) and the decision "
        "boundary, and this noise increases the margin between the training samples and the decision boundary "
        "and improves generalization (BN vs the same network normalized with the full training set's statistics, "
        "gradient through them kept, so that only the noise differs)."
    ),
    source="abstract (arXiv:2209.14778); body text unavailable",
    evidence="abstract",
    stand_ins=[
        "geometry: BN's hyperplane offsets from the successor paper (Riedi, Balestriero & Baraniuk, PMLR 334); the "
        "jitter law derived here from BN's definition",
        "noise-free arm 'popgrad' (decides): BN with the full training set's statistics recomputed at every step, gradient "
        "through them kept (full-batch BN applied to the mini-batch; ours): it differs from BN only by the mini-batch noise",
        "version 1's noise-free arm 'pop': the same statistics without gradient through them (ours, from "
        "`docs/papers/balestriero2022.md`); it differs from BN also by that missing gradient: reported, not deciding",
        "'improves generalization': test accuracy on fresh draws of the same moons, paired by seed (ours)",
        f"network/budget: MLP 2-{width}-{width}-2 ReLU, BN without affine parameters, plain SGD lr={lr}, "
        f"B={batch_size}, {epochs} epochs (ours)",
        "data: two moons, one draw per seed (ours)",
        "margin: signed distance to the decision boundary, sampled where it crosses a grid's lines (bisection; ours)",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
S = len(seeds)
jitter_list = seeds[:jitter_models]  # the jitter law (an identity) needs only a few networks
dose_epochs = max(1, round(dose_steps / (n // dose_batch_size)))
print(f"C4a: moons({jitter_n})+{jitter_shift}, {jitter_width} units, "
      f"{jitter_samples} mini-batches per B in {batch_size_jitter}")
print(f"C4b: moons({n}, noise={noise}), MLP 2-{width}-{width}-2 ReLU, SGD lr={lr}, B={batch_size}, {epochs} epochs; "
      f"{S} seeds; arms bn, popgrad, pop; dose run B={dose_batch_size}, {dose_epochs} epochs x {n // dose_batch_size} steps "
      f"(bn, popgrad); margins on a {grid_n}x{grid_n} grid, pad {grid_pad}, refined by bisection; "
      f"{test_samples} test points per seed; torch float64")

# %% [markdown]
# ## C4a: the hyperplane offsets jitter as RMS distance / $\sqrt B$
#
# One random layer of `jitter_width` units per seed (He-normal weights of the shared `SwitchableMLP`), on moons
# shifted by $(+3,+3)$. For each $B$, `jitter_samples` mini-batches drawn without replacement (index arrays; the
# batch means are one matrix product), the offset $\mu_B/\|w\|$ of every unit, its RMS deviation from the population
# offset (its exact mean), against the law.

# %%
xj, _ = datasets.moons_sets(jitter_list, jitter_n, jitter_noise, jitter_shift)
layer = SwitchableMLP([2, jitter_width, 1], len(jitter_list), seeds=jitter_list).weights[0].detach().numpy()  # (S, K, 2)
measured = np.zeros((len(jitter_list), len(batch_size_jitter), jitter_width))
predicted = np.zeros_like(measured)
for s, seed in enumerate(jitter_list):
    rng = np.random.default_rng(seed)
    for b, size in enumerate(batch_size_jitter):
        idx = mg.batch_indices(rng, jitter_n, size, jitter_samples)
        measured[s, b] = mg.measured_jitter(xj[s], layer[s], idx)
        predicted[s, b] = mg.predicted_jitter(xj[s], layer[s], size)
ratio = measured / predicted
pooled_median = np.median(ratio.transpose(1, 0, 2).reshape(len(batch_size_jitter), -1), axis=1)
seed_median = np.median(ratio, axis=2)  # (S, nB)
slopes = stats.loglog_slope(batch_size_jitter, np.median(measured, axis=2))  # (S,)
law_slope = float(stats.loglog_slope(batch_size_jitter, np.sqrt((jitter_n - np.array(batch_size_jitter)) / (jitter_n - 1) / np.array(batch_size_jitter))))
for b, size in enumerate(batch_size_jitter):
    print(f"B={size:4d}: median measured/predicted {pooled_median[b]:.4f} (per seed {seed_median[:, b].min():.4f}..{seed_median[:, b].max():.4f}); "
          f"median jitter {np.median(measured[:, b]):.4f}")
print("log-log slope of the median jitter per seed:", np.array2string(slopes, precision=3))
print(f"slope of the exact law over these B (finite-population factor included): {law_slope:.4f}")

# %% [markdown]
# **Thresholds.** The law is exact, so the only error is sampling. A unit's measured variance is a mean of
# `jitter_samples` = 2000 independent squared deviations; for a near-Gaussian batch mean its standard deviation
# estimate has a relative standard error of $1/\sqrt{2\cdot2000}\approx1.6\%$. In 2-D all units' offsets are linear
# functions of one 2-D batch mean, so the units of one network share their errors; pooling the 10 independent
# networks cuts the error of the pooled median to about 0.5%, and the paper notes' $\pm5\%$ is then a 10-standard-error band
# that only a wrong law (e.g. a missing $\sqrt B$, a factor $\sqrt2$, or the finite-population factor at $B=256$: 6.6%)
# leaves. The per-seed medians (within about $\pm3$ standard errors of 1) are reported, not checked one by one: with
# 60 seed-$B$ pairs one would leave a $\pm5\%$ band by chance every few runs.
# The slope: the law predicts $-0.5$ for i.i.d. sampling and slightly steeper with the finite-population factor
# (printed above); the paper notes' $[-0.55,-0.45]$ excludes any other power law. It is checked on every seed
# (fit standard error about 0.01): the worst seed on each side (`aggregate="max"`/`"min"` of the per-seed slopes).
#
# These are *sanity* checks: the law is exact, so only a wrong implementation of BN's offsets (or of the sampling)
# leaves the bands. Version 1 counted them as evidence. At the quick scale (fewer mini-batches, fewer seeds) the
# sampling error is about twice as large, so the margins above are about halved.

# %%
verdict.check("max over B of |median over seeds and units of measured/predicted jitter - 1|",
              np.abs(pooled_median - 1).max(), "<=", 0.05, kind="sanity")
for b, size in enumerate(batch_size_jitter):
    verdict.measure(f"median measured/predicted jitter, B={size}", pooled_median[b])
verdict.measure("max over seeds and B of |per-seed median measured/predicted - 1|", np.abs(seed_median - 1).max())
verdict.check("max over seeds of the log-log slope of jitter vs B", slopes, "<=", -0.45, kind="sanity", aggregate="max")
verdict.check("min over seeds of the log-log slope of jitter vs B", slopes, ">=", -0.55, kind="sanity", aggregate="min")
verdict.measure("slope of the exact law over the B used", law_slope)

# %%
fig, (ax, ax_r) = plt.subplots(1, 2, figsize=(12, 4.2))
sizes = np.array(batch_size_jitter)
shown_units = range(0, jitter_width, max(1, jitter_width // 8))
colours = sns.color_palette(n_colors=len(shown_units))
for colour, k in zip(colours, shown_units):
    ax.loglog(sizes, measured[0, :, k], "o", color=colour, ms=5)
    ax.loglog(sizes, predicted[0, :, k], "-", color=colour, lw=1)
rms0 = mg.rms_distance(xj[0], layer[0])
ax.loglog(sizes, np.median(rms0) / np.sqrt(sizes), "k--", lw=1.5, label=r"median RMS distance / $\sqrt{B}$")
ax.plot([], [], "ko", ms=5, label="measured (8 units)")
ax.plot([], [], "k-", lw=1, label="exact law, with (N-B)/(N-1)")
ax.set(xlabel="mini-batch size B", ylabel=r"std of the hyperplane offset $\mu_B/\|w\|$",
       title=f"seed {jitter_list[0]}: {jitter_samples} mini-batches per B, N={jitter_n}")
ax.legend(fontsize=9)
positions = np.arange(len(sizes))
for s in range(len(jitter_list)):
    ax_r.plot(positions, seed_median[s], "-", color="0.75", lw=1, zorder=1)
ax_r.plot(positions, pooled_median, "o-", color="C3", label="median over seeds and units", zorder=3)
ax_r.axhline(1.0, color="k", lw=1)
ax_r.axhspan(0.95, 1.05, color="C2", alpha=0.12, label="check band ±5%")
ax_r.set_xticks(positions, [str(b) for b in sizes])
ax_r.set(xlabel="mini-batch size B", ylabel="measured / predicted jitter", ylim=(0.9, 1.1),
         title="grey: median over units, one line per seed")
ax_r.legend(fontsize=9)
verdict.figure(fig, "jitter-vs-batch-size")
plt.show()

# %% [markdown]
# ## C4b: three normalizations, identical everything else
#
# `noise.train_arms`: one stacked network holds every arm of every seed (arm-major model axis), each seed with its
# own moons draw, identical initialization and identical mini-batches across the arms of a seed. All are evaluated
# with the statistics of their training set; test accuracy on `test_samples` fresh draws per seed (from a seed
# derived from the training seed, so never another seed's training set).

# %%
x, y = datasets.moons_sets(seeds, n, noise)
x_test, y_test = nz.moons_test_sets(seeds, test_samples, noise)
net_sizes = [2, width, width, 2]
main = nz.train_arms(x, y, seeds, net_sizes, batch_size=batch_size, epochs=epochs, lr=lr,
                     on_epoch=lambda e: print(f"  B={batch_size}: epoch {e}/{epochs}") if e and e % max(1, epochs // 4) == 0 else None)
margin = nz.arm_margins(main, x, y, resolution=grid_n, pad=grid_pad)
train_acc = nz.arm_accuracy(main, x, y)
test_acc = nz.arm_accuracy(main, x_test, y_test)
med = {v: np.median(m, axis=1) for v, m in margin.items()}
p10 = {v: np.percentile(m, 10, axis=1) for v, m in margin.items()}
low = {v: m.min(axis=1) for v, m in margin.items()}
for v in nz.ARMS:
    print(f"{v:8s} median margin {med[v].mean():.4f}  10th pct {p10[v].mean():.4f}  min {low[v].mean():.4f}  "
          f"train acc {train_acc[v].mean():.4f}  test acc {test_acc[v].mean():.5f}  (means over {S} seeds)")

# %% [markdown]
# ## Regime: the networks fit their training sets
#
# Margins are a statement about classifiers that separate the training data. Every arm must reach a mean training
# accuracy of at least 0.95 (t interval over seeds; the paper notes' pilot saw 0.986 for `bn` and 0.997 for `pop`,
# and the moons at noise 0.15 are separable up to a few points). Below it the stand-in is out of regime and the
# verdict is `inconclusive`, not the paper's failure.

# %%
for v in nz.ARMS:
    verdict.check(f"mean training accuracy, {v}", train_acc[v], ">=", 0.95, kind="regime", aggregate="mean")

# %% [markdown]
# ## Thresholds, argued before the paper-scale result
#
# The abstract states a direction ("increasing the margin", "improves generalization") and no size, and its body
# could not be read; so every claim check asks for an effect $>0$ decided on its 95% interval over seeds, not a size
# chosen from a pilot (version 1's 5% and 90% of seeds came from the paper notes' pilot and sat on the result's edge).
# - *Log ratios.* For two arms that were exchangeable (no effect), the mean of the ratios $a/b$ would be $\ge1$ by
#   Jensen's inequality ($\tfrac12(a/b+b/a)\ge1$), a bias towards the claim; the mean log ratio is exactly 0 then.
#   So the margin comparison is the mean over seeds of $\log(\text{median}_{bn}/\text{median}_{popgrad})>0$, i.e. the
#   geometric-mean ratio $>1$ (reported as a ratio too).
# - *Pairing.* Both arms of a seed share data, initialization and mini-batches, so per-seed differences remove most of
#   the seed-to-seed spread; the t interval of the mean of a paired difference is the design's test. The Wilcoxon
#   signed-rank $p$ and the fraction of seeds are reported beside it.
# - *How each can fail.* `median-margin` fails if the noise lowers the margin: version 1's sweep saw the ratio to `pop`
#   at 0.98 at $B$=64; `noise-dose` is the same measurement at less noise and fails if the gain does not shrink with
#   the noise. `tail-margin` fails if the noise keeps `bn` from fitting the hardest points (the paper notes' pilot:
#   `bn`'s minimum margin was below `pop`'s on 10/10 seeds). `generalization` fails if `bn`'s test accuracy is lower
#   (version 1: 0.9857 against 0.9896 for `pop`).
# - *Seed count.* 32 seeds, argued from the audit of version 1 (10 seeds, not a pilot of ours at paper scale): `bn`
#   beat `popgrad` on 9/10 seeds with a mean ratio of 1.067, i.e. a per-seed log ratio near 0.065 whose spread,
#   with one seed in ten below 0, is of the order of 0.05. With 32 seeds the t interval's half width is about
#   $2.04\cdot0.05/\sqrt{32}\approx0.018$, so an effect of that size is decided, and a spread twice as large still
#   leaves it decided (half width 0.036); 32 seeds of three arms, plus the dose run, fit the 5-minute budget. A pilot on
#   seeds $\ge$ 5,000,000 was started but not finished before this pre-registration; nothing of it informed a threshold.
#   The test-accuracy difference is small against its per-seed spread (test error about 1%, version 1: a difference of
#   0.4 points on 10 seeds): the `generalization` part may stay undecided at this budget, which the verdict then reports
#   as such; it is decided only where its interval sits on one side of 0.

# %% [markdown]
# ## Check: the typical margin grows with BN's noise (part `median-margin`)

# %%
log_ratio = {v: np.log(med["bn"] / med[v]) for v in ("popgrad", "pop")}
verdict.check("mean over seeds of log(median margin bn / popgrad)", log_ratio["popgrad"], ">", 0.0,
              kind="claim", part="median-margin", aggregate="mean")
for v in ("popgrad", "pop"):
    low_ci, high_ci = stats.t_interval(log_ratio[v])
    print(f"bn/{v}: geometric-mean ratio of median margins {np.exp(log_ratio[v].mean()):.4f} "
          f"[{np.exp(low_ci):.4f}, {np.exp(high_ci):.4f}], bn larger on {int(np.sum(log_ratio[v] > 0))}/{S} seeds, "
          f"Wilcoxon p = {nz.wilcoxon_p(log_ratio[v]):.2g}")
    verdict.measure(f"geometric-mean ratio of median margins bn/{v}", np.exp(log_ratio[v].mean()))
    verdict.measure(f"geometric-mean ratio of median margins bn/{v}, 95% t interval low", np.exp(low_ci))
    verdict.measure(f"geometric-mean ratio of median margins bn/{v}, 95% t interval high", np.exp(high_ci))
    verdict.measure(f"fraction of seeds with median margin bn > {v}", np.mean(log_ratio[v] > 0))
    verdict.measure(f"Wilcoxon signed-rank p, log median-margin ratio bn/{v}", nz.wilcoxon_p(log_ratio[v]))
for v in nz.ARMS:
    verdict.measure(f"mean over seeds of median margin, {v}", med[v].mean())
    verdict.measure(f"mean over seeds of 10th-percentile margin, {v}", p10[v].mean())
    verdict.measure(f"mean over seeds of minimum margin, {v}", low[v].mean())
    verdict.measure(f"mean train accuracy, {v}", train_acc[v].mean())
    verdict.measure(f"mean test accuracy, {v}", test_acc[v].mean())

# %% [markdown]
# **Version 1's comparison, kept visible.** Version 1 decided the claim against `pop` (detached statistics): at least
# 90% of seeds with a larger median margin, and a mean ratio of at least 1.05. Those numbers are measured here on the
# same seeds as above and reported, not decided: `pop` lacks BN's gradient through $\mu,\sigma$ as well as its noise.
# `popgrad`/`pop` shows how much of the difference that gradient makes.

# %%
ratio_pop = med["bn"] / med["pop"]
verdict.measure("v1 check (detached arm): fraction of seeds with median margin bn > pop", np.mean(ratio_pop > 1))
verdict.measure("v1 check (detached arm): mean over seeds of median margin ratio bn/pop", ratio_pop.mean())
gradient_effect = np.log(med["popgrad"] / med["pop"])
verdict.measure("geometric-mean ratio of median margins popgrad/pop (the gradient through the statistics)",
                np.exp(gradient_effect.mean()))
print(f"v1 (detached arm): bn > pop on {int(np.sum(ratio_pop > 1))}/{S} seeds, mean ratio {ratio_pop.mean():.4f}; "
      f"popgrad/pop geometric-mean ratio {np.exp(gradient_effect.mean()):.4f}")

# %% [markdown]
# ## Check: generalization (part `generalization`)
#
# "This per mini-batch perturbation reduces overfitting and improves generalization": the test accuracy of `bn`
# against `popgrad` on the same fresh draws, paired by seed (mean difference $>0$, t interval). The measured gap
# between training and test accuracy is reported too.

# %%
test_gain = test_acc["bn"] - test_acc["popgrad"]
verdict.check("mean over seeds of test accuracy bn - popgrad", test_gain, ">", 0.0,
              kind="claim", part="generalization", aggregate="mean")
for v in ("popgrad", "pop"):
    gain = test_acc["bn"] - test_acc[v]
    low_ci, high_ci = stats.t_interval(gain)
    print(f"test accuracy bn - {v}: {gain.mean():+.5f} [{low_ci:+.5f}, {high_ci:+.5f}], bn higher on "
          f"{int(np.sum(gain > 0))}/{S} seeds, lower on {int(np.sum(gain < 0))}")
    verdict.measure(f"mean test accuracy difference bn - {v}", gain.mean())
    verdict.measure(f"mean test accuracy difference bn - {v}, 95% t interval low", low_ci)
    verdict.measure(f"mean test accuracy difference bn - {v}, 95% t interval high", high_ci)
for v in nz.ARMS:
    verdict.measure(f"mean train - test accuracy gap, {v}", (train_acc[v] - test_acc[v]).mean())

# %% [markdown]
# ## Check: the worst-case margins (part `tail-margin`)
#
# Read as *all* margins, "increasing the margin" would also raise the smallest ones: the paired differences
# `bn` $-$ `popgrad` of the 10th percentile and of the minimum signed margin, each $>0$ on average (t intervals).
# Differences, not ratios: the minimum is negative wherever a training point is misclassified.

# %%
verdict.check("mean over seeds of 10th-percentile margin bn - popgrad", p10["bn"] - p10["popgrad"], ">", 0.0,
              kind="claim", part="tail-margin", aggregate="mean")
verdict.check("mean over seeds of minimum margin bn - popgrad", low["bn"] - low["popgrad"], ">", 0.0,
              kind="claim", part="tail-margin", aggregate="mean")
for v in ("popgrad", "pop"):
    print(f"bn - {v}: 10th percentile {np.mean(p10['bn'] - p10[v]):+.4f} (bn larger on {int(np.sum(p10['bn'] > p10[v]))}/{S}), "
          f"minimum {np.mean(low['bn'] - low[v]):+.4f} (bn larger on {int(np.sum(low['bn'] > low[v]))}/{S})")
    verdict.measure(f"fraction of seeds with 10th-percentile margin bn > {v}", np.mean(p10["bn"] > p10[v]))
    verdict.measure(f"fraction of seeds with minimum margin bn > {v}", np.mean(low["bn"] > low[v]))

# %% [markdown]
# ## Check: less noise, less gain (part `noise-dose`)
#
# The statistics' noise falls as $1/\sqrt B$ (C4a). `bn` and `popgrad` again, at $B$=`dose_batch_size` for the same
# number of SGD steps (`dose_epochs` epochs of `n // dose_batch_size` steps; the steps agree to within one epoch),
# same seeds, data and initialization. If the margin gain is the noise's, the log ratio bn/popgrad falls: the mean
# over seeds of the per-seed drop from $B$=`batch_size` to $B$=`dose_batch_size` is $>0$ (t interval). Version 1
# checked a three-point sweep (B = 4, 16, 64) against `pop` on 6 seeds; the endpoint pair on all seeds replaces it.

# %%
dose = nz.train_arms(x, y, seeds, net_sizes, batch_size=dose_batch_size, epochs=dose_epochs, lr=lr, arms=("bn", "popgrad"),
                     on_epoch=lambda e: print(f"  B={dose_batch_size}: epoch {e}/{dose_epochs}") if e and e % max(1, dose_epochs // 4) == 0 else None)
dose_margin = nz.arm_margins(dose, x, y, resolution=grid_n, pad=grid_pad)
dose_med = {v: np.median(m, axis=1) for v, m in dose_margin.items()}
dose_log_ratio = np.log(dose_med["bn"] / dose_med["popgrad"])
dose_train = nz.arm_accuracy(dose, x, y)
verdict.check(f"mean over seeds of the drop in log(median margin bn/popgrad) from B={batch_size} to B={dose_batch_size}",
              log_ratio["popgrad"] - dose_log_ratio, ">", 0.0, kind="claim", part="noise-dose", aggregate="mean")
verdict.measure(f"geometric-mean ratio of median margins bn/popgrad at B={dose_batch_size}", np.exp(dose_log_ratio.mean()))
verdict.measure(f"mean over seeds of median margin at B={dose_batch_size}, bn", dose_med["bn"].mean())
verdict.measure(f"mean over seeds of median margin at B={dose_batch_size}, popgrad", dose_med["popgrad"].mean())
for v in ("bn", "popgrad"):
    verdict.measure(f"mean train accuracy at B={dose_batch_size}, {v}", dose_train[v].mean())
print(f"B={dose_batch_size}: median margin bn {dose_med['bn'].mean():.4f}, popgrad {dose_med['popgrad'].mean():.4f}, "
      f"geometric-mean ratio {np.exp(dose_log_ratio.mean()):.4f} (B={batch_size}: {np.exp(log_ratio['popgrad'].mean()):.4f}); "
      f"train accuracy bn {dose_train['bn'].mean():.4f}, popgrad {dose_train['popgrad'].mean():.4f}")

# %% [markdown]
# ## The perturbation of the decision boundary itself
#
# The trained `bn` network of the first `jitter_models` seeds, evaluated with the statistics of `flip_samples` random
# mini-batches instead of the population's: the fraction of mini-batches that flip each training point's prediction.
# Dropout-like noise should touch only points near the boundary, and less so as $B$ grows (reported, not checked).

# %%
flip_sizes = sorted({batch_size, dose_batch_size, 16})
flip = np.zeros((len(flip_sizes), len(jitter_list), n))
for s, seed in enumerate(jitter_list):
    rng = np.random.default_rng([seed, 1])
    for b, size in enumerate(flip_sizes):
        flip[b, s] = mg.flip_rates(main.net, s, x[s], mg.batch_indices(rng, n, size, flip_samples))  # bn is arm 0
for b, size in enumerate(flip_sizes):
    touched = flip[b] > 0
    bn_abs = np.abs(margin["bn"][:len(jitter_list)])
    far = bn_abs[touched].max() if touched.any() else float("nan")
    print(f"B={size:3d}: mean flip rate {flip[b].mean():.4f}; points ever flipped {touched.mean():.3f}; "
          f"largest |margin| of a flipped point {far:.3f} (median |margin| {np.median(bn_abs):.3f})")
    verdict.measure(f"mean flip rate of training points under B={size} statistics", flip[b].mean())

# %% [markdown]
# ## Figures: paired comparisons, margin distributions, and the decision boundaries of one seed

# %%
fig, (ax_h, ax_s, ax_g) = plt.subplots(1, 3, figsize=(16, 4.4))
bins = np.linspace(min(m.min() for m in margin.values()), max(m.max() for m in margin.values()), 40)
for v, colour in [("bn", "C0"), ("popgrad", "C2"), ("pop", "C1")]:
    ax_h.hist(margin[v].ravel(), bins=bins, histtype="step", lw=2, color=colour,
              label=f"{v}: median {np.median(margin[v]):.3f}, 10th pct {np.percentile(margin[v], 10):.3f}")
ax_h.axvline(0, color="k", lw=1)
ax_h.set(xlabel="signed margin (negative: misclassified)", ylabel="training points (all seeds)",
         title=f"B={batch_size}, {epochs} epochs, {S} seeds")
ax_h.legend(fontsize=8, loc="upper left")
for v, colour, marker in [("popgrad", "C2", "o"), ("pop", "C1", "s")]:
    ax_s.scatter(med[v], med["bn"], color=colour, marker=marker, s=18, label=f"against {v}")
lim = [min(min(m.min() for m in med.values()), dose_med["bn"].min()) * 0.95, max(m.max() for m in med.values()) * 1.05]
ax_s.scatter(dose_med["popgrad"], dose_med["bn"], color="0.5", marker="^", s=18, label=f"B={dose_batch_size}: against popgrad")
ax_s.plot(lim, lim, "k-", lw=1)
ax_s.set(xlabel="noise-free arm's median margin", ylabel="bn's median margin", title="per seed: above the diagonal = bn larger")
ax_s.legend(fontsize=8)
panels = [("log median-margin ratio\nbn/popgrad", log_ratio["popgrad"]), ("same at\nB=" + str(dose_batch_size), dose_log_ratio),
          ("10th pct\nbn - popgrad", p10["bn"] - p10["popgrad"]), ("test acc x10\nbn - popgrad", 10 * test_gain)]
for k, (_label, values) in enumerate(panels):
    low_ci, high_ci = stats.t_interval(values)
    ax_g.scatter(np.full(S, k) + np.linspace(-0.15, 0.15, S), values, s=8, color="0.6")
    ax_g.errorbar(k, values.mean(), yerr=[[values.mean() - low_ci], [high_ci - values.mean()]], fmt="o", color="C3", capsize=4)
ax_g.axhline(0, color="k", lw=1)
ax_g.set_xticks(range(len(panels)), [p[0] for p in panels], fontsize=8)
ax_g.set(ylabel="per-seed paired value (grey), mean and 95% t interval (red)", title="the paired checks against popgrad")
verdict.figure(fig, "margin-distributions")
plt.show()

# %% [markdown]
# Left to right: `bn`, `popgrad` and `pop` decision boundaries of the first seed with the training data (crosses: points
# the network misclassifies). On `bn`, thin lines: the boundary under the statistics of `boundary_samples` random
# mini-batches of size `batch_size`, the perturbation the network trained under.

# %%
shown = 0
gx, gy = mg.grid_axes(x[shown:shown + 1], grid_n, grid_pad)
fig, axes = plt.subplots(1, 3, figsize=(17, 5), sharex=True, sharey=True)
rep = mg.replicate(main.net, shown, boundary_samples)
jitter_idx = mg.batch_indices(np.random.default_rng([seeds[shown], 2]), n, batch_size, boundary_samples)
jittered = mg.predict_grid(mg.classifier(rep, "population", mg.minibatch_statistics(rep, x[shown], jitter_idx)),
                           np.repeat(gx, boundary_samples, 0), np.repeat(gy, boundary_samples, 0))
for a, (ax, v) in enumerate(zip(axes, nz.ARMS)):
    one = mg.replicate(main.net, a * S + shown, 1)
    labels = mg.predict_grid(mg.classifier(one, "population", one.statistics(torch.as_tensor(x[shown]))), gx, gy)[0]
    ax.contourf(gx[0], gy[0], labels, levels=[-0.5, 0.5, 1.5], colors=["C0", "C1"], alpha=0.15)
    if v == "bn":
        for k in range(boundary_samples):
            ax.contour(gx[0], gy[0], jittered[k], levels=[0.5], colors="0.4", linewidths=0.5)
    ax.contour(gx[0], gy[0], labels, levels=[0.5], colors="k", linewidths=2)
    wrong = margin[v][shown] < 0
    for c, colour in [(0, "C0"), (1, "C1")]:
        keep = y[shown] == c
        ax.scatter(*x[shown][keep & ~wrong].T, s=12, color=colour, edgecolor="k", linewidth=0.3)
        ax.scatter(*x[shown][keep & wrong].T, s=40, color=colour, marker="X", edgecolor="k", linewidth=0.5)
    ax.set(title=f"{v}: median margin {med[v][shown]:.3f}, min {low[v][shown]:.3f}, train acc {train_acc[v][shown]:.3f}",
           xlabel="$x_1$", ylabel="$x_2$" if a == 0 else "")
verdict.figure(fig, "decision-boundaries")
plt.show()

# %% [markdown]
# ## Deviations from the paper

# %%
verdict.deviation(
    "The paper's body text was not available: this verdict checks the abstract-level claim (with the BN geometry of "
    "the successor paper, Riedi, Balestriero & Baraniuk, PMLR 334), not the paper's theorem, figures or numbers. "
    "The jitter law is derived from BN's definition, not quoted from the paper."
)
verdict.deviation(
    "Data, architecture and training follow the paper notes' suggested experiments (C4a, C4b), not the paper's (unknown): "
    f"moons, MLP 2-{width}-{width}-2 ReLU, BN without affine parameters (gamma=1, beta=0), plain SGD lr={lr}, "
    f"B={batch_size}, {epochs} epochs, {S} seeds; the dose run at B={dose_batch_size} for {dose_epochs} epochs "
    f"({dose_epochs * (n // dose_batch_size)} steps against {epochs * (n // batch_size)})."
)
verdict.deviation(
    "Redesign (issue 15), pre-registered before the paper-scale run: the claim is decided against 'popgrad' (full-data "
    "statistics with gradient, isolating the noise) instead of version 1's 'pop' (detached statistics), on the mean "
    "log ratio > 0 with its t interval instead of 'at least 90% of seeds' and 'mean ratio >= 1.05' (both from the paper "
    "notes' pilot; measured against 'pop' and reported as measurements, not decided); 'improves generalization' is its own "
    "part; the tail margins are paired differences > 0 instead of 90% of seeds; the B sweep (4, 16, 64 on 6 seeds, against "
    "'pop') became the endpoint pair B=8 vs B=64 against 'popgrad' on every seed. The seed count (32) was argued from the "
    "audit's 10-seed numbers of version 1 (no pilot result informed a threshold or the seed count)."
)
verdict.deviation(
    "Margins: the decision boundary is sampled where it crosses the lines of a grid over the data's box +- pad, each "
    f"crossing located by bisection ({grid_n}x{grid_n} grid); version 1 used the nearest boundary pixel of a 500x500 grid "
    "(error up to a cell diagonal). The sampled margin is never below the exact distance, and exceeds it by at most "
    "sqrt(d^2 + h^2/2) - d for a straight boundary. The jitter law uses the first "
    f"{len(jitter_list)} seeds' networks; the flip rates the first {len(jitter_list)} seeds' bn networks."
)
if scale == "quick":
    verdict.deviation(
        "Quick scale: fewer seeds, epochs, dose steps, mini-batches, test points and a coarser grid than the paper "
        "scale; the checks at this scale are a smoke test, the verdict rests on the paper scale."
    )
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
