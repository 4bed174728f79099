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
# # cao2023/deep-uniformity: with BN, the last hidden layer of a deep CNN has more uniform margins
#
# **Figure 2** of Cao, Zou, Li & Gu (COLT 2023, Appendix B, "preliminary" experiments): VGG-16 with and
# without batch normalization, trained by SGD on the cat and dog classes of CIFAR-10 for about 600 epochs.
# For each neuron of the last hidden layer, the paper measures how uniform the margins of its *activated*
# training data are, in class cat, dog, or both, averages over neurons, and finds the BN network far more
# uniform: the theory's uniform-margin bias (Theorems 2.2 and 3.2) carried over to a deep network, although,
# as the paper notes, model, data and algorithm "all mismatch the exact setting in Theorem 3.2".
# (The appendix's wording is summarized here from `docs/papers/cao2023.md`, A.4, not quoted.)
#
# **The metric.** For a neuron $a(\cdot)$ of the last hidden layer and $I$ = its *activated* training points
# ($a>0$) in class cat, dog, or both, with labels $y=\pm1$:
# $$U(I)=\frac{|I|^{-2}\sum_{i,i'\in I}\big(y_{i'}a(x_{i'})-y_ia(x_i)\big)^2}{|I|^{-1}\sum_{i\in I}a(x_i)^2}
#       =2\Big(1-\frac{\overline{z}^2}{\overline{z^2}}\Big),\quad z=ya,$$
# averaged over neurons; $U\in[0,2]$ and $U=0$ is a uniform margin. The paper reads, at epoch 600:
# BN cat $\approx0.03$, dog $\approx0.03$-$0.04$, both $\approx0.41$; no BN cat $\approx0.48$, dog $\approx0.45$,
# both $\approx0.92$: BN is about **14 times** more uniform on each class.
#
# **What we run.** A narrow VGG-style CNN ([conv3x3 -> (BN) -> ReLU] blocks with max-pools, global average
# pooling to `width` post-ReLU features = the last hidden layer, a linear head, logistic loss), trained with
# and without BN from the same initial weights by minibatch SGD, on a balanced two-class subset of CIFAR-10
# cat vs dog, or, when CIFAR-10 cannot be had, of the fallback dataset (then a banner opens the outputs). We record
# $U$ on cat, dog and both over the epochs, on every seed. It trains in minutes on 2 CPU cores: far fewer
# epochs than the paper and a far smaller network (see Deviations).
#
# **Checks** (verdict version 2; thresholds argued where they are checked), all on the per-seed ratios
# $U_{BN}/U_{noBN}$ at the last epoch:
# - *claim, part `per-class`*: for each single class, BN's final $U$ is below no-BN's on every seed (the worst
#   case over seeds, `aggregate="max"`, no interval);
# - *claim, part `per-class`*: BN is *clearly* more uniform: the mean over seeds of $U_{BN}/U_{noBN}$ is at most
#   $0.5$ on each class, now decided on its t interval over the seeds (with 2-3 seeds it is wide);
# - *claim, part `both-classes`*: on the set "both", BN's final $U$ is below no-BN's on every seed. Version 1 called
#   it non-essential (the paper's gap is smaller there, 0.41 vs 0.92), but it is in the statement, so it is its
#   own part.
#
# The final train accuracy is reported as a measurement, as in version 1 (no competence check is added here).
#
# **Rounding shadow.** Training this CNN in float32 is chaotic: torch's CPU kernels round differently on another
# instruction set (measured: `ATEN_CPU_CAPABILITY=default` moved a per-seed ratio by 4 % and flipped the quick
# scale's mean-ratio decision). So every run is repeated with every initial parameter multiplied by
# $1+\epsilon\,N(0,1)$, $\epsilon=$ `rounding_perturbation` (a few float32 ulps, the size of one kernel's rounding
# difference), and each check is also decided on the shadow's ratios: a decision the shadow reads otherwise depends
# on rounding and is `undecided` (added in version 2, before the paper-scale run of this design).

# %% tags=["parameters"]
claim_id = "cao2023/deep-uniformity"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2]
threads = 2
strict_data = False
pairs = {"cifar10": ["cat", "dog"], "fashion-mnist": ["T-shirt/top", "Shirt"], "digits": ["3", "8"]}
n_per_class = 1500
width = 64
depth = 4
base_width = 16
convs_per_stage = 1
epochs = 60
lr = 0.02
momentum = 0.9
weight_decay = 0.0
batch_size = 64
record_every = 5
min_active = 2
rounding_perturbation = 1e-6

