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
# **What we run (version 3, pre-registered before its paper-scale run).** A narrow VGG-style CNN
# ([conv3x3 -> (BN) -> ReLU] x 2 per stage, a 2x2 max-pool ending each stage, down to a 1x1 map, so each of the
# `width` channels of the last stage is one post-ReLU neuron of the last hidden layer, as in VGG-16 for 32x32
# inputs; a linear head, logistic loss), trained with and without BN from the same initial weights by minibatch
# SGD with momentum, weight decay and **one step learning-rate drop** (x0.1 after a third of the epochs, as the
# paper's curves change near epoch 200 of 600), on a balanced two-class subset of CIFAR-10 cat vs dog, or, when
# CIFAR-10 cannot be had, of the fallback dataset (Fashion-MNIST T-shirt vs Shirt, a visually similar pair,
# images average-pooled to 14x14 to fit the CPU budget; a banner opens the outputs). We record $U$ on cat, dog
# and both over the epochs. The `full` scale (`python -m bnrepro.execute --claim cao2023/deep-uniformity
# --scale full`) runs the paper's own setting: VGG-16 (13 convolutions, 64-512 channels) on all 5000+5000 CIFAR-10
# cat and dog images for 600 epochs with the drop at epoch 200, on a GPU when there is one, and requires CIFAR-10.
#
# **Version 2 found** (audit): the old stand-in (4 stages ending in global average pooling, 60 epochs at a constant
# learning rate, 3 seeds) was not in the paper's regime: its features were not class-selective (a global average
# of a ReLU map is almost never 0: 80-88 % of each class "activated" every neuron, so $U$ on both classes was about
# 1.8 for both networks against the paper's 0.41 and 0.92) and its per-class $U$ was about 0.5 for both.
#
# **Pilot** (seeds >= 5 000 000, Fashion-MNIST, one seed per setting, disclosed): it chose this design (the 1x1 last
# map, 14x14 images, 300 epochs with the drop at 100, learning rate 0.05, weight decay 5e-3, 250 images per class)
# and informed the budget (about 35 s of CPU per seed and both variants). The first pre-registration (af343dc: 6 seeds,
# 200 images per class, 240 epochs with the drop at 80, 2 threads) was stopped 18 epochs into its first run, before
# any result, because the shared machine (load average 22 on 2 cores) would not finish it before the deadline: the
# paper scale is now 4 seeds, 150 images per class, 150 epochs with the drop at 50, one thread; checks and thresholds
# are unchanged. It also showed the likely outcome, which we state before the run: with this schedule the BN
# network becomes class-selective (U on both classes about 0.4, the paper's 0.41), but its per-class $U$ stays at
# 0.4-0.5 (paper 0.03), and the no-BN network's $U$ on both stays at about 1.5 (paper 0.92), with per-class $U$
# 0.2-0.3: the no-BN baseline is not the paper's, so we expect the regime checks below to fail.
#
# **Checks** (verdict version 2; thresholds argued where they are checked), on the per-seed values at the last epoch:
# - *regime*: both networks fit their training subset (they do in the paper: SGD for 600 epochs); the no-BN
#   baseline looks like the paper's: its $U$ on both classes within a factor 1.5 of 0.92 (class-selective neurons)
#   and its per-class $U$ at least half of the paper's 0.45-0.48. If one of them does not pass, our stand-in is not
#   the paper's setting and the claim is `inconclusive (out of regime)`, not refuted;
# - *sanity* (pre-registered as a control, relabelled after the first result, see the deviations): at
#   initialization (epoch 0, same weights) the mean ratio $U_{BN}/U_{noBN}$ is above 0.5. In eval mode BN's running
#   statistics are still (0, 1), so BN is the identity up to $1/\sqrt{1+\epsilon}$ and the scale-invariant $U$ gives a
#   ratio of 1: an identity, never evidence;
# - *claim, part `per-class`*: on each class, the mean over seeds of $U_{BN}/U_{noBN}$ is at most 0.5;
# - *claim, part `both-classes`*: on both classes together, the mean over seeds of $U_{BN}/U_{noBN}$ is at most 0.75.
#
# **Rounding shadow.** Training this CNN in float32 is chaotic: torch's CPU kernels round differently on another
# instruction set (measured in version 2: `ATEN_CPU_CAPABILITY=default` moved a per-seed ratio by 4 % and flipped a
# quick-scale decision). So every run is repeated with every initial parameter multiplied by
# $1+\epsilon\,N(0,1)$, $\epsilon=$ `rounding_perturbation` (a few float32 ulps, the size of one kernel's rounding
# difference), and each check is also decided on the shadow's values: a decision the shadow reads otherwise depends
# on rounding and is `undecided`.

