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
# # balestriero2022/fixed-affine: BN's learnable $\gamma,\beta$ can be fixed to 1 and 0
#
# > "BN parameter [$\gamma$] can be set to 1 and $\beta$ to 0 with negligible impact on performance."
# > (third-party summary of Balestriero & Baraniuk, arXiv:2209.14778; confirmed only as a claim of the paper by the
# > successor paper's footnote 1: "these parameters have minimal to no effect on the final performance")
#
# **Source level.** The paper's body text was not available; this statement is marked third-party in `docs/papers/balestriero2022.md` (a
# third-party summary plus the successor paper's footnote). The paper's own table (reportedly CIFAR accuracy with
# learnable vs fixed $\gamma,\beta$) could not be read, so nothing here is compared with the paper's numbers.
#
# **What we run.** A ReLU MLP with BN before every hidden activation, trained with mini-batch statistics, in three
# arms per seed: `learnable` ($\gamma,\beta$ trained), `fixed` ($\gamma=1,\beta=0$) and a positive `control`
# ($\gamma=1$, $\beta$ fixed at `control_beta` $=-2$). Same weights and the same mini-batch order per seed; all
# $3\times$seeds models train at once on the model axis (`affine_arms.train_affine_arms`: the fixed arms' affine
# gradients are masked to zero, so their $\gamma,\beta$ stay exactly at their initial values). Image data through the
# data policy (CIFAR-10 when it can be had, else Fashion-MNIST, flagged), trained **to convergence** (see the regime
# check), test accuracy in "population" mode with training-set statistics.
#
# **Redesign (issue 15).** Version 2 trained 5 epochs on 10 000 images and compared the arms at a train accuracy of
# about 92%: an under-trained network favours finding no difference, and nothing showed that the test could detect a
# difference of the margin's size. Now: a smaller training set (300 images per class) trained for 30 epochs so that
# both arms fit it (regime), 12 seeds batched on the model axis, and a positive control in the same harness.
#
# **What counts as "negligible" (fixed before any paper-scale result).** Let $\Delta_s$ be the test accuracy of
# `learnable` minus `fixed` on seed $s$, in points. One point is about the seed-to-seed spread of a small MLP on
# these image sets, and well below the gaps normally reported for architectural choices; a larger mean effect would
# not be "negligible".
#
# **Checks** (verdict version 2):
# - *regime*: both arms converge: the worst seed's final train accuracy is $\ge 99\%$ in `learnable` and in
#   `fixed` (`aggregate="min"`). Argument for the bar: the paper's claim is about trained networks' final
#   performance; a network that still misfits more than 1% of its training set is not at the end of training, and
#   the 1% left matches the equivalence margin. A pilot (seeds $\ge 5\,000\,000$, 4 seeds) informed the budget:
#   the worst seed reached 99.3% at 20 epochs and 99.6% at 30; we use 30.
# - *claim*: equivalence within one point, as two one-sided checks on the per-seed paired differences $\Delta_s$:
#   $\overline{\Delta}>-1$ and $\overline{\Delta}<1$, each decided on the 90% t interval (`aggregate="mean"`,
#   `confidence=0.9`). Together they are the equivalence test (TOST) at the 5% level: both pass exactly when the 90%
#   interval lies inside $[-1,1]$. How it can fail: a mean difference beyond one point (interval outside), or an
#   interval that straddles $\pm1$ (undecided: "not shown equivalent").
# - *control* (positive): the same paired test must detect a fixed affine setting that costs accuracy. With
#   $\beta=-2$ fixed for every unit, a unit is active only where its normalized pre-activation exceeds 2 standard
#   deviations (2.3% of the inputs for a Gaussian pre-activation): most units are silent on most images, the
#   network's effective width and the gradient reaching the weights collapse. The pilot measured a cost of about
#   44 points at 30 epochs (4 seeds), far above the margin; the check asks that the 90% interval of
#   `learnable` $-$ `control` lie above $+1$ point (the TOST's upper side, failed decisively). If it does not, the
#   harness cannot tell a one-point cost from none, and the equivalence part is inconclusive. The 90% interval's
#   half-width of $\Delta$ is reported as the smallest difference the test resolves.
# - *sanity*: the fixed arms' $\gamma,\beta$ are still exactly at their initial values after training, and the
#   learnable ones moved. They cannot fail unless the masking is broken.
#
# A conventional paired t-test of $\Delta\neq0$ and the TOST p-value are reported as measurements. Seeds: 12, chosen
# so that the interval is decided: the pilot's per-seed $\Delta$ had a standard deviation of about 0.35 point, so
# the 90% half-width is about 0.2 point, a margin of 1 point is decided unless the true mean is within about 0.2
# of $\pm1$.

