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
# # luo2019/cnn-regularization: in a CNN, BN ≈ population normalization + gamma decay, and BN regularizes more at small batches
#
# > "First, by viewing BN as an implicit regularizer, BN can be decomposed into population normalization (PN)
# > and gamma decay as an explicit regularization. [...] Experiments demonstrate that BN in convolutional neural
# > networks share the same traits of regularization as the above analyses."
# > (Luo, Wang, Shao & Peng, ICLR 2019, abstract)
#
# **Source availability.** Only the abstract, the start of §1 and Eq. (1) of the paper could be read. The paper's
# CNN set-up (recollected as ResNet-18 on CIFAR-10 [U]) and its numbers are unknown. This notebook is **our
# small-scale reconstruction**: it checks the abstract-level claim through our derived formulation (BN's batch
# noise acts like an explicit penalty $\zeta\gamma^2$ with $\zeta\propto1/M$, spec D.2), not the paper's
# experiments or numbers.
#
# **What we run.** A small CNN that keeps spatial information, conv(3×3, $c_1$) → norm → ReLU → max-pool →
# conv(3×3, $c_2$) → norm → ReLU → max-pool → flatten → linear, on a class-balanced image subset (CIFAR-10 when
# available; the data policy falls back to Fashion-MNIST offline). For every batch size $M$ and seed, four variants
# with identical initial weights and identical mini-batches: **BN** (batch statistics), and
# **PN + $\lambda\sum\gamma^2$** for each $\lambda$ in a small grid including 0 (PN: the same normalization with the
# statistics of a fixed set of training images at the current weights, without gradient, refreshed periodically).
# SGD with momentum, **one learning rate for every batch size and every variant** (chosen by a pilot on PN's
# validation accuracy and stability, below), a fixed number of epochs. All models of one batch size
# (seeds × variants) train at once. Inference uses the statistics of the whole training subset for every variant.
# The $\lambda$ used in the comparison is chosen per batch size on a **validation** split (never on the test set).
#
# **Checks** (verdict version 2; thresholds fixed before running, argued below, unchanged from version 1):
# 0. *Regime*: the network is trained: BN's mean test accuracy is at least the dataset's competence bar at every
#    $M$ (75% on Fashion-MNIST), on its t interval over the seeds (version 1: non-essential, on the lowest seed mean).
# 1. *Claim, parts `equivalence-M<M>`, one per batch size* (spec D5's criterion): the paired difference test accuracy
#    (BN) − test accuracy (PN + GD, validated $\lambda$) lies within ±1.0 point, as two one-sided checks on its mean
#    (> −1 and < 1 on the paired 90% t interval: a TOST at 5%). *Control* of each such part: BN beats plain PN
#    ($\lambda=0$) at that $M$ (the paired 90% interval of BN − PN(0) above 0): where it does not, the equivalence
#    cannot show that gamma decay recovers a BN advantage and the part is inconclusive (version 1 labelled this
#    **consistent, not discriminative**, per $M$; the control keeps version 1's one-sided logic).
# 2. *Claim, part `gamma-ratio`*: *BN's regularization grows as the batch shrinks* (spec D2's signature carried to the
#    CNN): the learned $\gamma$ of BN, relative to the paired PN ($\lambda=0$) network trained on the same batches,
#    rises with $M$: Spearman correlation of the seed-mean ratio $\overline{\gamma^2}_{BN}/\overline{\gamma^2}_{PN}$ with
#    $M$ equal to 1 (one number over three batch sizes), and the fraction of seeds where the ratio is larger at
#    $M_{\max}$ than at $M_{\min}$ at least 80% (exact binomial interval).
#
# ## History of this notebook
#
# The first design of this claim (same CNN up to the second ReLU, then a **global-average-pool** head; 600
# training images of 14×14 Fashion-MNIST, 8 epochs, learning rate 0.05 × M/32 with momentum 0.9, PN statistics of
# 200 images refreshed every 128 samples) gave **not-reproduced**: test accuracies of 45–61% (a linear classifier
# does far better on Fashion-MNIST), and at M = 128 (learning rate 0.2) PN fell to 44.9% against BN's 56.2%, an
# optimization failure of PN at a large step, not a regularization effect. That network was judged too weak to test
# the claim. The present design (a flattened spatial head, 1500 training images, one learning rate for all $M$
# chosen on PN's stability, the competence bar above) was fixed on competence criteria (BN's validation accuracy,
# PN's validation accuracy and stability, time budget) **before** any BN-versus-PN result of it was seen; the paper
# scale was then run once.

