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
# **The paper's body text was not available** (our paper notes, `docs/papers/balestriero2022.md`, "What of the paper
# could be read"): this notebook checks the abstract-level claim with the paper notes' protocol C3, not the paper's own
# experiment or numbers (which could not be read).
#
# **Protocol C3.** Per seed, one set of He-normal random weights of a ReLU MLP (depth 4), five initializations:
# `zero` (no BN, zero biases), `torch` (no BN, PyTorch-default biases $U(\pm1/\sqrt{\rm fan\_in})$), `bninit_fold`
# (one pass over the training set, BN's $\mu,\sigma$ folded into the weights layer by layer: $W\leftarrow W/\sigma$,
# $c\leftarrow-\mu/\sigma$, then trained **without** BN), `bninit_center` (only $c\leftarrow-\mu$: every hyperplane
# through the centroid of its layer's inputs, no rescaling) and the reference `bn_train` (BN during training,
# evaluated with training-set statistics). All five see identical mini-batches (same order seed), so they differ only
# in the initialization. SGD with momentum, a **short budget** (`epochs`), then the same runs continued to
# `long_epochs` to show how the gap evolves. Data: (a) two moons shifted by $(+3,+3)$, (b) digits/16 (uncentred
# pixels), (c) an image set through the data policy (CIFAR-10, else Fashion-MNIST, else digits; an MLP on flattened
# pixels), and (d) centred moons, where the effect should be smaller (reported).
#
# **Checks** (verdict version 2; C3, at the short budget; every check is on the per-seed paired gains in points):
# - *claim*, one part per uncentred dataset (`shifted-moons`, `digits`, `images`): the mean gain of the BN-folded
#   initialization over `zero` is $\ge3$ points and over `torch` $\ge2$ points (95% t interval), and each mean gain is
#   $>0$ at 99% (version 1's two-sided paired t-test $p<0.01$: the 99% interval excludes 0 exactly when $p<0.01$).
#   On shifted moons the same checks of `bninit_center` belong to part `shifted-moons`; on digits and the image set
#   they are parts of their own (`digits-centring`, `images-centring`; version 1 called them non-essential).
# - *measurements*: the same mean gains on centred moons (version 1 ran non-essential checks there, expected to fail;
#   see below why they are not a version-2 control).
#
# The gap to `bn_train` is reported as a measurement.

# %% tags=["parameters"]
claim_id = "balestriero2022/smart-init"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
threads = 2
depth = 4
moons_n = 1000
moons_noise = 0.2
moons_shift = 3.0
moons_width = 32
digits_width = 64
image_width = 64
image_train_per_class = 100
image_test_per_class = 100
subset_seed = 0
slope = 0.0
epochs = 3
long_epochs = 20
batch_size = 32
lr = 0.01
momentum = 0.9
strict_data = False

# %%
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from bnrepro import claims
from bnrepro.balestriero2022 import datasets, initialization
from bnrepro.data import real, subsets