# %% tags=["parameters"]
claim_id = "cao2023/deep-uniformity"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3]
threads = 1
strict_data = False
pairs = {"cifar10": ["cat", "dog"], "fashion-mnist": ["T-shirt/top", "Shirt"], "digits": ["3", "8"]}
n_per_class = 150
image_pool = {"cifar10": 1, "fashion-mnist": 2, "digits": 1}
width = 64
depth = 3
base_width = 8
convs_per_stage = [2, 2, 2]
epochs = 150
lr_drops = [50]
lr_factor = 0.1
lr = 0.05
momentum = 0.9
weight_decay = 5e-3
batch_size = 64
record_every = 10
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
ds = real.load("cifar10", strict=strict_data or scale == "full")  # full scale: CIFAR-10 or an error; else a banner
pair = tuple(pairs[ds.used])
counts = [int(np.sum(ds.y_train == ds.classes.index(c))) for c in pair]
n_used = min(n_per_class, *counts)
pool = image_pool[ds.used]
image_size = ds.x_train.shape[-1] // pool
arch = {"width": width, "depth": depth, "base_width": base_width, "convs_per_stage": list(convs_per_stage)}
record = list(range(record_every, epochs + 1, record_every))
last_map = image_size // 2**depth
channels = deep.stage_channels(width, depth, base_width)

verdict.use_dataset(ds)
verdict.stand_in(
    f"network: a VGG-style CNN (channels {channels}, {list(convs_per_stage)} conv3x3 per stage, a {last_map}x{last_map} "
    f"last map averaged to {width} post-ReLU features, one logit)"
    + (" = VGG-16 for 32x32 inputs" if arch == {**deep.VGG16, "convs_per_stage": list(deep.VGG16["convs_per_stage"])}
       else " instead of VGG-16, trainable on a CPU")
)
verdict.stand_in(
    f"budget: {epochs} epochs of SGD (momentum {momentum}, lr {lr} times {lr_factor} after epochs {list(lr_drops)}, "
    f"weight decay {weight_decay}, batch {batch_size}, no augmentation) on {n_used} images per class at {image_size}px "
    "(the paper: ~600 epochs on 5000 per class, a change near epoch 200, no hyperparameter given)"
)
verdict.stand_in("metric: n read as |I|, 'activated' as a > 0, neurons with < min_active activated points excluded (ours)")
verdict.stand_in("features: eval mode (BN running statistics) on the whole training subset (ours; the paper does not say)")
names = (*pair, "both")
print(f"dataset: {ds.used} (requested {ds.requested}{', SUBSTITUTED' if ds.substituted else ''}); "
      f"classes {pair[0]!r} (y=+1) vs {pair[1]!r} (y=-1), {n_used} training images each"
      f"{' (all there are)' if n_used < n_per_class else ''}, pooled by {pool} to {image_size}px")
print(f"channels {channels} x {list(convs_per_stage)} convs, last map {last_map}x{last_map}, epochs={epochs}, lr={lr} "
      f"(x{lr_factor} after {list(lr_drops)}), momentum={momentum}, weight_decay={weight_decay}, batch_size={batch_size}")

# %% [markdown]
# ## Train with and without BN
#
# Per seed: one balanced subset (drawn with that seed), one initialization shared by both variants, one
# shuffling order (`deep.compare`). The metric, the loss and the accuracy are measured in **eval mode** (BN uses
# its running statistics, as the trained network is used at test time) on the whole training subset, every
# `record_every` epochs. One line per epoch; a line with `train acc` is a recorded epoch.