# %% tags=["parameters"]
claim_id = "luo2019/cnn-regularization"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
threads = 1
batch_sizes = [8, 32, 128]
lambdas = [0.0, 0.0001, 0.001]
train_per_class = 150
val_per_class = 100
test_per_class = 200
stats_per_class = 10
subset_seed = 0
pool_factor = 2
conv_width = [8, 16]
epochs = 8
lr = 0.03
momentum = 0.9
refresh_samples = 256
competence_bar = {"cifar10": 40.0, "fashion-mnist": 75.0, "digits": 90.0}
tolerance_points = 1.0
ratio_seed_fraction = 0.8
strict_data = False

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from sklearn.linear_model import LogisticRegression

from bnrepro import claims
from bnrepro import stats
from bnrepro.data import real
from bnrepro.luo2019 import cnn

S, V = len(seeds), 1 + len(lambdas)
verdict = claims.open(
    claim_id,
    statement=(
        "In a convolutional network on an image task, BN and population normalization plus gamma decay reach "
        f"equivalent test accuracy (within {tolerance_points} point at every batch size), and BN's regularization "
        "grows as the batch shrinks (BN's learned gamma, relative to the paired PN network, rises with the batch size). "
        "Checked on our small-CNN reconstruction through the derived BN = PN + zeta*gamma^2 (zeta ~ 1/M) "
        "formulation: the paper's body text (theorems, ResNet/CIFAR set-up, numbers) was not available."
    ),
    source="abstract (arXiv:1809.00846 v4, ICLR 2019)",
    evidence="abstract",
    stand_ins=[
        "network: a small 2-conv-layer CNN with switchable normalization, SGD with momentum, one learning rate for "
        "every M, a fixed number of epochs (ours; the paper's ResNet set-up is a recollection)",
        "data: a class-balanced, average-pooled image subset with a validation split (ours)",
        "PN: the same normalization with the statistics of a fixed set of training images, refreshed periodically "
        "without gradient (ours)",
        "gamma decay: lambda * sum(gamma^2) over both norm layers, lambda validated per M on a grid (spec D5, ours)",
        "regularization signature: last-layer gamma^2 of BN relative to the paired PN(lambda=0) network (spec D2, ours)",
        "competence bar: a per-dataset test accuracy argued from pilots and a linear baseline (ours)",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
print(f"batch sizes {batch_sizes}, lambdas {lambdas}, CNN widths {conv_width}, "
      f"{epochs} epochs, lr {lr} at every M, momentum {momentum}; torch float32 on {verdict.device}")

# %% [markdown]
# ## Data
#
# `load("cifar10")` falls back loudly to Fashion-MNIST (then digits) when CIFAR-10 cannot be had, and the verdict
# flags it. Class-balanced, disjoint training and validation subsets of the training set, a test subset of the
# test set, average-pooled by `pool_factor` (28×28 → 14×14, 32×32 → 16×16) to fit the CPU budget, standardized
# per channel. PN's statistics come from a fixed class-balanced part of the training subset (`stats_per_class`
# images per class).

# %%
ds = real.load("cifar10", strict=strict_data)  # a substitution prints a banner: the first output
verdict.use_dataset(ds)
print(ds.provenance())
data = cnn.image_splits(ds, train_per_class, val_per_class, test_per_class, subset_seed, factor=pool_factor)
if data.note:
    verdict.deviation(data.note)
    print(data.note)
classes = int(data.y_train.max()) + 1
per_class_rows = [np.flatnonzero(data.y_train == c)[:stats_per_class] for c in range(classes)]
x_stats = data.x_train[np.sort(np.concatenate(per_class_rows))]
print(f"train {data.x_train.shape}, validation {data.x_val.shape}, test {data.x_test.shape}, "
      f"PN statistics set {x_stats.shape}, {classes} classes")

# %% [markdown]
# ## Learning rate (pilot, before this run)
#
# BN tolerates larger steps than PN (that is the separate claim luo2019/learning-rate), so the regularization
# comparison must run at a step where **PN** is stable at every batch size; otherwise a PN deficit is an
# optimization failure, as in the first design. One learning rate serves all batch sizes and variants.
# A pilot with other seeds (100–102, 3 models per variant), the paper-scale data set-up (1500 training images,
# 8 epochs, momentum 0.9, PN statistics of 100 images refreshed every 256 samples) and $M\in\{8,128\}$ inspected
# only **PN ($\lambda=0$)**: its validation accuracy (500 validation images) and whether training stayed finite.
#
# | learning rate | M = 8: PN val. acc. | M = 128: PN val. acc. |
# |---|---|---|
# | 0.003 | 76.5% | 67.4% |
# | 0.01 | 77.7% | 72.9% |
# | 0.03 | 76.6% | 76.8% |
# | 0.1 | diverged (nan) | 77.9% |
#
# 0.1 diverges at $M=8$; 0.003 and 0.01 under-train $M=128$ (fewer steps in a fixed number of epochs). We take
# **0.03**, the largest grid value that is stable at every $M$ and within about one point of the best PN validation
# accuracy at both ends. Competence of the architecture was checked in a second pilot on BN alone ($M=32$, learning
# rate 0.03, the same seeds): validation accuracy 80.3% (79.0–81.2%) at 8 epochs; 15 epochs, widths [16, 32] or
# 3000 training images gave no gain (80.1%, 80.4%, 80.2%) at 2–2.5× the cost; a logistic regression on the same
# pixels reached 81.2%. So on 14×14 Fashion-MNIST with 1500 images the network is at the level of a linear
# classifier (not far above it: the CPU budget rules out 28×28 inputs); it is trained, which the first design was
# not.
#
# **Competence bar** (a `regime` check). BN's mean test accuracy at every $M$ must reach 75% on Fashion-MNIST: about
# five points under what the pilot saw and under the linear classifier (computed below on the same split, for
# reference), and far above the first design's 45–61%. For CIFAR-10 (if present) 40% (a linear classifier on a few thousand CIFAR-10
# images reaches about 35–40%), for digits 90%. A failure is reported, not hidden: it would mean the comparison
# below is between under-trained networks.

# %%
linear = LogisticRegression(C=0.1, max_iter=2000).fit(data.x_train.reshape(len(data.x_train), -1), data.y_train)
linear_acc = 100 * linear.score(data.x_test.reshape(len(data.x_test), -1), data.y_test)
verdict.measure("test accuracy of a logistic regression on the same training images (%)", linear_acc)
print(f"reference: logistic regression on the pixels of the same {len(data.y_train)} training images: "
      f"test accuracy {linear_acc:.2f}%")

# %% [markdown]
# ## Train every batch size (seeds × variants in one network)
#
# Model $v S + s$ is variant $v$ (0: BN; $1+j$: PN with $\lambda_j$) of seed $s$: models of one seed share initial
# weights (seed $s$) and mini-batch order (order seed $s$), so the comparison is paired.

# %%
variant_modes = ["batch"] + ["population"] * len(lambdas)
variant_lambdas = [0.0] + list(lambdas)
names = ["BN"] + [f"PN, lambda={lam:g}" for lam in lambdas]
acc = {split: np.zeros((len(batch_sizes), V, S)) for split in ("train", "val", "test")}
gamma2 = np.zeros((len(batch_sizes), 2, V, S))  # (M, norm layer, variant, seed): mean over channels of gamma^2
for i, M in enumerate(batch_sizes):
    started = time.perf_counter()
    net = cnn.SwitchableCNN(data.x_train.shape[1], tuple(conv_width), classes, V * S,
                            image_size=data.x_train.shape[2], seeds=seeds * V)
    modes = [m for m in variant_modes for _ in seeds]
    lam = [lam for lam in variant_lambdas for _ in seeds]
    cnn.train(net, data.x_train, data.y_train, modes=modes, lambdas=lam, epochs=epochs, batch_size=M,
              lr=lr, momentum=momentum, order_seeds=seeds * V, stats_x=x_stats,
              refresh_samples=refresh_samples,
              on_epoch=lambda e, loss, M=M: print(f"  M={M} epoch {e}/{epochs}: mean training loss {loss:.4f}", flush=True))
    population = net.statistics(data.x_train)  # inference: population statistics of the whole training subset
    for split, (x, y) in {"train": (data.x_train, data.y_train), "val": (data.x_val, data.y_val),
                          "test": (data.x_test, data.y_test)}.items():
        acc[split][i] = cnn.accuracy(net, x, y, "population", population).numpy().reshape(V, S) * 100
    for layer, g2 in enumerate(net.gamma_squared()):
        gamma2[i, layer] = g2.double().numpy().reshape(V, S)
    verdict.timing(f"training, batch size {M}", time.perf_counter() - started)
    print(f"M={M}: test accuracy (%) " + ", ".join(f"{n} {a:.2f}" for n, a in zip(names, acc["test"][i].mean(axis=1))),
          flush=True)

# %% [markdown]
# ## Regime: the network is trained
#
# Threshold argued in "Learning rate" above (the competence bar of the dataset actually used). One check per batch
# size on BN's per-seed test accuracies (t interval of the mean); version 1 asked, non-essentially, for the lowest
# seed mean over $M$. Not passing makes the claim inconclusive (out of regime): the comparison below would be
# between under-trained networks.

# %%
bar = float(competence_bar[ds.used])
bn_worst = float(acc["test"][:, 0].mean(axis=1).min())
print(f"BN mean test accuracy per M: {np.round(acc['test'][:, 0].mean(axis=1), 2).tolist()}; "
      f"lowest {bn_worst:.2f}% (bar {bar:g}% on {ds.used})")
for i, M in enumerate(batch_sizes):
    verdict.check(f"competence: M={M}: BN mean test accuracy (%), bar for {ds.used}", acc["test"][i, 0], ">=", bar,
                  kind="regime", aggregate="mean")

# %% [markdown]
# ## Choose $\lambda$ on the validation split
#
# Per batch size, the $\lambda$ whose PN network has the highest seed-mean validation accuracy (ties: the smaller
# $\lambda$). The test set is not looked at.
#
# The grid is the spec's $\{0, 10^{-4}, 10^{-3}\}$, kept as it is (not re-tuned after seeing results). The
# decomposition's $\zeta\propto1/M$ would ask for a larger $\lambda$ at small $M$; for a convolutional channel the
# batch statistics pool $M\times H\times W$ correlated values, so the implied $\zeta$ is smaller than for a single
# neuron and we could not argue a better grid in advance. Where the validated $\lambda$ sits at the top of the grid,
# a larger one might have fitted better: the selected values are printed and recorded.

# %%
best = acc["val"][:, 1:].mean(axis=2).argmax(axis=1)  # argmax takes the first (smallest lambda) on ties
selected = [lambdas[j] for j in best]
acc_bn = acc["test"][:, 0]  # (M, seeds)
acc_gd = acc["test"][np.arange(len(batch_sizes)), 1 + best]
acc_pn0 = acc["test"][:, 1 + lambdas.index(0.0)] if 0.0 in lambdas else acc["test"][:, 1]
for i, M in enumerate(batch_sizes):
    print(f"M={M}: validation accuracy per lambda " + ", ".join(f"{lam:g}: {a:.2f}" for lam, a in
          zip(lambdas, acc["val"][i, 1:].mean(axis=1))) + f" -> lambda = {selected[i]:g}")
    verdict.measure(f"selected lambda at M={M}", selected[i])

# %% [markdown]
# ## Claim, parts `equivalence-M<M>`: equivalence of BN and PN + gamma decay
#
# **Threshold.** The spec's recommended criterion (D5): 1.0 accuracy point, about the seed-to-seed standard
# deviation of a small network's test accuracy on a few hundred test images per class, and smaller than the
# differences between normalizations that papers usually report as meaningful. Version 1 decided on the mean over
# seeds being within it at every batch size, and reported the paired 90% confidence interval of the difference (a
# TOST equivalence test at ±1 point) as non-essential. Version 2 decides on the TOST: two one-sided checks on the
# mean paired difference, > −1 and < +1 point, each on the paired 90% t interval (`confidence=0.9`, one-sided 5%).
# With 10 seeds it may be too wide to certify equivalence (then the part is inconclusive).
#
# **Discriminative?** The comparison can only show that gamma decay *recovers* BN's regularization if BN beats plain
# PN ($\lambda=0$) by more than seed noise. Where the paired 90% CI of BN − PN($\lambda=0$) contains 0 (or lies below
# it), the equivalence is **consistent, not discriminative**: that is the `control` of the part at that $M$, with
# version 1's one-sided logic (BN detectably better than PN(0)) kept as it was.

# %%
resolved = []
for i, M in enumerate(batch_sizes):
    d = acc_bn[i] - acc_gd[i]
    lo, hi = stats.t_interval(d, 0.9)
    d0 = acc_bn[i] - acc_pn0[i]
    lo0, hi0 = stats.t_interval(d0, 0.9)
    resolved.append(bool(lo0 > 0))
    print(f"M={M}: BN {acc_bn[i].mean():.2f}%, PN+GD (lambda={selected[i]:g}) {acc_gd[i].mean():.2f}%, "
          f"difference {d.mean():+.2f} points, 90% CI [{lo:+.2f}, {hi:+.2f}]; BN - PN(0) {d0.mean():+.2f} [{lo0:+.2f}, {hi0:+.2f}]")
    part = f"equivalence-M{M}"
    verdict.check(f"M={M}: mean test acc BN - PN+gamma decay (validated lambda) (points), lower side", d, ">",
                  -tolerance_points, kind="claim", part=part, aggregate="mean", confidence=0.9)
    verdict.check(f"M={M}: mean test acc BN - PN+gamma decay (validated lambda) (points), upper side", d, "<",
                  tolerance_points, kind="claim", part=part, aggregate="mean", confidence=0.9)
    verdict.check(f"M={M}: mean test acc BN - PN(lambda=0) (points): BN detectably better than plain PN", d0, ">", 0,
                  kind="control", part=part, aggregate="mean", confidence=0.9)
    verdict.measure(f"M={M}: mean test accuracy BN (%)", acc_bn[i].mean())
    verdict.measure(f"M={M}: mean test accuracy PN+GD (%)", acc_gd[i].mean())
    verdict.measure(f"M={M}: mean test accuracy PN lambda=0 (%)", acc_pn0[i].mean())
    verdict.measure(f"M={M}: mean BN - PN(lambda=0) (points)", d0.mean())
    verdict.measure(f"M={M}: lower end of the 90% CI of BN - PN(lambda=0) (points)", lo0)
discriminative = any(resolved)
print("BN's advantage over plain PN resolved (90% CI above 0) at batch sizes:",
      [M for M, r in zip(batch_sizes, resolved) if r] or "none", "->",
      "discriminative where resolved" if discriminative else "consistent, not discriminative")

# %% [markdown]
# ## Claim, part `gamma-ratio`: BN's regularization grows as the batch shrinks
#
# **Signature (chosen before running).** Spec D2: under BN, the learned $\gamma$ shrinks with the batch size,
# because the implicit penalty $\zeta\gamma^2$ has $\zeta\propto1/M$; a network without batch noise has no such
# penalty. We read $\overline{\gamma^2}$ (mean over channels) of the **last** norm layer, whose $\gamma$ scales the
# features fed to the classifier as in the single-neuron analysis (the first layer's $(\gamma,\beta)$ scale is free:
# the next BN removes it, so its $\gamma$ only drifts). Different batch sizes also differ in the number of steps,
# which move $\gamma$ for every normalization; dividing by the paired PN($\lambda=0$) network (same seed, same
# batches, same steps) cancels that, leaving the batch-noise effect: $r(M)=\overline{\gamma^2}_{BN}/\overline{\gamma^2}_{PN}$.
#
# **Thresholds.** Spearman correlation of the seed-mean $r(M)$ with $M$ equal to 1 (monotone increase), as D2 asks
# of $\gamma_{BN}$: one number, the correlation is over the three batch sizes of the seed-mean curve; and
# $r(M_{\max})>r(M_{\min})$ on at least 80% of the seeds (under no effect, the chance of ≥ 8 of 10 is 5.5%), now a
# fraction of per-seed outcomes decided on its exact binomial interval (with 10 seeds even 10 of 10 gives
# $[0.69, 1]$, which cannot certify 0.8: the check can fail or stay undecided, a finding of version 2).
#
# **Reported, not checked** (version 1: non-essential checks; now measurements): BN's own $\overline{\gamma^2}$ rising
# with $M$ (Spearman, version 1 asked 1) is not clean evidence, because the number of steps also moves $\gamma$, which
# is why the signature divides by PN; PN's relative range across $M$ against BN's (version 1 asked at most half) is
# not a control either, since the ratio design expects PN's $\gamma$ to move with the step count; the Spearman
# correlation of the BN − PN($\lambda=0$) test-accuracy gap with $M$ (version 1 asked −1) has too little power over
# three batch sizes of noisy seed means to count as evidence either way.

# %%
g_last = gamma2[:, 1]  # (M, variant, seed)
ratio = g_last[:, 0] / g_last[:, 1 + (lambdas.index(0.0) if 0.0 in lambdas else 0)]  # (M, seed)
ratio_mean = ratio.mean(axis=1)
bn_mean = g_last[:, 0].mean(axis=1)
pn_mean = g_last[:, 1 + (lambdas.index(0.0) if 0.0 in lambdas else 0)].mean(axis=1)
Ms = np.array(batch_sizes, dtype=float)
for i, M in enumerate(batch_sizes):
    print(f"M={M}: mean gamma^2 (last layer) BN {bn_mean[i]:.4f}, PN(0) {pn_mean[i]:.4f}, ratio {ratio_mean[i]:.4f}; "
          f"first layer BN {gamma2[i, 0, 0].mean():.4f}, PN(0) {gamma2[i, 0, 1].mean():.4f}")
    verdict.measure(f"M={M}: mean gamma^2 BN (last norm layer)", bn_mean[i])
    verdict.measure(f"M={M}: mean gamma^2 PN lambda=0 (last norm layer)", pn_mean[i])
verdict.check("Spearman(M, seed-mean gamma^2 ratio BN / PN(lambda=0))", stats.spearman(Ms, ratio_mean), ">=", 1.0,
              kind="claim", part="gamma-ratio")
verdict.check("fraction of seeds with ratio(M_max) > ratio(M_min)", ratio[-1] > ratio[0], ">=", ratio_seed_fraction,
              kind="claim", part="gamma-ratio", aggregate="fraction")
verdict.measure("Spearman(M, seed-mean gamma^2 of BN) (version 1 asked >= 1)", stats.spearman(Ms, bn_mean))
verdict.measure("relative range over M of gamma^2: PN(lambda=0) / BN (version 1 asked <= 0.5)",
                ((pn_mean.max() - pn_mean.min()) / pn_mean.mean()) / ((bn_mean.max() - bn_mean.min()) / bn_mean.mean()))
gap = (acc_bn - acc_pn0).mean(axis=1)
verdict.measure("Spearman(M, mean test-accuracy gap BN - PN(lambda=0)) (version 1 asked <= -1)", stats.spearman(Ms, gap))

# %% [markdown]
# ## Figures: accuracy and learned gamma against the batch size
#
# Left: test accuracy, seed mean (line) and each seed (dots, fixed horizontal offsets per variant). Right: the
# last norm layer's $\overline{\gamma^2}$ for BN and PN($\lambda=0$), and their paired ratio $r(M)$.

# %%
colours = sns.color_palette(n_colors=V + 1)
fig, (ax, ax_g) = plt.subplots(1, 2, figsize=(12, 4.3))
series = [("BN", acc_bn, colours[0])] + [(f"PN, lambda={lam:g}", acc["test"][:, 1 + j], colours[1 + j]) for j, lam in enumerate(lambdas)]
series.append(("PN + GD, validated lambda", acc_gd, colours[V]))
for k, (label, a, colour) in enumerate(series):
    offsets = Ms * 2.0 ** ((k - (len(series) - 1) / 2) * 0.06)
    ax.plot(offsets, a.mean(axis=1), "o-", color=colour, label=label, lw=2 if k in (0, len(series) - 1) else 1)
    for i in range(len(batch_sizes)):
        ax.scatter(np.full(S, offsets[i]), a[i], s=8, color=colour, alpha=0.4)
ax.set_xscale("log", base=2)
ax.set_xticks(batch_sizes, [str(M) for M in batch_sizes])
ax.set(xlabel="batch size M", ylabel="test accuracy (%)", title=f"{ds.used}: small CNN, {S} seeds")
ax.legend(fontsize=8)
ax_g.plot(Ms, bn_mean, "o-", color=colours[0], label=r"BN $\overline{\gamma^2}$")
ax_g.plot(Ms, pn_mean, "s-", color=colours[1], label=r"PN($\lambda=0$) $\overline{\gamma^2}$")
for i in range(len(batch_sizes)):
    ax_g.scatter(np.full(S, Ms[i]), g_last[i, 0], s=8, color=colours[0], alpha=0.4)
    ax_g.scatter(np.full(S, Ms[i]), g_last[i, 1], s=8, color=colours[1], alpha=0.4)
ax_r = ax_g.twinx()
ax_r.plot(Ms, ratio_mean, "k--", label="ratio BN / PN (right axis)")
ax_r.set_ylabel("ratio")
ax_g.set_xscale("log", base=2)
ax_g.set_xticks(batch_sizes, [str(M) for M in batch_sizes])
ax_g.set(xlabel="batch size M", ylabel=r"mean $\gamma^2$, last norm layer", title="learned gamma")
lines = ax_g.get_legend_handles_labels()
extra = ax_r.get_legend_handles_labels()
ax_g.legend(lines[0] + extra[0], lines[1] + extra[1], fontsize=8)
verdict.figure(fig, "accuracy-and-gamma-vs-batch-size")
plt.show()

# %% [markdown]
# ## Deviations from the paper

# %%
verdict.deviation(
    "Source: only the abstract, the start of section 1 and Eq. (1) of the paper were readable; the paper's "
    "CNN set-up (recollected as ResNet-18 on CIFAR-10, unverified) and numbers are unknown. This is our small-scale "
    "reconstruction, checking the abstract-level claim through the derived BN = PN + zeta*gamma^2 (zeta ~ 1/M) "
    "formulation, not the paper's theorems or numbers."
)
if ds.substituted:
    verdict.deviation(f"CIFAR-10 was not available: {ds.used} was used instead ({ds.reason}).")
verdict.deviation(
    f"Scale: a 2-conv-layer CNN (widths {conv_width}) on {len(data.y_train)} training images average-pooled by "
    f"{pool_factor}, {epochs} epochs, batch sizes {batch_sizes}; one learning rate {lr} for every M and variant "
    f"(chosen by a pilot on PN's validation accuracy and stability), momentum {momentum}; float32. All our choices: "
    "the paper's hyperparameters are unknown."
)
verdict.deviation(
    "History: a first design of this notebook (global-average-pool head, 600 training images, learning rate "
    "0.05 x M/32) reached only 45-61% test accuracy and gave not-reproduced, with PN failing to optimize at M=128; "
    "it was judged too weak to test the claim, and the present design was fixed on competence criteria (BN "
    "validation accuracy, PN stability) before its BN-versus-PN results were seen."
)
verdict.deviation(
    f"PN uses the statistics of a fixed set of {len(x_stats)} training images, recomputed without gradient every "
    f"{refresh_samples} training samples (every max(1, {refresh_samples}/M) steps: "
    + ", ".join(f"{max(1, refresh_samples // M)} at M={M}" for M in batch_sizes)
    + "), not before every step, to fit the CPU budget, so PN's statistics lag the weights by up to that many "
    "steps; at inference every variant uses the statistics of the whole training subset."
)
verdict.deviation(
    "Gamma decay lambda*sum(gamma^2) covers both norm layers; lambda is chosen per batch size on a validation split "
    f"from {lambdas} (selected: {dict(zip(batch_sizes, selected))})."
)
if not discriminative:
    verdict.deviation(
        "Consistent, not discriminative: BN's test accuracy does not exceed plain PN's (lambda=0) by more than seed "
        "noise at any batch size (paired 90% CI contains 0), so the equivalence cannot show that gamma decay "
        "recovers a BN advantage; the weight of evidence for the decomposition rests on luo2019/pn-gamma-decay, "
        "luo2019/gamma-decay-batch-size and luo2019/generalization."
    )
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