verdict = claims.open(
    claim_id,
    statement=(
        "Folding the BN statistics of a randomly initialized ReLU MLP (depth "
        f"{depth}) into a plain network is a smart initialization: after a short budget of {epochs} epochs of SGD "
        f"(batch {batch_size}, lr {lr}, momentum {momentum}) it beats zero biases by >= 3 points and PyTorch-default "
        "biases by >= 2 points of test accuracy (paired t-test p < 0.01) on uncentred data; checked on the "
        "abstract-level claim (paper body unavailable), not the paper's numbers."
    ),
    source="abstract (arXiv:2209.14778)",
    evidence="abstract",
    stand_ins=[
        "protocol: the five initializations of one set of random weights, trained with identical mini-batches "
        "(protocol C3, ours; the paper's experiment could not be read)",
        f"network: ReLU MLP of depth {depth} (width {moons_width} on moons, {digits_width} on digits, {image_width} on "
        f"the image set), SGD with momentum, a short budget of {epochs} epochs (ours)",
        "data: two moons shifted by +3 and digits/16 (ours); an image set through an MLP on flattened pixels, a "
        "class-balanced subset shared by all seeds (ours)",
        "comparison: centred moons, reported (ours)",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
assert long_epochs >= epochs, "long_epochs continues the short-budget runs"
INITS = initialization.INITIALIZATIONS
print(f"depth={depth}, slope={slope}, budget {epochs} epochs (curves to {long_epochs}), "
      f"batch {batch_size}, lr {lr}, momentum {momentum}; torch float64 on {verdict.device}")

# %% [markdown]
# ## Data
#
# The image set goes through the data policy: `load("cifar10")` falls back loudly along cifar10 -> fashion-mnist ->
# digits. We take a class-balanced subset (all 10 classes) sized to the short budget, drawn with `subset_seed`,
# flattened; pixels stay in $[0,1]$, **not standardized**: the claim is about BN moving the partition to uncentred
# data, and standardizing the pixels would make the first layer's zero-bias hyperplanes already pass through the
# centroid (like the centred-moons control). Digits are likewise pixels/16, with the fixed split of `bnrepro.data`.
# Moons: one `make_moons` draw per seed, split 50/50 stratified.

# %%
ds = real.load("cifar10", strict=strict_data)
verdict.use_dataset(ds)
print("image set:", ds.provenance())
data = {
    "shifted moons": datasets.moons_batch(seeds, moons_n, moons_noise, shift=moons_shift),
    "digits": datasets.digits(),
    f"{ds.used} (MLP)": subsets.image_subset(ds, image_train_per_class, image_test_per_class, subset_seed),
    "centred moons (control)": datasets.moons_batch(seeds, moons_n, moons_noise, shift=0.0),
}
image_key = f"{ds.used} (MLP)"
if data[image_key].note:
    verdict.deviation(data[image_key].note)
widths = {"shifted moons": moons_width, "digits": digits_width, image_key: image_width,
          "centred moons (control)": moons_width}
part_of = {"shifted moons": "shifted-moons", "digits": "digits", image_key: "images"}  # the claim's parts, per dataset
for name, d in data.items():
    n_classes = int(d.y_train.max()) + 1
    print(f"{name}: train {d.x_train.shape[-2]} x {d.x_train.shape[-1]}, test {d.x_test.shape[-2]}, "
          f"{n_classes} classes, input mean {d.x_train.mean():.2f}")

# %% [markdown]
# ## Train the five initializations (all seeds x initializations on the model axis)
#
# `acc[name]` has shape (epochs + 1, 5, seeds): test accuracy after every epoch. The short-budget result is row
# `epochs` of the same runs (the first `epochs` epochs of the long run are exactly a short run: same batches).

# %%
acc = {}
for name, d in data.items():
    n_classes = int(d.y_train.max()) + 1
    sizes = [d.x_train.shape[-1]] + [widths[name]] * depth + [1 if n_classes == 2 else n_classes]
    acc[name] = initialization.train_initializations(
        sizes, seeds, d, slope=slope, epochs=long_epochs, batch_size=batch_size, lr=lr, momentum=momentum,
        progress=lambda e, a, name=name: print(
            f"  {name} epoch {e}: " + " ".join(f"{k}={v:.3f}" for k, v in zip(INITS, a.mean(axis=1))), flush=True))

# %%
short = {name: a[epochs] for name, a in acc.items()}  # (5, seeds)
table = np.array([[short[name][i].mean() * 100 for i in range(len(INITS))] for name in data])
print(f"mean test accuracy (%) after {epochs} epochs")
print(f"{'':28s}" + "".join(f"{k:>15s}" for k in INITS))
for name, row in zip(data, table):
    print(f"{name:28s}" + "".join(f"{v:15.1f}" for v in row))

# %% [markdown]
# ## Checks at the short budget
#
# For each dataset and each BN initialization (`bninit_fold`, `bninit_center`) against each baseline (`zero`,
# `torch`), on the per-seed paired gains in points: the mean gain ($\ge3$ against `zero`, $\ge2$ against `torch`, the
# the paper notes' criteria), decided on its 95% t interval, and the mean gain $>0$ decided on its 99% t interval (version 1's
# two-sided paired t-test at $p<0.01$; now it can also fail, when the whole interval is below 0).
#
# **Kinds and parts** (the v1 "essential" choices, decided before the run, became parts):
# - *shifted moons* (part `shifted-moons`): all checks are claim checks. This is the case the claim is about (data far
#   from where zero-bias hyperplanes pass), and the paper notes' calibration case.
# - *digits* (part `digits`): `bninit_fold` against both baselines. `bninit_center` is its own part
#   `digits-centring` (version 1: non-essential; the paper notes' pilot gave it only +1.5 points against `torch`, sd 3), with
#   the paper notes' relaxed $\ge1$ point against `torch`.
# - *image set* (part `images`): `bninit_fold`, as for digits: the claim is general. `bninit_center` is its own part
#   `images-centring` (version 1: non-essential).
# - *centred moons*: **measurements** only. Zero-bias first-layer hyperplanes already pass through the data's
#   centroid there, so a smaller (or no) gain is the expected outcome; version 1 ran the same checks there as
#   non-essential and expected them to fail. Kept as checks with version 1's direction they would be a backwards
#   control (one that passes only when the effect is *present* where it should be absent), so the mean gains are
#   reported instead; a control that asks for a smaller gain than on shifted moons is left to this paper's redesign
#   issue.

# %%
thresholds = {"zero": 3.0, "torch": 2.0}
gains = {}
for name in data:
    control = name.startswith("centred")
    for init in ("bninit_fold", "bninit_center"):
        part = None if control else part_of[name] if init == "bninit_fold" or name == "shifted moons" else f"{part_of[name]}-centring"
        for base in ("zero", "torch"):
            diff = (short[name][INITS.index(init)] - short[name][INITS.index(base)]) * 100
            gains[name, init, base] = diff
            threshold = thresholds[base]
            if name == "digits" and init == "bninit_center" and base == "torch":
                threshold = 1.0  # the paper notes' relaxation for digits
            if control:
                verdict.measure(f"{name}: mean gain of {init} over {base} at {epochs} epochs (points)", diff.mean())
                continue
            verdict.check(f"{name}: mean gain of {init} over {base} at {epochs} epochs (points)", diff, ">=",
                          threshold, kind="claim", part=part, aggregate="mean")
            verdict.check(f"{name}: mean gain of {init} over {base} > 0 at 99% (v1: paired t-test p < 0.01)", diff, ">",
                          0.0, kind="claim", part=part, aggregate="mean", confidence=0.99)
    for init in ("bninit_fold", "bninit_center", "zero"):
        gap = (short[name][INITS.index("bn_train")] - short[name][INITS.index(init)]).mean() * 100
        verdict.measure(f"{name}: bn_train minus {init} at {epochs} epochs (points)", gap)
        print(f"  {name}: bn_train - {init} = {gap:+.2f} points")

# %% [markdown]
# ## How the gap evolves with longer training
#
# Left: mean test accuracy per initialization against epochs (band: $\pm1$ standard error over seeds; dashed line:
# the short budget). Right: the mean gain of `bninit_fold` over `zero` and over `torch` against epochs.

# %%
palette = dict(zip(INITS, sns.color_palette(n_colors=len(INITS))))
fig, axes = plt.subplots(2, len(data), figsize=(4.2 * len(data), 7.5), sharex=True)
ep = np.arange(long_epochs + 1)
for col, name in enumerate(data):
    ax, ax_gap = axes[0, col], axes[1, col]
    a = acc[name] * 100
    for i, init in enumerate(INITS):
        mean, se = a[:, i].mean(axis=1), a[:, i].std(axis=1, ddof=1) / np.sqrt(len(seeds))
        ax.plot(ep, mean, color=palette[init], label=init, lw=1.6)
        ax.fill_between(ep, mean - se, mean + se, color=palette[init], alpha=0.2, lw=0)
    lo = np.min(a[1:].mean(axis=2))
    ax.set(title=name, ylabel="test accuracy (%)", ylim=(max(lo - 5, 0), 100))
    for base, style in (("zero", "-"), ("torch", "--")):
        g = (a[:, INITS.index("bninit_fold")] - a[:, INITS.index(base)]).mean(axis=1)
        ax_gap.plot(ep, g, color="k", ls=style, label=f"bninit_fold - {base}")
        g = (a[:, INITS.index("bninit_center")] - a[:, INITS.index(base)]).mean(axis=1)
        ax_gap.plot(ep, g, color=palette["bninit_center"], ls=style, label=f"bninit_center - {base}")
    ax_gap.axhline(0, color="grey", lw=0.8)
    ax_gap.set(xlabel="epoch", ylabel="mean gain (points)")
    for axis in (ax, ax_gap):
        axis.axvline(epochs, color="grey", ls=":", lw=1)
axes[0, 0].legend(fontsize=8)
axes[1, 0].legend(fontsize=8)
fig.suptitle(f"Five initializations, same weights and batches; {len(seeds)} seeds; dotted: the {epochs}-epoch budget")
verdict.figure(fig, "accuracy-vs-epochs")
plt.show()

# %%
evolution = []
for name in data:
    a = acc[name] * 100
    parts = []
    for base in ("zero", "torch"):
        g = a[:, INITS.index("bninit_fold")] - a[:, INITS.index(base)]
        verdict.measure(f"{name}: gain of bninit_fold over {base} at {long_epochs} epochs (points)", g[-1].mean())
        parts.append(f"vs {base} {g[epochs].mean():+.1f} -> {g[-1].mean():+.1f}")
    gap_bn = (a[-1, INITS.index("bn_train")] - a[-1, INITS.index("bninit_fold")]).mean()
    verdict.measure(f"{name}: bn_train minus bninit_fold at {long_epochs} epochs (points)", gap_bn)
    evolution.append(f"{name}: {', '.join(parts)}")
print(f"gain of bninit_fold, {epochs} -> {long_epochs} epochs:")
print("\n".join(evolution))

# %% [markdown]
# ## Deviations

# %%
verdict.deviation(
    "The paper's body text was not available: the statement checks the abstract-level claim with the paper notes' "
    "protocol C3 (our choice of data, architecture and budget), not the paper's own experiment (reportedly CIFAR "
    "and ResNets, third-party summary) or its numbers."
)
verdict.deviation(
    f"Budget: the checks are at {epochs} epochs, a short budget where the initialization matters. Continuing the "
    f"same runs to {long_epochs} epochs, the mean gain of bninit_fold (points, {epochs} -> {long_epochs} epochs) "
    "evolves as: " + "; ".join(evolution) + "."
)
verdict.deviation(
    f"This notebook uses four datasets; the verdict's dataset field records only the image set's provenance "
    f"(requested {ds.requested}, used {ds.used}). The others are synthetic moons (one draw per seed) and "
    "scikit-learn digits (fixed split)."
)
verdict.deviation(
    f"Image set: an MLP of depth {depth}, width {image_width} on flattened {ds.used} pixels in [0, 1] (not "
    f"standardized), a class-balanced subset of {image_train_per_class} training and {image_test_per_class} test "
    f"images per class (all classes) drawn with subset_seed={subset_seed}, the same for every seed; no CNN."
)
verdict.deviation(
    "ReLU networks (slope 0), float64, plain cross-entropy / logistic loss, no weight decay or data augmentation; "
    "the output layer keeps a zero bias in every initialization except torch (PyTorch-default bias everywhere)."
)
if ds.substituted:
    verdict.deviation(f"Image set substituted: requested {ds.requested}, used {ds.used} ({ds.reason}).")
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
