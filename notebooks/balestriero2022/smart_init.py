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
# # balestriero2022/smart-init: BN's statistics at initialization are a "smart initialization"
#
# > "BN provides a 'smart initialization' that boosts the performance of DN learning, because it adapts even a DN
# > initialized with random weights to align its spline partition with the data."
# > (Balestriero & Baraniuk, arXiv:2209.14778, **abstract**)
#
# **The paper's body text was not available** (see `docs/papers/balestriero2022.md`): this notebook checks the
# abstract-level claim with our own protocol, not the paper's experiment or numbers (which could not be read).
#
# **Protocol.** Per seed: one data subset (its own draw of moons, its own stratified split of the digits, its own
# class-balanced subset of the image set), one set of He-normal random weights of a ReLU MLP (depth 4), and five
# initializations of those weights: `zero` (no BN, zero biases), `torch` (no BN, PyTorch-default biases
# $U(\pm1/\sqrt{\rm fan\_in})$), `bninit_fold` (one pass over the seed's training set, BN's $\mu,\sigma$ folded into
# the weights layer by layer, $W\leftarrow W/\sigma$, $c\leftarrow-\mu/\sigma$, then trained **without** BN),
# `bninit_center` (only $c\leftarrow-\mu$: every hyperplane through the centroid of its layer's inputs, no
# rescaling) and the reference `bn_train` (BN during training, evaluated with the training set's statistics). The
# five arms of a seed see identical mini-batches, so they differ only in the initialization. All seeds and arms
# train at once (`early_learning.train_curves`: one batched matmul over the seed axis), with momentum SGD for
# `long_epochs` epochs; test accuracy is recorded `evals_per_epoch` times per epoch in the early window, then
# every `late_eval_every` epochs.
#
# **What "boosts learning" means here, fixed before the result.** The *early learning curve*: test accuracy
# against SGD steps from initialization to the end of epoch `early_epochs` = 3, summarized by its normalized area
# (trapezoid rule; the mean test accuracy over the window, in points). Why 3 epochs: it is the budget the earlier
# version of this claim and the paper notes' protocol used as "a short budget, where initialization matters",
# chosen before any of our runs; it is 45-93 SGD steps here, the phase an initialization can plausibly speed up.
# Why the area rather than the accuracy at one step: "boosts learning" is about the whole early trajectory, and the
# earlier version's end-point accuracy depended on which step was read (+4.1 points at epoch 1, +0.7 at epoch 3
# on the image set in the audit of that version); the area averages over the window instead of picking a point.
#
# **Parts and checks** (verdict version 2):
# - *claim*, one part per dataset (`shifted-moons`, `digits`, `images`): the mean over seeds of the paired gain
#   in early area of `bninit_fold` over `zero` is $\ge 3$ points, and over `torch` $\ge 2$ points. The bars are the
#   paper notes' criteria for this experiment (set there for the accuracy at 3 epochs, before any run of ours):
#   a gain a reader would call a boost, not a rounding effect. The centring-only arm is a measurement (it isolates
#   the hyperplanes-through-the-centroid half of BN's fold; the claim is about BN's full statistics).
# - *claim*, part `long-budget`: the advantage persists when training goes on. The abstract's "boosts the
#   performance of DN learning" can be read as faster learning (the parts above) or as a better end result; the
#   earlier version of this claim found the gain reversing by 20 epochs (-2.2 points on the image set), so that
#   reading is decided in a part of its own instead of being hidden in a deviation: per dataset and baseline, the
#   mean paired gain in test accuracy at `long_epochs` = 20 epochs is $> 0$ (the boost is still there). It fails
#   when a reversal is established, passes when the gain is. The pilot (below) informed this bar: a first draft
#   asked for non-inferiority with a 1-point margin, and the pilot's digits gain (-1.2 points, sd 0.7) sat on that
#   margin; "> 0" is the statement the question "does the advantage persist" asks, and it is decidable.
# - **Multiplicity**: the 12 claim checks are one family. Each check's interval is a two-sided t interval at
#   the confidence Holm's step-down procedure gives it (family-wise level 5 %, from the checks' two-sided t-test
#   p-values against their thresholds; `stats.holm_confidences`), so a check is decided exactly when Holm
#   rejects "mean = threshold" for it.
# - *regime*, per dataset: the networks are competent, i.e. `bn_train`'s mean test accuracy at 20 epochs is above
#   a bar (shifted moons and digits 90 %, the image set 70 % for an MLP on 1000 images); otherwise the stand-in is
#   not a setting where a learning speed-up means anything.
# - *sanity*: at initialization `bninit_fold` computes exactly what the BN network computes with its training
#   set's statistics (relative logit difference $\le10^{-9}$); the number of decided claim checks equals the
#   number of Holm rejections (counted as the intervals that exclude their bar: see the check).
# - *measurements*: the centring-only arm's gains; centred moons (where zero-bias first-layer hyperplanes already
#   pass through the data's centroid, so a smaller gain is expected; reported, not a control); gains at epochs 1,
#   3, 20; the gap to `bn_train`.
#
# **How each check can fail or pass.** The early-area checks fail when the gain is below the bar: on digits the
# earlier version's gain at 3 epochs was 1.14 points on other seeds (below 3); they pass when it is large
# (shifted moons, +14 points or more in every earlier run). The long-budget checks fail on an established reversal
# (the earlier version saw -2.2 points on the image set) and pass where the gain persists (shifted moons, where the
# zero- and torch-bias networks stay stuck near 82 % in the pilot). A dataset where both starts end at the same
# accuracy would leave its long-budget check undecided at any seed count: none did in the pilot.
#
# **Seeds.** 40 per dataset (registry seeds), informed by a pilot on seeds 5,000,000-5,000,019 (20 seeds, the same
# datasets and budgets). Pilot means (sd over seeds), points: early-area gains of `bninit_fold` over zero / torch,
# shifted moons +14.0 (3.8) / +13.9 (4.3), digits +9.1 (3.8) / +8.8 (3.9), image set +4.1 (2.7) / +3.5 (2.4);
# gains at 20 epochs, shifted moons +13.5 / +13.1, digits -1.2 (0.7) / -1.1 (0.8), image set -1.0 (2.2) / -0.6
# (2.0). Shifted moons and digits are decided with room at 40 seeds. The image set's gaps to its bars (1.1 and
# 1.5 points early, 1.0 and 0.6 at 20 epochs) would need about 60-90 seeds to be decided at Holm's levels in
# expectation; the runtime budget (5 min on 2 cores, float64) affords about 40. An image-set check left undecided
# is a finding reported as such (with the seed count it would need), not a pass.