# %% tags=["parameters"]
claim_id = "balestriero2022/fixed-affine"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
threads = 1
depth = 3
width = 128
train_per_class = 300
test_per_class = 500
subset_seed = 0
slope = 0.0
epochs = 30
eval_every = 5
batch_size = 64
lr = 0.02
momentum = 0.9
tolerance_points = 1.0
control_beta = -2.0
converged_train_accuracy = 99.0
float64 = False
strict_data = False

# %%
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch
from scipy import stats as st

from bnrepro import claims
from bnrepro import stats
from bnrepro.balestriero2022 import affine_arms
from bnrepro.data import real, subsets

verdict = claims.open(
    claim_id,
    statement=(
        "Fixing BN's affine parameters to gamma = 1, beta = 0 has a negligible effect on performance: on an image "
        f"task (BN MLP trained to convergence, {len(seeds)} seeds, same weights and batches) the mean test-accuracy "
        f"difference learnable minus fixed is within +-{tolerance_points} point, while the same test detects a fixed "
        f"beta = {control_beta} (a positive control). Source level third-party: a third-party summary and the successor "
        "paper's footnote; the paper body was unavailable, so its numbers are not checked."
    ),
    source="third-party summary of arXiv:2209.14778 and the successor paper's footnote 1 (PMLR 334)",
    evidence="abstract",
    stand_ins=[
        "source: the claim is known only from a third-party summary and the successor paper's footnote",
        f"network/budget: ReLU MLP of depth {depth}, width {width}, BN before each activation, on flattened pixels, "
        f"SGD with momentum for {epochs} epochs on {train_per_class} images per class (ours; reportedly CNNs in the paper)",
        "dataset: a class-balanced subset of the image set, the same for every seed (ours)",
        f"'negligible': the mean test-accuracy difference within +-{tolerance_points} point, shown by a TOST (ours)",
        f"'converged': final train accuracy >= {converged_train_accuracy}% on every seed of both arms (ours)",
        f"positive control: beta fixed at {control_beta} for every unit (ours)",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
dtype = torch.float64 if float64 else torch.float32
print(f"MLP depth {depth} width {width}, {epochs} epochs, batch {batch_size}, lr {lr}, momentum {momentum}, "
      f"tolerance {tolerance_points} point, control beta {control_beta}; torch {dtype} on {verdict.device}")

# %% [markdown]
# ## Data
#
# CIFAR-10 (the kind of benchmark the paper's claim is about) through the data policy: when it cannot be had,
# `load("cifar10")` falls back loudly to Fashion-MNIST, then digits, and the verdict flags the substitution.
# A class-balanced subset (`train_per_class` per class for training, `test_per_class` per class from the test set,
# drawn with `subset_seed`), flattened, pixels in $[0,1]$: BN re-centres every layer anyway, so standardizing the
# input would change only the first layer's statistics.

# %%
ds = real.load("cifar10", strict=strict_data)
verdict.use_dataset(ds)
print(ds.provenance())
data = subsets.image_subset(ds, train_per_class, test_per_class, subset_seed)
if data.note:
    verdict.deviation(data.note)
n_classes = int(data.y_train.max()) + 1
print(f"train {data.x_train.shape}, test {data.x_test.shape}, {n_classes} classes")

# %% [markdown]
# ## Train the three arms (all models at once)
#
# Models $0..S-1$ are `learnable`, $S..2S-1$ `fixed`, $2S..3S-1$ `control`; model $s$ of every arm has seed $s$
# (weights) and order seed $s$ (mini-batches). Accuracies are measured every `eval_every` epochs.

# %%
S = len(seeds)
sizes = [data.x_train.shape[1]] + [width] * depth + [n_classes]
run = affine_arms.train_affine_arms(
    sizes, seeds, data, control_beta=control_beta, slope=slope, epochs=epochs, batch_size=batch_size, lr=lr,
    momentum=momentum, eval_every=eval_every, dtype=dtype,
    progress=lambda e, te, tr: print(f"  epoch {e}: test " + ", ".join(
        f"{arm} {te[i * S:(i + 1) * S].mean():.4f}" for i, arm in enumerate(affine_arms.ARMS))
        + f"; min train learnable {tr[:S].min():.4f}, fixed {tr[S:2 * S].min():.4f}", flush=True))
net = run.net
learn_acc, fixed_acc, control_acc = (run.final(arm) * 100 for arm in affine_arms.ARMS)
learn_train, fixed_train, control_train = (run.final(arm, "train") * 100 for arm in affine_arms.ARMS)
delta = learn_acc - fixed_acc
delta_control = learn_acc - control_acc
print("test accuracy learnable (%):", np.round(learn_acc, 2))
print("test accuracy fixed     (%):", np.round(fixed_acc, 2))
print("test accuracy control   (%):", np.round(control_acc, 2))
print("difference learnable - fixed (points):", np.round(delta, 2))
print("train accuracy learnable / fixed / control (%):", np.round(learn_train, 2), np.round(fixed_train, 2),
      np.round(control_train, 2))

# %% [markdown]
# ## Checks

# %%
gammas = torch.cat([g.detach() for g in net.gammas], dim=1)
betas = torch.cat([b.detach() for b in net.betas], dim=1)
verdict.check("max |gamma - 1| + |beta - beta_init| over the fixed and control models after training",
              float((gammas[S:] - 1).abs().max() + betas[S:2 * S].abs().max() + (betas[2 * S:] - control_beta).abs().max()),
              "<=", 0.0, kind="sanity")
verdict.check("min over learnable models of max |gamma - 1| (they did train)",
              float((gammas[:S] - 1).abs().amax(dim=1).min()), ">", 0.0, kind="sanity")

verdict.check(f"converged: min over seeds of the final train accuracy, learnable (%) >= {converged_train_accuracy}",
              learn_train, ">=", converged_train_accuracy, kind="regime", aggregate="min")
verdict.check(f"converged: min over seeds of the final train accuracy, fixed (%) >= {converged_train_accuracy}",
              fixed_train, ">=", converged_train_accuracy, kind="regime", aggregate="min")

mean, ci = stats.paired_difference(learn_acc, fixed_acc, confidence=0.9)
print(f"mean difference {mean:+.3f} points, 90% CI [{ci[0]:+.3f}, {ci[1]:+.3f}]")
verdict.check(f"mean test-accuracy difference learnable - fixed (points), TOST lower side: > -{tolerance_points}",
              delta, ">", -tolerance_points, kind="claim", aggregate="mean", confidence=0.9)
verdict.check(f"mean test-accuracy difference learnable - fixed (points), TOST upper side: < +{tolerance_points}",
              delta, "<", tolerance_points, kind="claim", aggregate="mean", confidence=0.9)
verdict.check(f"positive control: mean test-accuracy difference learnable - control (beta = {control_beta}) "
              f"(points) > +{tolerance_points} (detected beyond the margin)",
              delta_control, ">", tolerance_points, kind="control", aggregate="mean", confidence=0.9)
sem = delta.std(ddof=1) / np.sqrt(S)
p_tost = max(st.t.sf((mean + tolerance_points) / sem, S - 1), st.t.cdf((mean - tolerance_points) / sem, S - 1))
verdict.measure("TOST p-value (equivalence within the tolerance)", p_tost)
verdict.measure("half-width of the 90% interval of learnable - fixed (points): the smallest difference resolved",
                (ci[1] - ci[0]) / 2)
p_diff = st.ttest_rel(learn_acc, fixed_acc).pvalue
verdict.measure("paired t-test p-value, learnable vs fixed (difference test)", p_diff if np.isfinite(p_diff) else 1.0)
verdict.measure("mean test accuracy learnable (%)", learn_acc.mean())
verdict.measure("mean test accuracy fixed (%)", fixed_acc.mean())
verdict.measure("mean test accuracy control (%)", control_acc.mean())
verdict.measure("mean test-accuracy difference learnable - fixed (points)", mean)
verdict.measure("mean test-accuracy difference learnable - control (points)", delta_control.mean())
verdict.measure("mean train accuracy learnable (%)", learn_train.mean())
verdict.measure("mean train accuracy fixed (%)", fixed_train.mean())
verdict.measure("mean train accuracy control (%)", control_train.mean())
print(f"TOST p = {p_tost:.3g}; difference-test p = {p_diff:.3g}")

# %% [markdown]
# ## Figure: accuracy during training and the per-seed differences

# %%
colours = sns.color_palette(n_colors=3)
fig, (ax, ax_tr, ax_d) = plt.subplots(1, 3, figsize=(15, 4), gridspec_kw={"width_ratios": [1.2, 1.2, 1]})
ep = run.epochs_recorded
styles = dict(zip(affine_arms.ARMS, ("-", "--", ":")))
labels = {"learnable": "learnable gamma, beta", "fixed": "fixed gamma=1, beta=0", "control": f"control: beta={control_beta}"}
for i, arm in enumerate(affine_arms.ARMS):
    for s in range(S):
        kw = dict(color=colours[i], lw=0.8, ls=styles[arm], label=labels[arm] if s == 0 else None)
        ax.plot(ep[1:], run.test_curve[1:, i * S + s] * 100, **kw)
        ax_tr.plot(ep[1:], run.train_curve[1:, i * S + s] * 100, **kw)
ax.set(xlabel="epoch", ylabel="test accuracy (%)", title=f"{ds.used}, BN MLP {depth}x{width}, {S} seeds")
ax_tr.axhline(converged_train_accuracy, color="grey", lw=0.8, ls="-.", label=f"regime bar {converged_train_accuracy}%")
ax_tr.set(xlabel="epoch", ylabel="train accuracy (%)", title="train accuracy (regime: converged)")
ax.legend(fontsize=8)
ax_tr.legend(fontsize=8)
ax_d.axhspan(-tolerance_points, tolerance_points, color="grey", alpha=0.15, label=f"tolerance +-{tolerance_points}")
ax_d.scatter(np.arange(S), delta, color="k", s=12, zorder=3, label="learnable - fixed, per seed")
ax_d.errorbar([S + 0.5], [mean], yerr=[[mean - ci[0]], [ci[1] - mean]], fmt="o", color=colours[0], capsize=4,
              label="mean, 90% CI")
ax_d.axhline(0, color="grey", lw=0.8)
ax_d.set(xlabel="seed index", ylabel="learnable - fixed (points)",
         title=f"difference (control: learnable - control = {delta_control.mean():.1f} points)")
ax_d.legend(fontsize=8)
verdict.figure(fig, "learnable-vs-fixed-affine")
plt.show()

# %% [markdown]
# ## Deviations

# %%
verdict.deviation(
    "The paper's body text was not available; the claim is known only at third-party level (a third-party summary and "
    "the successor paper's footnote 1). The statement checks that claim, not the paper's table or numbers "
    "(reportedly CIFAR with deep CNNs)."
)
verdict.deviation(
    f"Our setting, not the paper's: an MLP of depth {depth}, width {width} (ReLU, BN before each activation, "
    f"biased batch variance, eps 1e-5) on flattened pixels of a class-balanced {ds.used} subset ({train_per_class} "
    f"training, {test_per_class} test images per class, subset_seed={subset_seed}), SGD lr {lr}, momentum "
    f"{momentum}, batch {batch_size}, {epochs} epochs, no weight decay or augmentation, torch {dtype}."
)
verdict.deviation(
    f"'Negligible' is our definition, fixed before the run: a mean difference within +-{tolerance_points} point over "
    f"{len(seeds)} seeds, shown by a 90% paired CI inside +-{tolerance_points} (TOST at 5%)."
)
verdict.deviation(
    "Redesigned (issue 15) before its first paper-scale run: version 2 compared 5 seeds after 5 epochs on 1000 images "
    "per class (train accuracy about 92%, under-trained) with no positive control; now 12 seeds trained to "
    f"convergence (regime: train accuracy >= {converged_train_accuracy}%) on {train_per_class} images per class, and a "
    f"positive control (beta fixed at {control_beta}) that the same test must detect. The budget, the control's beta "
    "and the seed count were informed by a pilot on seeds >= 5,000,000."
)
verdict.deviation(
    "Changed after the issue-15 paper-scale result was seen, for the runtime budget only (issue 17): training runs in "
    "float32 (was float64; the quick scale keeps float64, whose decisions do not move between CPU kernels), and the "
    "job takes two threads instead of one (the registry's `threads`; its large batched matmuls use both cores). On "
    "CIFAR-10-sized images (3072 inputs) the float64 run took 466 CPU s against a 5-minute budget. The initial "
    "weights are the float64 draws rounded; the checks, thresholds, seeds and budget in epochs are unchanged. The "
    "float64 result (docs/runs/balestriero2022-fixed-affine.md) and this one are both recorded there."
)
if ds.substituted:
    verdict.deviation(f"Data substituted: requested {ds.requested}, used {ds.used} ({ds.reason}).")
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