# %%
runs, shadow_runs = deep.compare(
    ds.x_train, ds.y_train, ds.classes, pair, seeds, n_per_class=n_used, arch=arch, epochs=epochs, lr=lr,
    momentum=momentum, weight_decay=weight_decay, lr_drops=lr_drops, lr_factor=lr_factor, batch_size=batch_size,
    record=record, image_pool=pool, min_active=min_active, rounding_perturbation=rounding_perturbation,
    device=verdict.device, log=print,
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

shadow_final = {run: h.final for run, h in shadow_runs.items()}
final_u = {(variant, key): np.array([final[variant, s][key].mean for s in seeds]) for variant in ("BN", "no BN") for key in names}
shadow_u = {(variant, key): np.array([shadow_final[variant, s][key].mean for s in seeds])
            for variant in ("BN", "no BN") for key in names}
ratio = {key: final_u["BN", key] / final_u["no BN", key] for key in names}  # per seed
shadow = {key: shadow_u["BN", key] / shadow_u["no BN", key] for key in names}
initial_ratio = {key: np.array([runs["BN", s].metric[key][0] / runs["no BN", s].metric[key][0] for s in seeds]) for key in pair}
shadow_initial = {key: np.array([shadow_runs["BN", s].metric[key][0] / shadow_runs["no BN", s].metric[key][0] for s in seeds])
                  for key in pair}
for key in names:
    print(f"U_BN / U_noBN on {key}: {np.array2string(ratio[key], precision=3)} "
          f"(rounding shadow {np.array2string(shadow[key], precision=3)})")
verdict.measure("max over seeds and sets of |ratio - its rounding shadow|",
                max(np.abs(ratio[key] - shadow[key]).max() for key in names))

# %% [markdown]
# ## Regime: is our stand-in in the paper's setting?
#
# - Both networks fit the training subset (train accuracy in eval mode at least 0.99 on every seed and variant):
#   Figure 2 is about the terminal phase of training, after the learning-rate drop; a network that has not fit its
#   data is in another phase.
# - The no-BN baseline is the paper's: its $U$ on both classes within a factor 1.5 of the paper's 0.92, i.e. in
#   $[0.61, 1.38]$ (the mean over seeds, decided on its t interval). $U$ on both is near 2 when neurons fire on
#   both classes alike (version 2's stand-in: 1.8) and near the per-class value when each neuron fires on one class;
#   the paper's 0.92 means partly class-selective neurons. A baseline outside that range compares BN with a
#   different network than the paper's.
# - Its per-class $U$ at least half the paper's 0.45-0.48 (the mean over seeds and both classes $\ge 0.23$): a no-BN
#   network that is itself nearly uniform per class leaves no room for the paper's factor.

# %%
verdict.check("min over seeds and variants of the final train accuracy (eval mode)",
              [min(runs[v, s].accuracy[-1] for v in ("BN", "no BN")) for s in seeds], ">=", 0.99, kind="regime",
              aggregate="min", shadow=[min(shadow_runs[v, s].accuracy[-1] for v in ("BN", "no BN")) for s in seeds])
verdict.check("no BN: mean over seeds of the final U on both classes (paper 0.92), upper end", final_u["no BN", "both"],
              "<=", 1.38, kind="regime", aggregate="mean", shadow=shadow_u["no BN", "both"])
verdict.check("no BN: mean over seeds of the final U on both classes (paper 0.92), lower end", final_u["no BN", "both"],
              ">=", 0.61, kind="regime", aggregate="mean", shadow=shadow_u["no BN", "both"])
verdict.check("no BN: mean over seeds of the final per-class U, averaged over the two classes (paper 0.45-0.48)",
              (final_u["no BN", pair[0]] + final_u["no BN", pair[1]]) / 2, ">=", 0.23, kind="regime", aggregate="mean",
              shadow=(shadow_u["no BN", pair[0]] + shadow_u["no BN", pair[1]]) / 2)

# %% [markdown]
# ## Sanity: no effect before training
#
# At epoch 0 both variants have the same convolution and head weights. It was meant as a control (if BN alone halved
# $U$ before training, a small final ratio would be the architecture's, not training's implicit bias), but features
# are taken in eval mode, where BN's running statistics are still their initial (0, 1): BN is then the identity up to
# $1/\sqrt{1+\epsilon}$, and $U$ is scale-invariant, so the ratio is 1 by construction. It is kept as a `sanity`
# check (it fails only on a bug); a control that can fail would take the initial features with batch statistics.

# %%
for key in pair:
    verdict.check(f"mean over seeds of U_BN/U_noBN on class {key!r} at initialization (eval mode: 1 by construction)",
                  initial_ratio[key], ">", 0.5, kind="sanity", aggregate="mean", shadow=shadow_initial[key])

# %% [markdown]
# ## Claim, part `per-class`: BN is clearly more uniform on each class
#
# The paper's ratio is about $0.03/0.45\approx0.07$ per class. We ask for a factor of 2 on average over seeds
# ($\le0.5$, decided on the t interval of the mean of the per-seed ratios): a ratio near 1 would be a difference of a
# few percent, not the qualitative effect of Figure 2. It can fail (version 2 measured 0.96-0.97) and pass (a BN
# network with collapsed per-class features has a ratio near 0).

# %%
for key in pair:
    verdict.check(f"mean over seeds of U_BN/U_noBN on class {key!r} at the last epoch", ratio[key], "<=", 0.5,
                  kind="claim", part="per-class", aggregate="mean", shadow=shadow[key])

# %% [markdown]
# ## Claim, part `both-classes`: BN is more uniform on both classes together
#
# The paper's ratio on both is $0.41/0.92\approx0.45$. We ask for a mean ratio $\le 0.75$: at least a quarter lower,
# well beyond the few percent that seeds move it, and reachable by a factor well short of the paper's.

# %%
verdict.check("mean over seeds of U_BN/U_noBN on both classes at the last epoch", ratio["both"], "<=", 0.75,
              kind="claim", part="both-classes", aggregate="mean", shadow=shadow["both"])

for key in names:
    verdict.measure(f"fraction of seeds with U_BN < U_noBN on {key} at the last epoch", float(np.mean(ratio[key] < 1)))
for variant in ("BN", "no BN"):
    verdict.measure(f"{variant}: min over seeds of final train accuracy", min(runs[variant, s].accuracy[-1] for s in seeds))
    verdict.measure(f"{variant}: max over seeds of final train loss (eval mode)", max(runs[variant, s].loss[-1] for s in seeds))
for variant in ("BN", "no BN"):
    for key in names:
        verdict.measure(f"{variant}: mean over seeds of final U on {key}", float(np.mean(final_u[variant, key])))
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
# Thin lines: seeds; thick: mean over seeds; grey: the learning-rate drops. Dotted: the paper's values at epoch 600
# (VGG-16, CIFAR-10), for scale only: its x-axis is longer and, at the paper scale, its network and data differ.

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
    for drop in lr_drops:
        ax.axvline(drop, color="grey", lw=0.8)
    title = {pair[0]: f"class {pair[0]}", pair[1]: f"class {pair[1]}", "both": "both classes"}[key]
    ax.set(xlabel="epoch", title=title)
axes[0].set_ylabel("normalized margin discrepancy U")
axes[0].legend(fontsize=8)
fig.suptitle(f"{ds.used}{' (substituted for cifar10)' if ds.substituted else ''}: {n_used}+{n_used} images, "
             f"{len(seeds)} seeds", y=1.03)
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
        f"(a visually similar pair, like cat vs dog) instead of cat vs dog, images average-pooled by {pool}."
    )