# %%
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from bnrepro import claims
from bnrepro.cao2023 import deep
from bnrepro.data import real

verdict = claims.open(
    claim_id,
    statement=(
        "In a deep CNN (VGG-16, CIFAR-10 cat vs dog) trained by SGD, the neurons of the last hidden layer "
        "have much more uniform margins on their activated training data with batch normalization than "
        "without (normalized margin discrepancy ~0.03 vs ~0.45 per class, ~0.41 vs ~0.92 on both classes)."
    ),
    source="Appendix B, Figure 2 (Cao et al., COLT 2023)",
    evidence="full-text",
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
ds = real.load("cifar10", strict=strict_data)  # a substitution prints a banner: the first output below
pair = tuple(pairs[ds.used])
counts = [int(np.sum(ds.y_train == ds.classes.index(c))) for c in pair]
n_used = min(n_per_class, *counts)
image_size = ds.x_train.shape[-1]
depth_used = min(depth, deep.max_depth(image_size))
record = list(range(record_every, epochs + 1, record_every))

verdict.use_dataset(ds)
verdict.stand_in(
    f"network: a narrow VGG-style CNN (channels {deep.stage_channels(width, depth_used, base_width)}, {convs_per_stage} "
    f"conv3x3/stage, global average pooling to {width} features, one logit) instead of VGG-16, trainable on a CPU"
)
verdict.stand_in(
    f"budget: {epochs} epochs of SGD (momentum {momentum}, constant lr {lr}, batch {batch_size}, no augmentation) on "
    f"{n_used} images per class, instead of ~600 epochs on 5000 (the paper gives no hyperparameter)"
)
verdict.stand_in("metric: n read as |I|, 'activated' as a > 0, neurons with < min_active activated points excluded (ours)")
verdict.stand_in("features: eval mode (BN running statistics) on the whole training subset (ours; the paper does not say)")
names = (*pair, "both")
print(f"dataset: {ds.used} (requested {ds.requested}{', SUBSTITUTED' if ds.substituted else ''}); "
      f"classes {pair[0]!r} (y=+1) vs {pair[1]!r} (y=-1), {n_used} training images each"
      f"{' (all there are)' if n_used < n_per_class else ''}, {image_size}px")
print(f"channels {deep.stage_channels(width, depth_used, base_width)} x "
      f"{convs_per_stage} conv/stage, width={width}, epochs={epochs}, lr={lr}, momentum={momentum}, "
      f"weight_decay={weight_decay}, batch_size={batch_size}")

# %% [markdown]
# ## Train with and without BN
#
# Per seed: one balanced subset (drawn with that seed), one initialization shared by both variants, one
# shuffling order. The metric, the loss and the accuracy are measured in **eval mode** (BN uses its running
# statistics, as the trained network is used at test time) on the whole training subset, every
# `record_every` epochs. One line per epoch; a line with `train acc` is a recorded epoch.

# %%
runs, shadow_runs = {}, {}
for seed in seeds:
    x, y = deep.binary_subset(ds.x_train, ds.y_train, ds.classes, pair, n_used, seed)
    for variant, batchnorm in (("BN", True), ("no BN", False)):
        for store, perturbation in ((runs, 0.0), (shadow_runs, rounding_perturbation)):
            model = deep.build(batchnorm, in_channels=x.shape[1], image_size=image_size, width=width, depth=depth_used,
                               base_width=base_width, convs_per_stage=convs_per_stage, seed=seed, perturbation=perturbation)
            store[variant, seed] = deep.train(
                model, x, y, pair, epochs=epochs, lr=lr, momentum=momentum, weight_decay=weight_decay,
                batch_size=batch_size, seed=seed, record=record, min_active=min_active, device=verdict.device,
                label=f"seed {seed} {variant:5s}{' shadow' if perturbation else ''} ", log=print,
            )

# %% [markdown]
# ## Final values per seed
#
# `U` is the mean over the neurons with at least `min_active` activated points in the set; `counted` is how
# many of the `width` neurons that is (a neuron activated on fewer points has no meaningful spread and is
# excluded, not counted as uniform); `active` is the fraction of the set's points that activate a neuron,
# averaged over neurons. A neuron that fires on both classes has $z=ya$ of both signs on "both", so $U$ there
# is near 2 unless the neurons are class-selective (small `active` on one class).

# %%
final = {run: h.final for run, h in runs.items()}
set_size = {pair[0]: n_used, pair[1]: n_used, "both": 2 * n_used}
active_fraction = {(variant, seed, key): final[variant, seed][key].active.mean() / set_size[key]
                   for variant in ("BN", "no BN") for seed in seeds for key in names}

print(f"{'seed':>4} {'model':>6} {'train acc':>9} {'loss':>9} "
      + " ".join(f"{'U ' + k:>14} {'counted':>7} {'active':>6}" for k in names))
for seed in seeds:
    for variant in ("BN", "no BN"):
        h = runs[variant, seed]
        cells = " ".join(f"{final[variant, seed][k].mean:14.4f} {final[variant, seed][k].n_valid:7d} "
                         f"{active_fraction[variant, seed, k]:6.3f}" for k in names)
        print(f"{seed:4d} {variant:>6} {h.accuracy[-1]:9.4f} {h.loss[-1]:9.2e} {cells}")

ratio = {key: np.array([final["BN", s][key].mean / final["no BN", s][key].mean for s in seeds]) for key in names}  # per seed
shadow_final = {run: h.final for run, h in shadow_runs.items()}
shadow = {key: np.array([shadow_final["BN", s][key].mean / shadow_final["no BN", s][key].mean for s in seeds]) for key in names}
for key in names:
    print(f"U_BN / U_noBN on {key}: {np.array2string(ratio[key], precision=3)} "
          f"(rounding shadow {np.array2string(shadow[key], precision=3)})")
verdict.measure("max over seeds and sets of |ratio - its rounding shadow|",
                max(np.abs(ratio[key] - shadow[key]).max() for key in names))

# %% [markdown]
# ## Claim, part `per-class`: BN is more uniform on each class, on every seed
#
# The paper's direction, asked of every seed: $U_{BN}/U_{noBN}<1$ at the last epoch for each single class (the
# worst case over seeds, from the per-seed ratios).

# %%
for key in pair:
    verdict.check(f"max over seeds of U_BN/U_noBN on class {key!r} at the last epoch", ratio[key], "<", 1,
                  kind="claim", part="per-class", aggregate="max", shadow=shadow[key])

# %% [markdown]
# ## Claim, part `per-class`: ... and *clearly* more uniform
#
# The paper's ratio is about $0.03/0.45\approx0.07$ per class. Our network is much smaller and trained for far
# fewer epochs, so we do not ask for that size of effect, only for a factor of 2 on average over seeds
# ($\le0.5$): a ratio near 1 would be a difference of a few percent, not the qualitative effect of Figure 2.
# Version 2 decides it on the t interval of the mean over the seeds' ratios, not on the mean alone.

# %%
for key in pair:
    verdict.check(f"mean over seeds of U_BN/U_noBN on class {key!r} at the last epoch", ratio[key], "<=", 0.5,
                  kind="claim", part="per-class", aggregate="mean", shadow=shadow[key])

# %% [markdown]
# ## Claim, part `both-classes`: BN is more uniform on both classes together
#
# On "both", $z=ya$ changes sign between the classes, so $U$ is large unless the neurons fire on one class
# only; the paper's gap is smaller there (0.41 vs 0.92). Version 1 made this non-essential (the claim rests on
# the per-class panels); the statement names it, so it is its own part.

# %%
verdict.check("max over seeds of U_BN/U_noBN on both classes at the last epoch", ratio["both"], "<", 1,
              kind="claim", part="both-classes", aggregate="max", shadow=shadow["both"])

for variant in ("BN", "no BN"):
    verdict.measure(f"{variant}: min over seeds of final train accuracy",
                    min(runs[variant, s].accuracy[-1] for s in seeds))
for variant in ("BN", "no BN"):
    for key in names:
        verdict.measure(f"{variant}: mean over seeds of final U on {key}",
                        np.mean([final[variant, s][key].mean for s in seeds]))
for variant in ("BN", "no BN"):
    for key in names:
        verdict.measure(f"{variant}: max over seeds of neurons excluded (< {min_active} activated) on {key}",
                        max(final[variant, s][key].n_excluded for s in seeds))
for variant in ("BN", "no BN"):
    for key in pair:
        verdict.measure(f"{variant}: mean over seeds and neurons of the fraction of class {key!r} activating a neuron",
                        np.mean([active_fraction[variant, s, key] for s in seeds]))

# %% [markdown]
# ## Figure 2 replica: $U$ over the epochs, BN vs no BN
#
# Thin lines: seeds; thick: mean over seeds. Dotted: the paper's values at epoch 600 (VGG-16, CIFAR-10), for
# scale only: its x-axis is far longer and its network, and here possibly its data, differ.

# %%
paper_values = {"BN": (0.03, 0.035, 0.41), "no BN": (0.48, 0.45, 0.92)}  # read off Figure 2 (cat, dog, both)
colours = dict(zip(("BN", "no BN"), sns.color_palette(n_colors=2)))
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), sharey=True)
for ax, key, panel in zip(axes, names, range(3)):
    for variant, colour in colours.items():
        curves = np.array([runs[variant, s].metric[key] for s in seeds])
        steps = runs[variant, seeds[0]].epochs
        for curve in curves:
            ax.plot(steps, curve, color=colour, lw=0.7, alpha=0.5)
        ax.plot(steps, curves.mean(axis=0), color=colour, lw=2.2, label=variant)
        ax.axhline(paper_values[variant][panel], color=colour, ls=":", lw=1,
                   label=f"{variant}, paper (epoch 600)" if panel == 0 else None)
    title = {pair[0]: f"class {pair[0]}", pair[1]: f"class {pair[1]}", "both": "both classes"}[key]
    ax.set(xlabel="epoch", title=title)