# %% tags=["parameters"]
claim_id = "balestriero2022/smart-init"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3, 4, 5]
threads = 1
depth = 4
moons_n = 1000
moons_noise = 0.2
moons_shift = 3.0
moons_width = 32
digits_width = 64
image_width = 64
image_train_per_class = 100
image_test_per_class = 100
slope = 0.0
early_epochs = 3
evals_per_epoch = 4
late_eval_every = 5
long_epochs = 20
batch_size = 32
lr = 0.01
momentum = 0.9
early_bars = {"zero": 3.0, "torch": 2.0}
family_alpha = 0.05
competence_bars = {"shifted moons": 0.90, "digits": 0.90, "images": 0.70}
float64 = False
strict_data = False

# %%
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch

from bnrepro import claims, stats
from bnrepro.balestriero2022 import datasets, early_learning
from bnrepro.data import real, subsets

verdict = claims.open(
    claim_id,
    statement=(
        "Folding the BN statistics of a randomly initialized ReLU MLP (depth "
        f"{depth}) into a plain network is a smart initialization that boosts learning: over the first {early_epochs} "
        f"epochs of SGD (batch {batch_size}, lr {lr}, momentum {momentum}) the area under its test-accuracy curve "
        f"beats zero biases by >= {early_bars['zero']:g} points and PyTorch-default biases by >= {early_bars['torch']:g} "
        f"points (one part per dataset), and after {long_epochs} epochs its test-accuracy gain is still > 0 "
        "(part long-budget); Holm-corrected over the 12 checks. Checked on the abstract-level "
        "claim (paper body unavailable), not the paper's numbers."
    ),
    source="abstract (arXiv:2209.14778)",
    evidence="abstract",
    stand_ins=[
        "protocol: the five initializations of one set of random weights per seed, trained with identical "
        "mini-batches (ours; the paper's experiment could not be read)",
        f"'boosts learning': the normalized area under the test-accuracy curve over the first {early_epochs} epochs, "
        f"{evals_per_epoch} evaluations per epoch (ours)",
        f"network: ReLU MLP of depth {depth} (width {moons_width} on moons, {digits_width} on digits, {image_width} on "
        f"the image set), trained in {'float64' if float64 else 'float32'}, momentum SGD, {long_epochs} epochs in all (ours)",
        "data, one subset per seed: two moons shifted by +3 (one draw per seed), digits/16 (a stratified 50/50 split "
        f"per seed), an image set through an MLP on flattened pixels ({image_train_per_class} training and "
        f"{image_test_per_class} test images per class, drawn per seed) (ours)",
        f"the long-budget reading: the gain in test accuracy after {long_epochs} epochs is > 0 (ours)",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
ARMS = early_learning.ARMS
dtype = torch.float64 if float64 else torch.float32
print(f"depth={depth}, early window {early_epochs} epochs ({evals_per_epoch} evaluations per epoch), {long_epochs} epochs "
      f"in all, batch {batch_size}, lr {lr}, momentum {momentum}; {len(seeds)} seeds; torch {dtype} on {verdict.device}")

# %% [markdown]
# ## Data: one subset per seed
#
# The image set goes through the data policy: `load("cifar10")` falls back loudly along cifar10 -> fashion-mnist ->
# digits. Pixels stay in $[0,1]$, **not standardized**: the claim is about BN moving the partition to uncentred
# data; standardized pixels would put the first layer's zero-bias hyperplanes through the centroid already (like
# centred moons). Digits are likewise pixels/16.

# %%
ds = real.load("cifar10", strict=strict_data)
verdict.use_dataset(ds)
print("image set:", ds.provenance())
image_key = f"{ds.used} (MLP)"
(image_train_per_class,), image_test_per_class, shortfall = subsets.per_class_counts(
    ds, (image_train_per_class,), image_test_per_class)
if shortfall:
    verdict.deviation(shortfall)
data = {
    "shifted moons": datasets.moons_batch(seeds, moons_n, moons_noise, shift=moons_shift),
    "digits": early_learning.per_seed_digits(seeds),
    image_key: early_learning.per_seed_images(ds, seeds, image_train_per_class, image_test_per_class),
    "centred moons": datasets.moons_batch(seeds, moons_n, moons_noise, shift=0.0),
}
widths = {"shifted moons": moons_width, "digits": digits_width, image_key: image_width, "centred moons": moons_width}
part_of = {"shifted moons": "shifted-moons", "digits": "digits", image_key: "images"}
bar_key = {"shifted moons": "shifted moons", "digits": "digits", image_key: "images"}
for name, d in data.items():
    print(f"{name}: per seed train {d.x_train.shape[1]} x {d.x_train.shape[2]}, test {d.x_test.shape[1]}, "
          f"{int(d.y_train.max()) + 1} classes, input mean {d.x_train.mean():.2f}")

# %% [markdown]
# ## Train the five arms of every seed

# %%
curves = {}
for name, d in data.items():
    n_classes = int(d.y_train.max()) + 1
    sizes = [d.x_train.shape[-1]] + [widths[name]] * depth + [1 if n_classes == 2 else n_classes]
    curves[name] = early_learning.train_curves(
        sizes, seeds, d, slope=slope, epochs=long_epochs, batch_size=batch_size, lr=lr, momentum=momentum,
        early_epochs=early_epochs, evals_per_epoch=evals_per_epoch, late_every=late_eval_every, dtype=dtype,
        progress=lambda e, a, name=name: print(
            f"  {name} epoch {e}: " + " ".join(f"{k}={v:.3f}" for k, v in zip(ARMS, a.mean(axis=1))), flush=True)
        if e in (1, early_epochs, long_epochs) else None)

# %%
area = {name: early_learning.early_area(c, early_epochs) * 100 for name, c in curves.items()}  # (5, S), points
final = {name: c.test_accuracy[-1] * 100 for name, c in curves.items()}
print(f"mean early area (first {early_epochs} epochs) and final test accuracy ({long_epochs} epochs), %")
print(f"{'':24s}" + "".join(f"{k:>15s}" for k in ARMS))
for name in data:
    print(f"{name + ' early':24s}" + "".join(f"{v:15.1f}" for v in area[name].mean(axis=1)))
    print(f"{name + ' final':24s}" + "".join(f"{v:15.1f}" for v in final[name].mean(axis=1)))

# %% [markdown]
# ## The claim checks, Holm-corrected as one family
#
# First every claim check's per-seed gains and its two-sided t-test p-value against its bar; then Holm's
# confidence level per check; then the checks.

# %%
fold, centre = ARMS.index("bninit_fold"), ARMS.index("bninit_center")
family = []  # (name, part, per-seed gains, bar)
for name in part_of:
    for base in ("zero", "torch"):
        gain = area[name][fold] - area[name][ARMS.index(base)]
        family.append((f"{name}: early-area gain of bninit_fold over {base} (points, first {early_epochs} epochs)",
                       part_of[name], gain, early_bars[base]))
for name in part_of:
    for base in ("zero", "torch"):
        gain = final[name][fold] - final[name][ARMS.index(base)]
        family.append((f"{name}: test-accuracy gain of bninit_fold over {base} at {long_epochs} epochs (points)",
                       "long-budget", gain, 0.0))
pvalues = np.array([stats.t_pvalue(gain, bar) for _, _, gain, bar in family])
confidences = stats.holm_confidences(pvalues, family_alpha)
for (check_name, part, gain, bar), confidence in zip(family, confidences):
    verdict.check(check_name, gain, ">=" if part != "long-budget" else ">", bar, kind="claim", part=part, aggregate="mean", confidence=float(confidence))
holm_rejections = int((stats.holm_adjusted(pvalues) <= family_alpha).sum())
# Holm rejects "mean = bar" exactly when the check's interval excludes its bar. (A check whose per-seed gains are all
# equal to its bar has the interval [bar, bar]: "> bar" is then decided as failing, yet "mean = bar" holds; the
# benchmark on a synthetic CIFAR-shaped stand-in, where every arm reaches 100 %, found this case.)
excluding = sum(not (c.interval[0] <= c.threshold <= c.interval[1]) for c in verdict.checks if c.kind == "claim")
verdict.check("|claim-check intervals excluding their bar - Holm rejections|", abs(excluding - holm_rejections), "<=", 0,
              kind="sanity")
for (check_name, *_), p, confidence in zip(family, stats.holm_adjusted(pvalues), confidences):
    print(f"  Holm-adjusted p {p:.2g}, interval at {confidence:.4f}: {check_name}")

# %% [markdown]
# ## Regime and sanity

# %%
for name in part_of:
    verdict.check(f"{name}: bn_train test accuracy at {long_epochs} epochs (competent network)",
                  curves[name].test_accuracy[-1, ARMS.index("bn_train")], ">=", competence_bars[bar_key[name]],
                  kind="regime", aggregate="mean")
for name, c in curves.items():
    verdict.check(f"{name}: bninit_fold = BN with training-set statistics at initialization (relative logit difference)",
                  c.fold_mismatch, "<=", 1e-9, kind="sanity")

# %% [markdown]
# ## Measurements: the centring-only arm, centred moons, the gain along training

# %%
for name in data:
    for base in ("zero", "torch"):
        for arm in ("bninit_fold", "bninit_center"):
            gain = area[name][ARMS.index(arm)] - area[name][ARMS.index(base)]
            low, high = stats.t_interval(gain)
            verdict.measure(f"{name}: early-area gain of {arm} over {base} (points)", gain.mean())
            verdict.measure(f"{name}: early-area gain of {arm} over {base}, 95% interval low", low)
            verdict.measure(f"{name}: early-area gain of {arm} over {base}, 95% interval high", high)
    c = curves[name]
    for epoch in sorted({1, early_epochs, long_epochs}):
        row = int(np.flatnonzero(np.isclose(c.epochs, epoch))[0])
        for base in ("zero", "torch"):
            gain = (c.test_accuracy[row, fold] - c.test_accuracy[row, ARMS.index(base)]) * 100
            verdict.measure(f"{name}: test-accuracy gain of bninit_fold over {base} at epoch {epoch} (points)", gain.mean())
    verdict.measure(f"{name}: bn_train minus bninit_fold, test accuracy at {long_epochs} epochs (points)",
                    (final[name][ARMS.index("bn_train")] - final[name][fold]).mean())
    verdict.measure(f"{name}: train accuracy of bninit_fold at {long_epochs} epochs", c.train_accuracy[fold].mean())

# %% [markdown]
# ## Learning curves
#
# Top: mean test accuracy per arm against epochs (band: $\pm1$ standard error over seeds; shaded: the early window).
# Bottom: the mean paired gain of `bninit_fold` (black) and `bninit_center` (colour) over `zero` (solid) and
# `torch` (dashed), with the 95 % t interval of the `bninit_fold` - `zero` gain.

# %%
palette = dict(zip(ARMS, sns.color_palette(n_colors=len(ARMS))))
fig, axes = plt.subplots(2, len(data), figsize=(4.2 * len(data), 7.5), sharex=True)
for col, name in enumerate(data):
    ax, ax_gap = axes[0, col], axes[1, col]
    c = curves[name]
    a = c.test_accuracy * 100
    for i, arm in enumerate(ARMS):
        mean, se = a[:, i].mean(axis=1), a[:, i].std(axis=1, ddof=1) / np.sqrt(len(seeds))
        ax.plot(c.epochs, mean, color=palette[arm], label=arm, lw=1.6)
        ax.fill_between(c.epochs, mean - se, mean + se, color=palette[arm], alpha=0.2, lw=0)
    ax.set(title=name, ylabel="test accuracy (%)", ylim=(max(np.min(a.mean(axis=2)[1:]) - 5, 0), 100))
    for base, style in (("zero", "-"), ("torch", "--")):
        for arm, color in (("bninit_fold", "k"), ("bninit_center", palette["bninit_center"])):
            ax_gap.plot(c.epochs, (a[:, ARMS.index(arm)] - a[:, ARMS.index(base)]).mean(axis=1), color=color, ls=style,
                        label=f"{arm} - {base}")
    gain = a[:, fold] - a[:, ARMS.index("zero")]
    bands = np.array([stats.t_interval(g) for g in gain])
    ax_gap.fill_between(c.epochs, bands[:, 0], bands[:, 1], color="k", alpha=0.12, lw=0)
    ax_gap.axhline(0, color="grey", lw=0.8)
    ax_gap.set(xlabel="epoch", ylabel="mean gain (points)")
    for axis in (ax, ax_gap):
        axis.axvspan(0, early_epochs, color="grey", alpha=0.08, lw=0)
axes[0, 0].legend(fontsize=8)
axes[1, 0].legend(fontsize=7)
fig.suptitle(f"Five initializations, same weights and batches per seed; {len(seeds)} seeds, one data subset each")
verdict.figure(fig, "learning-curves")
plt.show()

# %% [markdown]
# ## Deviations

# %%
verdict.deviation(
    "Changed after the paper-scale result (d48856c), a sanity check only: the Holm cross-check counted every decided "
    "claim check; it now counts the intervals that exclude their bar, the checks Holm's 'mean = bar' test rejects. The "
    "two differ only when a check's per-seed values all equal its bar (a failing '> bar' with nothing rejected), which "
    "a CIFAR-shaped stand-in (every arm at 100 %) produced; no claim check, threshold or seed changed."
)
verdict.deviation(
    "The paper's body text was not available: the statement checks the abstract-level claim with our protocol "
    "(our choice of data, architecture, budget and metric), not the paper's own experiment (reportedly CIFAR and "
    "ResNets, third-party summary) or its numbers."
)
verdict.deviation(
    "Redesigned (issue 15) from the earlier version, which compared test accuracy at 3 epochs on 10 seeds with one "
    "image subset for all seeds and eight uncorrected tests: now one data subset per seed, the early-curve area, "
    "Holm's correction over the claim checks, and the long-budget reading as its own part. Its pre-registration "
    "commit precedes the first paper-scale run of this design; the seed count was set from a pilot on seeds >= 5,000,000."
)
verdict.deviation(
    f"This notebook uses four datasets; the verdict's dataset field records only the image set's provenance "
    f"(requested {ds.requested}, used {ds.used}). The others are synthetic moons (one draw per seed) and "
    "scikit-learn digits (a split per seed)."
)
verdict.deviation(
    f"Image set: an MLP of depth {depth}, width {image_width} on flattened {ds.used} pixels in [0, 1] (not "
    f"standardized), {image_train_per_class} training and {image_test_per_class} test images per class, drawn per "
    "seed; no CNN."
)
verdict.deviation(
    f"ReLU networks (slope 0), trained in {dtype} (initializations and the fold check in float64), plain cross-entropy / logistic loss, no weight decay or data augmentation; "
    "the output layer keeps a zero bias in every initialization except torch (PyTorch-default bias everywhere)."
)
verdict.deviation(
    "Changed after the issue-15 paper-scale result was seen, for the runtime budget only (issue 17): training runs in "
    "float32 (was float64; the initializations, the fold check and the accuracy at step 0 stay float64, and the quick "
    "scale keeps float64, whose decisions do not move between CPU kernels), and the first layer's weights are stored "
    "in its matmul's layout (the same float64 arithmetic, without a permuted copy per step); the job takes two "
    "threads instead of one (the registry's `threads`; its large batched matmuls use both cores). On CIFAR-10-sized "
    "images (3072 inputs) the float64 run took 507 CPU s against a 5-minute budget. Checks, thresholds, seeds and "
    "epochs are unchanged; the float64 result and this one are both in docs/runs/balestriero2022-smart-init.md."
)
if ds.substituted:
    verdict.deviation(f"Image set substituted: requested {ds.requested}, used {ds.used} ({ds.reason}).")
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