verdict.deviation(
    f"Architecture: a VGG-style CNN (channels {channels}, {list(convs_per_stage)} conv3x3 per stage, each stage ending "
    f"in a 2x2 max-pool, the last {last_map}x{last_map} map averaged to {width} post-ReLU features = the last hidden "
    f"layer, and Linear({width}, 1)); one logit with the logistic loss on y = +-1 for the two classes (VGG-16 on "
    "CIFAR-10 has 10 outputs or, for two classes, presumably 2; the paper does not say). Initialization as "
    "torchvision's VGG, shared by both variants."
)
if scale == "quick":
    verdict.deviation(
        f"Scale 'quick': {n_used} images per class and {epochs} epochs, chosen to run in seconds; the networks need "
        "not fit the training set, and this verdict is not the claim's (the paper scale's is)."
    )
verdict.deviation(
    f"Training: {epochs} epochs of minibatch SGD with momentum {momentum}, lr {lr} times {lr_factor} after epochs "
    f"{list(lr_drops)}, batch size {batch_size} (the last incomplete batch of an epoch dropped), weight decay "
    f"{weight_decay}, no data augmentation, on {n_used} training images per class (CIFAR-10 has 5000); the paper gives "
    "no hyperparameter (its curves change near epoch 200 of 600), all of these are our choices. The design (1x1 last "
    "map, schedule, weight decay, learning rate, subset size, image pooling) and the seed count were chosen by a pilot "
    "on seeds >= 5 000 000, which also suggested that the no-BN regime checks fail (stated before the run)."
)
verdict.deviation(
    "Budget cut before any result: the first pre-registration (commit af343dc) had 6 seeds, 200 images per class, 240 "
    "epochs with the drop at 80 and 2 threads; its paper-scale run was stopped 18 epochs into seed 0 (no verdict, no "
    "final value seen) because the shared machine would not finish it in time. Now 4 seeds, 150 images per class, "
    "150 epochs with the drop at 50, 1 thread; checks, kinds and thresholds unchanged."
)
verdict.deviation(
    "Metric: the paper's formula writes 1/n^2 and 1/n; we read n as |I|, the number of activated points in the set "
    "(so U lies in [0, 2]). 'Activated' is read as a > 0 for the post-ReLU feature; neurons activated on fewer than "
    f"{min_active} points of a set are excluded from that set's average (counts reported)."
)
verdict.deviation(
    "Features are taken in eval mode (BN with running statistics) on the whole training subset; the paper does not say."
)
verdict.deviation(
    "Changed after the first paper-scale result (b99c9b5): the 'at initialization' ratio was pre-registered as a control "
    "of part per-class; it cannot fail (eval-mode BN at epoch 0 is the identity up to 1/sqrt(1+eps), and U is "
    "scale-invariant, so the ratio is 1), so it is relabelled a sanity check. No claim or regime check changed; the "
    "status was and is decided by the regime checks."
)
verdict.deviation(
    "Version 3 (this design) replaces version 2's stand-in (global average pooling of a 3x3 map, 60 epochs at a "
    "constant learning rate, 3 seeds, checks 'max over seeds of the ratio < 1'), which an audit found out of the "
    "paper's regime; version 2's not-reproduced verdict is superseded, not hidden (its numbers are in the project's "
    "audit of cao2023: per-class ratios 0.96-0.97, U on both about 1.8 for both networks)."
)
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