axes[0].set_ylabel("normalized margin discrepancy U")
axes[0].legend(fontsize=8)
fig.suptitle(f"{ds.used}{' (substituted for cifar10)' if ds.substituted else ''}: {n_used}+{n_used} images, "
             f"seeds {seeds}", y=1.03)
verdict.figure(fig, "uniformity-over-epochs")
plt.show()

# %% [markdown]
# ## Training curves (both variants fit the training set?)

# %%
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.5))
for (variant, seed), h in runs.items():
    ax_loss.semilogy(h.epochs, h.loss, color=colours[variant], lw=1, label=variant if seed == seeds[0] else None)
    ax_acc.plot(h.epochs, h.accuracy, color=colours[variant], lw=1, label=variant if seed == seeds[0] else None)
ax_loss.set(xlabel="epoch", ylabel="training loss (eval mode)")
ax_acc.set(xlabel="epoch", ylabel="training accuracy (eval mode)")
ax_acc.legend()
verdict.figure(fig, "training-curves")
plt.show()

# %% [markdown]
# ## Deviations from the paper

# %%
if ds.substituted:
    verdict.deviation(
        f"Dataset: CIFAR-10 was not available ({ds.reason}); used {ds.used}, classes {pair[0]!r} vs {pair[1]!r} "
        "(a visually similar pair, like cat vs dog) instead of cat vs dog."
    )
verdict.deviation(
    f"Architecture: a narrow VGG-style CNN (channels {deep.stage_channels(width, depth_used, base_width)}, "
    f"{convs_per_stage} conv3x3 per stage, each stage ending in a 2x2 max-pool, then global average pooling to "
    f"{width} post-ReLU features = the last hidden layer, and Linear({width}, 1)) instead of VGG-16; one logit "
    "with the logistic loss on y = +-1 for the two classes. Initialization as torchvision's VGG, shared by both variants."
)
if scale != "paper":
    verdict.deviation(
        f"Scale {scale!r}: {n_used} images per class and {epochs} epochs, chosen to run in seconds; the networks need "
        "not fit the training set, and this verdict is not the claim's (the paper scale's is)."
    )
if depth_used != depth:
    verdict.deviation(f"Depth reduced from {depth} to {depth_used} stages: {image_size}px images allow no more max-pools.")
verdict.deviation(
    f"Training: {epochs} epochs (paper ~600, with an unstated schedule that changes near epoch 200) of minibatch "
    f"SGD with momentum {momentum}, constant lr {lr}, batch size {batch_size} (the last incomplete batch of an epoch "
    f"dropped), weight decay {weight_decay}, no data augmentation, on {n_used} training images per class (CIFAR-10 has "
    "5000); the paper gives no hyperparameter, all of these are our choices."
)
verdict.deviation(
    "Metric: the paper's formula writes 1/n^2 and 1/n; we read n as |I|, the number of activated points in the set "
    "(so U lies in [0, 2]). 'Activated' is read as a > 0 for the post-ReLU feature; neurons activated on fewer than "
    f"{min_active} points of a set are excluded from that set's average (counts reported)."
)
verdict.deviation(
    "The paper-scale subset size (1500 images per class) was chosen after a pilot with 1000 per class in which "
    "the every-seed per-class check (max over seeds of U_BN/U_noBN < 1) failed (BN slightly less uniform than no BN "
    "on both classes); both sizes fail the mean-ratio check (<= 0.5), so the status does not depend on the choice, "
    "but the every-seed check alone should be read as within the variation between set-ups."
)
verdict.deviation(
    "Features are taken in eval mode (BN with running statistics) on the whole training subset; the paper does not say."
)
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
