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
# # luo2019/cnn-regularization: in a CNN, BN's batch noise is an explicit regularizer that shrinks like 1/M, and BN ≈ PN + gamma decay
#
# > "First, by viewing BN as an implicit regularizer, BN can be decomposed into population normalization (PN)
# > and gamma decay as an explicit regularization. [...] Experiments demonstrate that BN in convolutional neural
# > networks share the same traits of regularization as the above analyses."
# > (Luo, Wang, Shao & Peng, ICLR 2019, abstract)
#
# **Source availability.** Only the abstract, the start of §1 and Eq. (1) of the paper could be read (see
# `docs/papers/luo2019.md`). The paper's CNN set-up (recollected as ResNet-18 on CIFAR-10, unverified) and its
# numbers are unknown. This notebook is **our small-scale reconstruction**: it checks the abstract-level claim through
# our derived formulation (BN's batch noise acts, to second order, like an explicit penalty $\zeta\gamma^2$ added to
# the PN loss, with $\zeta\propto1/M$; `docs/papers/luo2019.md`), not the paper's experiments or numbers.
#
# **What we run.** A small CNN that keeps spatial information, conv(3×3, $c_1$) → norm → ReLU → max-pool →
# conv(3×3, $c_2$) → norm → ReLU → max-pool → flatten → linear, on a class-balanced image subset (CIFAR-10 when
# available; the data policy falls back loudly to Fashion-MNIST, then to scikit-learn's digits). For every training
# batch size $M$ and seed, the variants share initial weights and mini-batches: **BN** (batch statistics), and
# **PN + $\lambda\sum\gamma^2$** for each $\lambda$ of a grid including 0 (PN: the same normalization with the statistics
# of a fixed set of training images at the current weights, without gradient, refreshed periodically). SGD with
# momentum, one learning rate, and **the same number of SGD steps at every batch size** (version 2; version 1 used a
# fixed number of epochs, about 88 steps at M=128 against 1500 at M=8). Inference uses the statistics of the whole
# training subset for every variant.
#
# **Parts and checks** (verdict version 2; pre-registered before the first paper-scale run of this design):
#
# 0. *Regime*: the CNN is in the regime the paper speaks of, a network that does better than a linear model: BN's
#    test accuracy (trained at $M_\Delta$, the batch size whose weights part 1 uses) minus that of a logistic
#    regression on the **same images** is above 0 on its 95 % t interval over the seeds. On a stand-in where the small
#    CNN does not beat a linear model (version 1: BN 77.4–78.4 % against 80.75 % for the linear model) the verdict is
#    `inconclusive` (out of regime), not the paper's failure.
# 1. *Part `regularizer`* (the decomposition itself, measured directly): at the trained BN weights, the paired Monte
#    Carlo $\Delta(M)=\mathbb E_B[L_{BN}(B)]-L_{PN}$ over mini-batches of size $M$ (cross-entropy; PN with the statistics
#    of the whole training subset; the same images in both arms). Claim checks: $\Delta(M)>0$ at every $M$ of the grid
#    $\{4,\dots,128\}$ (mean over seeds, 95 % t interval), and the log-log slope of the seed-mean $\Delta(M)$ against $M$
#    over $M\in[4,64]$ within $[-1.15,-0.85]$ (jackknife over seeds: its pseudo-values' 95 % t interval on each side).
# 2. *Parts `equivalence-M<M>`* (version 1's evidence, kept): test accuracy of BN − PN + gamma decay (λ validated per
#    $M$) within ±1 point, as a TOST (two one-sided checks on the paired 90 % t interval). Controls: BN detectably
#    better than plain PN (λ=0) (version 1's "discriminative?" question; where it fails the part is inconclusive,
#    "consistent, not discriminative"); the validated λ is not the top of the grid (else a larger λ might fit better
#    and the comparison is not at PN + gamma decay's best); at a batch size other than $M_\Delta$, BN there also beats
#    the linear model (a precondition of that part alone).
# 3. *Part `gamma-ratio`* (version 1's signature, kept, decided per seed): the last norm layer's
#    $r(M)=\overline{\gamma^2}_{BN}/\overline{\gamma^2}_{PN(0)}$ is smaller at the smallest training batch than at the
#    largest: mean over seeds of $\log r(M_{\max})-\log r(M_{\min})$ above 0 (95 % t interval).
#
# ## History of this notebook
#
# A first design (global-average-pool head, 600 training images) reached 45–61 % test accuracy and was replaced by
# version 1 (flattened head, 1500 training images of 14×14 Fashion-MNIST, 8 epochs at every $M$, λ grid
# $\{0,10^{-4},10^{-3}\}$, ten seeds), which gave **not-reproduced**: the Spearman signature over three batch sizes failed
# (−0.5, and 2/10 seeds); the equivalence passed within 1 point but BN never beat plain PN detectably. An audit then
# found: BN (77.4–78.4 %) below a logistic regression on the same images (80.75 %), so version 1's competence bar of
# 75 % sat below a linear baseline; fixed epochs gave about 88 steps at M=128 against 1500 at M=8; the validated λ sat
# at the top of its grid; a Spearman of 1 over three batch sizes has a null probability of 1/6; the last-layer
# $\gamma^2$ barely moved from 1. This version 2 answers each point: a linear-baseline regime check, equal step counts,
# the regularizer measured directly, a λ grid reaching 0.1 with an interior check, and per-seed paired intervals.
#
# **Rounding.** Training in float32 is chaotic: torch's CPU kernels round differently on another machine (or under
# `ATEN_CPU_CAPABILITY=default`), and at the quick scale's three seeds a few test images can move a decision. The quick
# scale therefore trains in float64 (`float64`), where rounding differences start near $10^{-16}$ and do not grow to a
# changed prediction within its 150 steps. A `rounding_shadow` is also available (off by default): every model is
# trained a second time from weights
# multiplied by $1+\epsilon N(0,1)$, $\epsilon=10^{-5}$ (a few float32 rounding steps; a common scale would be invisible
# to the normalization), and every check is also decided on the shadow's
# values: a decision the shadow reads otherwise is `undecided`. At the paper scale (float32) the shadow would double the
# cost, and the decisions rest on intervals over ten seeds.
#
# **Pilot** (seeds 5 000 000–5 000 005, never the registry's or the replicate's; 4000 training images of 14×14
# Fashion-MNIST, test 300 images per class): BN at $M=32$ after 1000 steps reached 82.6–83.2 % test accuracy against
# 81.6 % for the logistic regression (widths [16, 32] gained under one point at twice the cost), while BN at $M=8$ with the
# same learning rate stayed near the linear model (about 80 % on four seeds): this is why the regime check uses
# $M_\Delta=32$ and the precondition at $M=8$ is a control of its own part. On six pilot seeds at $M=32$ the PN validation
# accuracy per $\lambda\in\{0,10^{-3},10^{-2},10^{-1},1\}$ was 82.3, 82.4, 81.0, 75.3, 69.5 %: the grid stops at
# $10^{-1}$, past the pilot's optimum. The pilot's $M\Delta(M)$ (seed mean) was flat, 0.094–0.108 from $M=4$ to 128, but
# with four partitions the per-seed $\Delta$ at $M\ge64$ was dominated by Monte Carlo noise (per-seed slopes −0.8 to
# −1.7): this informed the slope's estimator (the seed-mean curve, jackknife interval) and its window $[4,64]$. The
# thresholds (0, ±1 point, the slope window) are argued in their sections, not tuned.

# %% tags=["parameters"]
claim_id = "luo2019/cnn-regularization"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
threads = 1
batch_sizes = [8, 32]
steps = 1000
gap_train_batch_size = 32
gap_batch_sizes = [4, 8, 16, 32, 64, 128]
slope_window = [4, 64]
slope_bounds = [-1.15, -0.85]
gap_partitions = 4
lambdas = [0.0, 0.001, 0.01, 0.1]
train_per_class = 400
val_per_class = 100
test_per_class = 300
stats_per_class = 10
subset_seed = 0
pool_factor = 2
conv_width = [8, 16]
lr = 0.03
momentum = 0.9
refresh_samples = 256
linear_c = 0.1
tolerance_points = 1.0
float64 = False
rounding_shadow = False
rounding_perturbation = 1e-5
strict_data = False

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch
from sklearn.linear_model import LogisticRegression

from bnrepro import claims
from bnrepro import stats
from bnrepro.data import real
from bnrepro.luo2019 import cnn

S, V = len(seeds), 1 + len(lambdas)
dtype = torch.float64 if float64 else torch.float32
verdict = claims.open(
    claim_id,
    statement=(
        "In a convolutional network on an image task, BN's batch noise acts as an explicit regularizer on top of "
        "population normalization (the expected mini-batch loss exceeds the PN loss by an amount that shrinks like 1/M), "
        "and BN and population normalization plus gamma decay reach equivalent test accuracy. Checked on our small-CNN "
        "reconstruction through the derived BN = PN + zeta*gamma^2 (zeta ~ 1/M) formulation: the paper's body text "
        "(theorems, ResNet/CIFAR set-up, numbers) was not available."
    ),
    source="abstract (Luo, Wang, Shao & Peng, ICLR 2019; arXiv:1809.00846 v4)",
    evidence="abstract",
    stand_ins=[
        "network: a small 2-conv-layer CNN with switchable normalization, SGD with momentum, one learning rate, the same "
        "number of steps at every batch size (ours; the paper's ResNet set-up is a recollection)",
        "data: a class-balanced, average-pooled image subset with a validation split; CIFAR-10 when available, else "
        "Fashion-MNIST, else digits (ours)",
        "regime: BN's CNN beats a logistic regression on the same images (ours)",
        "regularizer: the paired Monte Carlo Delta(M) = E[L_BN] - L_PN at the trained BN weights, cross-entropy, "
        "positive with log-log slope about -1 over M in [4, 64] (our derived formulation, docs/papers/luo2019.md)",
        "PN: the same normalization with the statistics of a fixed set of training images, refreshed periodically "
        "without gradient (ours)",
        "gamma decay: lambda * sum(gamma^2) over both norm layers, lambda validated per M on a grid (ours)",
        "equivalence margin: 1 accuracy point, TOST on paired 90% t intervals (ours)",
        "batch-size signature: last-layer gamma^2 of BN relative to the paired PN(lambda=0) network (ours)",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
print(f"training batch sizes {batch_sizes}, {steps} steps each, lambdas {lambdas}, CNN widths {conv_width}, "
      f"lr {lr}, momentum {momentum}; Delta(M) at M in {gap_batch_sizes} on the BN weights trained at "
      f"M={gap_train_batch_size}; torch {dtype} on {verdict.device}")

# %% [markdown]
# ## Data
#
# `load("cifar10")` falls back loudly to Fashion-MNIST (then digits) when CIFAR-10 cannot be had, and the verdict
# flags it. Class-balanced, disjoint training and validation subsets of the training set, a test subset of the
# test set, average-pooled by `pool_factor` (28×28 → 14×14, 32×32 → 16×16) to fit the CPU budget, standardized
# per channel. PN's statistics during training come from a fixed class-balanced part of the training subset
# (`stats_per_class` images per class).

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
# ## The linear baseline
#
# A logistic regression (L2, $C$ = `linear_c`) on the pixels of the same training images, scored on the same test
# images. It is deterministic (one number); the regime check below compares each seed's CNN with it.

# %%
linear = LogisticRegression(C=linear_c, max_iter=3000).fit(data.x_train.reshape(len(data.x_train), -1), data.y_train)
linear_acc = 100 * linear.score(data.x_test.reshape(len(data.x_test), -1), data.y_test)
verdict.measure("test accuracy of a logistic regression on the same training images (%)", linear_acc)
print(f"logistic regression on the pixels of the same {len(data.y_train)} training images: test accuracy {linear_acc:.2f}%")

# %% [markdown]
# ## Train every batch size (seeds × variants in one network), the same number of steps at each
#
# Model $v S + s$ is variant $v$ (0: BN; $1+j$: PN with $\lambda_j$) of seed $s$: models of one seed share initial
# weights (seed $s$) and mini-batch order (order seed $s$), so the comparison is paired. The BN models trained at
# $M_\Delta$ are kept for part 1.

# %%
variant_modes = ["batch"] + ["population"] * len(lambdas)
variant_lambdas = [0.0] + list(lambdas)
names = ["BN"] + [f"PN, lambda={lam:g}" for lam in lambdas]
copies = [0.0] + ([rounding_perturbation] if rounding_shadow else [])  # copy 1: the rounding shadow (see below)
C = len(copies)
acc = {split: np.zeros((C, len(batch_sizes), V, S)) for split in ("train", "val", "test")}
gamma2 = np.zeros((C, len(batch_sizes), 2, V, S))  # (copy, M, norm layer, variant, seed): mean over channels of gamma^2
bn_nets = [None] * C
for i, M in enumerate(batch_sizes):
    for c, perturbation in enumerate(copies):
        started = time.perf_counter()
        net = cnn.SwitchableCNN(data.x_train.shape[1], tuple(conv_width), classes, V * S,
                                image_size=data.x_train.shape[2], seeds=seeds * V, dtype=dtype)
        if perturbation:  # every weight times 1 + perturbation * N(0, 1) (a uniform scale would be invisible to BN)
            noise = torch.Generator().manual_seed(0)
            with torch.no_grad():
                for parameter in net.parameters():
                    parameter.mul_(1.0 + perturbation * torch.randn(parameter.shape, generator=noise, dtype=parameter.dtype))
        cnn.train(net, data.x_train, data.y_train, modes=[m for m in variant_modes for _ in seeds],
                  lambdas=[lam for lam in variant_lambdas for _ in seeds], steps=steps, batch_size=M, lr=lr,
                  momentum=momentum, order_seeds=seeds * V, stats_x=x_stats, refresh_samples=refresh_samples)
        population = net.statistics(data.x_train)  # inference: population statistics of the whole training subset
        for split, (x, y) in {"train": (data.x_train, data.y_train), "val": (data.x_val, data.y_val),
                              "test": (data.x_test, data.y_test)}.items():
            acc[split][c, i] = cnn.accuracy(net, x, y, "population", population).numpy().reshape(V, S) * 100
        for layer, g2 in enumerate(net.gamma_squared()):
            gamma2[c, i, layer] = g2.double().numpy().reshape(V, S)
        if M == gap_train_batch_size:
            bn_nets[c] = cnn.SwitchableCNN(data.x_train.shape[1], tuple(conv_width), classes, S,
                                           image_size=data.x_train.shape[2], seeds=seeds, dtype=dtype)
            bn_nets[c].load_state_dict({k: v[:S] for k, v in net.state_dict().items()})  # the BN models: the first S
        verdict.timing(f"training, batch size {M}" + (" (rounding shadow)" if c else ""), time.perf_counter() - started)
    print(f"M={M} ({steps} steps, {steps * M / len(data.y_train):.1f} epochs): test accuracy (%) "
          + ", ".join(f"{n} {a:.2f}" for n, a in zip(names, acc["test"][0, i].mean(axis=1))), flush=True)
if rounding_shadow:
    verdict.measure("max over models of |test accuracy - its rounding shadow| (points)", np.abs(acc["test"][0] - acc["test"][1]).max())

# %% [markdown]
# ## Regime: the CNN beats a linear model on the same images
#
# The paper's claims are about trained convolutional networks; a CNN no better than a logistic regression on the same
# pixels is not in that regime. Threshold 0 (beats), on the per-seed paired values BN accuracy − linear accuracy (the
# linear model is deterministic), 95 % t interval. Decided at $M_\Delta$, whose BN weights part 1 measures. It can
# fail: version 1's CNN on 1500 images of this data sat about 3 points below the linear model.

# %%
i_gap = batch_sizes.index(gap_train_batch_size)
above_linear = acc["test"][:, :, 0] - linear_acc  # (copy, M, seed)
verdict.check(f"M={gap_train_batch_size}: test accuracy BN CNN - logistic regression on the same images (points)",
              above_linear[0, i_gap], ">", 0.0, kind="regime", aggregate="mean", shadow=above_linear[1, i_gap] if C > 1 else None)
for i, M in enumerate(batch_sizes):
    verdict.measure(f"M={M}: mean test accuracy BN - logistic regression (points)", above_linear[0, i].mean())

# %% [markdown]
# ## Part `regularizer`: BN's loss exceeds PN's by an amount that shrinks like $1/M$
#
# At the BN weights trained at $M_\Delta$, `cnn.regularizer_gap` draws `gap_partitions` random partitions of the
# training subset into mini-batches of $M$ (each seed its own shuffles), computes every image's cross-entropy with its
# mini-batch's statistics (BN, as in training) and with the statistics of the whole training subset (PN), and averages
# the difference over the same images: a paired Monte Carlo of $\Delta(M)=\mathbb E_B[L_{BN}]-L_{PN}$, forward passes
# only. (A partition uses every image once, so the first-order terms of the batch means largely cancel within it; the
# pilot's spread between partitions was small against $\Delta$ itself, hence a few partitions suffice.)
#
# **Why these checks, and how they could fail.** Expanding the loss in the fluctuation of the batch statistics
# ($\mu_B-\mu_P$ and $\sigma_B-\sigma_P$, both of variance $\propto1/M$ for independent images, including an image's own
# share of its batch) gives $\Delta(M)=\zeta/M+O(1/M^2)$; the decomposition says the leading term is a **positive**
# penalty (gamma decay, $\zeta\gamma^2$). Neither is an identity: away from a PN-stationary point the first-order terms
# of the expansion (the bias of $1/\sigma_B$, and the image's own contribution to its batch statistics) also scale like
# $1/M$ and can have either sign (the library's unit tests found $\Delta<0$ at every $M$ for a random network on labels it
# fits); and if the penalty came from the typical size of the fluctuation rather than its variance, the slope would be
# −1/2. The BN weights are stationary for BN's own expected loss, not PN's, so the sign is an open question here.
# **Thresholds**: $\Delta(M)>0$ at every $M$ of the grid; slope in $[-1.15,-0.85]$, the window of the single-neuron
# check luo2019/pn-gamma-decay: a next-order correction $\Delta\propto(1+a/M)/M$ moves the fitted slope over $[4,64]$ by
# about $-0.06a$, so the window admits $|a|\lesssim2.5$ and rejects −1/2 and −2. **Estimator and window** (informed by
# the pilot): the Monte Carlo noise of one seed's $\Delta(M)$ relative to $\Delta$ grows like $\sqrt M$ (the
# first-order terms average out only as $1/\sqrt{NM}$ per partition while $\Delta\propto1/M$), so per-seed slopes are
# noisy; we fit the slope of the **seed-mean** curve and take its interval from the jackknife over seeds (the t interval
# of the leave-one-seed-out pseudo-values), over $M\in[4,64]$, leaving out $M=128$, where the noise is largest ($M=128$
# is still checked for the sign). The expansion's higher-order terms are largest at $M=4$, but the pilot's $M\Delta$ at
# $M=4$ was within 6 % of that at $M=8$.

# %%
started = time.perf_counter()
gaps = np.stack([cnn.regularizer_gap(bn_net, data.x_train, data.y_train, gap_batch_sizes, partitions=gap_partitions,
                                      order_seeds=seeds) for bn_net in bn_nets])  # (copy, seed, M, partition)
verdict.timing("regularizer Monte Carlo", time.perf_counter() - started)
gap = gaps[0]
all_delta = gaps.mean(axis=3)  # (copy, seed, M)
delta = all_delta[0]
Mg = np.array(gap_batch_sizes, dtype=float)
in_window = (Mg >= slope_window[0]) & (Mg <= slope_window[1])
for k, M in enumerate(gap_batch_sizes):
    print(f"M={M}: Delta mean {delta[:, k].mean():.3e} (seeds {delta[:, k].min():.3e} to {delta[:, k].max():.3e}), "
          f"M * Delta {M * delta[:, k].mean():.4f}; spread between partitions (sd) {gap[:, k].std(axis=1).mean():.2e}")
    verdict.check(f"Delta(M={M}) = E[L_BN] - L_PN at the trained BN weights", delta[:, k], ">", 0.0, kind="claim",
                  part="regularizer", aggregate="mean", shadow=all_delta[1, :, k] if C > 1 else None)
    verdict.measure(f"M * Delta(M={M}), seed mean", M * delta[:, k].mean())
# the slope of the seed-mean curve, and its jackknife pseudo-values (seed-mean curves leaving one seed out); a curve
# with a non-positive mean has no log slope: it is given the slope 0, outside the window, against the claim
all_window = all_delta[:, :, in_window]  # (copy, seed, M)
loo_mean = (all_window.sum(axis=1, keepdims=True) - all_window) / (S - 1)  # the seed-mean curve without that seed
curves = np.concatenate([all_window.mean(axis=1, keepdims=True), loo_mean], axis=1)  # (copy, 1 + seed, M)
all_slopes = np.where((curves > 0).all(axis=2), stats.loglog_slope(Mg[in_window], np.abs(curves)), 0.0)
all_pseudo = S * all_slopes[:, :1] - (S - 1) * all_slopes[:, 1:]  # (copy, seed)
window_delta, curve_slopes, pseudo_values = all_window[0], all_slopes[0], all_pseudo[0]
print(f"log-log slope of the seed-mean Delta over M in {slope_window}: {curve_slopes[0]:.4f}; jackknife pseudo-values "
      f"{np.round(pseudo_values, 3).tolist()}")
per_seed = stats.loglog_slope(Mg[in_window], np.abs(window_delta))
verdict.measure("log-log slope of the seed-mean Delta(M) over the fit window", curve_slopes[0])
verdict.measure("seeds with Delta > 0 at every M of the fit window", int((window_delta > 0).all(axis=1).sum()))
verdict.measure("median per-seed log-log slope of |Delta(M)| over the fit window (noisy, reported)", float(np.median(per_seed)))
verdict.check(f"log-log slope of the seed-mean Delta(M) over M in {slope_window} (jackknife), lower side", pseudo_values,
              ">", slope_bounds[0], kind="claim", part="regularizer", aggregate="mean", shadow=all_pseudo[1] if C > 1 else None)
verdict.check(f"log-log slope of the seed-mean Delta(M) over M in {slope_window} (jackknife), upper side", pseudo_values,
              "<", slope_bounds[1], kind="claim", part="regularizer", aggregate="mean", shadow=all_pseudo[1] if C > 1 else None)

# %% [markdown]
# ## Choose $\lambda$ on the validation split
#
# Per training batch size, the $\lambda$ whose PN network has the highest seed-mean validation accuracy (ties: the
# smaller). The test set is not looked at. Version 1's grid $\{0,10^{-4},10^{-3}\}$ put the validated $\lambda$ at its
# top; this grid reaches $\lambda=0.1$ (a penalty of 2.4 at $\gamma=1$ over the 24 channels, several times the
# cross-entropy), past the pilot's optimum (about $10^{-3}$, with $10^{-2}$ already worse). Whether the optimum is
# bracketed at each batch size is checked (a control of each equivalence part), not assumed.

# %%
all_best = acc["val"][:, :, 1:].mean(axis=3).argmax(axis=2)  # (copy, M); argmax takes the smallest lambda on ties
all_selected = np.array(lambdas)[all_best]
selected = all_selected[0].tolist()
all_bn = acc["test"][:, :, 0]  # (copy, M, seed)
all_gd = np.take_along_axis(acc["test"], 1 + all_best[:, :, None, None], axis=2)[:, :, 0]
i_pn0 = 1 + lambdas.index(0.0)
all_pn0 = acc["test"][:, :, i_pn0]
acc_bn, acc_gd, acc_pn0 = all_bn[0], all_gd[0], all_pn0[0]  # (M, seed)
for i, M in enumerate(batch_sizes):
    print(f"M={M}: validation accuracy per lambda " + ", ".join(f"{lam:g}: {a:.2f}" for lam, a in
          zip(lambdas, acc["val"][0, i, 1:].mean(axis=1))) + f" -> lambda = {selected[i]:g}")
    verdict.measure(f"selected lambda at M={M}", selected[i])

# %% [markdown]
# ## Parts `equivalence-M<M>`: BN and PN + gamma decay reach the same test accuracy
#
# **Threshold.** ±1.0 accuracy point, about the seed-to-seed spread of a small network's test accuracy on a few
# thousand test images, and smaller than the differences between normalizations usually reported as meaningful. The
# TOST: two one-sided checks on the mean paired difference, > −1 and < +1 point, each on the paired 90 % t interval
# (one-sided 5 %). It fails where BN and the validated PN + gamma decay differ by more than a point in either direction.
#
# **Controls** (the part is inconclusive where one fails): (a) BN detectably better than plain PN (λ=0), paired 90 %
# interval above 0: otherwise the equivalence cannot show that gamma decay *recovers* anything ("consistent, not
# discriminative"); (b) the validated λ is below the top of the grid (one comparison, no interval); (c) at a batch size
# other than $M_\Delta$, BN beats the linear model there (as the regime check; the API's regime kind would make the
# whole claim inconclusive, while this precondition concerns that part alone).

# %%
for i, M in enumerate(batch_sizes):
    d = acc_bn[i] - acc_gd[i]
    lo, hi = stats.t_interval(d, 0.9)
    d0 = acc_bn[i] - acc_pn0[i]
    lo0, hi0 = stats.t_interval(d0, 0.9)
    print(f"M={M}: BN {acc_bn[i].mean():.2f}%, PN+GD (lambda={selected[i]:g}) {acc_gd[i].mean():.2f}%, "
          f"difference {d.mean():+.2f} points, 90% CI [{lo:+.2f}, {hi:+.2f}]; BN - PN(0) {d0.mean():+.2f} [{lo0:+.2f}, {hi0:+.2f}]")
    part = f"equivalence-M{M}"
    d_shadow = all_bn[1, i] - all_gd[1, i] if C > 1 else None
    verdict.check(f"M={M}: test acc BN - PN+gamma decay (validated lambda) (points), lower side", d, ">",
                  -tolerance_points, kind="claim", part=part, aggregate="mean", confidence=0.9, shadow=d_shadow)
    verdict.check(f"M={M}: test acc BN - PN+gamma decay (validated lambda) (points), upper side", d, "<",
                  tolerance_points, kind="claim", part=part, aggregate="mean", confidence=0.9, shadow=d_shadow)
    verdict.check(f"M={M}: test acc BN - PN(lambda=0) (points): BN detectably better than plain PN", d0, ">", 0,
                  kind="control", part=part, aggregate="mean", confidence=0.9,
                  shadow=all_bn[1, i] - all_pn0[1, i] if C > 1 else None)
    verdict.check(f"M={M}: validated lambda below the top of the grid", selected[i], "<", max(lambdas), kind="control",
                  part=part, shadow=all_selected[1, i] if C > 1 else None)
    if M != gap_train_batch_size:
        verdict.check(f"M={M}: test accuracy BN CNN - logistic regression on the same images (points)",
                      above_linear[0, i], ">", 0.0, kind="control", part=part, aggregate="mean",
                      shadow=above_linear[1, i] if C > 1 else None)
    verdict.measure(f"M={M}: mean test accuracy BN (%)", acc_bn[i].mean())
    verdict.measure(f"M={M}: mean test accuracy PN+GD (%)", acc_gd[i].mean())
    verdict.measure(f"M={M}: mean test accuracy PN lambda=0 (%)", acc_pn0[i].mean())

# %% [markdown]
# ## Part `gamma-ratio`: BN's learned $\gamma$ shrinks more at the smaller batch
#
# **Signature.** Under BN the implicit penalty $\zeta\gamma^2$ has $\zeta\propto1/M$, so at the smaller batch BN's
# learned $\gamma$ should be smaller; a PN network has no such penalty. We read $\overline{\gamma^2}$ (mean over channels)
# of the **last** norm layer (the first layer's $\gamma$ scale is removed by the next normalization) and divide by the
# paired PN($\lambda=0$) network (same seed, batches and steps): $r(M)=\overline{\gamma^2}_{BN}/\overline{\gamma^2}_{PN}$.
# **Check**: the mean over seeds of $\log r(M_{\max})-\log r(M_{\min})$ above 0, 95 % t interval. It fails if BN's
# $\gamma$ is, relative to PN's, not smaller at the small batch (version 1's Spearman over three batch sizes went
# against it, −0.5). Version 1's Spearman of the seed means over batch sizes is not repeated: with two batch sizes it
# is ±1, and over three it had a null probability of 1/6; the seed-mean ratios are recorded as measurements.

# %%
all_ratio = gamma2[:, :, 1, 0] / gamma2[:, :, 1, i_pn0]  # (copy, M, seed), last norm layer
g_last, ratio = gamma2[0, :, 1], all_ratio[0]  # (M, variant, seed), (M, seed)
for i, M in enumerate(batch_sizes):
    print(f"M={M}: mean gamma^2 (last layer) BN {g_last[i, 0].mean():.4f}, PN(0) {g_last[i, i_pn0].mean():.4f}, "
          f"ratio {ratio[i].mean():.4f}; first layer BN {gamma2[0, i, 0, 0].mean():.4f}, PN(0) {gamma2[0, i, 0, i_pn0].mean():.4f}")
    verdict.measure(f"M={M}: mean gamma^2 BN (last norm layer)", g_last[i, 0].mean())
    verdict.measure(f"M={M}: mean gamma^2 PN lambda=0 (last norm layer)", g_last[i, i_pn0].mean())
    verdict.measure(f"M={M}: seed-mean ratio gamma^2 BN / PN(lambda=0) (last norm layer)", ratio[i].mean())
verdict.check(f"log r(M={batch_sizes[-1]}) - log r(M={batch_sizes[0]}), r = gamma^2 BN / PN(lambda=0), last layer",
              np.log(ratio[-1]) - np.log(ratio[0]), ">", 0.0, kind="claim", part="gamma-ratio", aggregate="mean",
              shadow=np.log(all_ratio[1, -1]) - np.log(all_ratio[1, 0]) if C > 1 else None)

# %% [markdown]
# ## Figures
#
# Left: $\Delta(M)$ against $M$ (log-log), each seed and the mean, with a slope −1 guide through the mean at $M=32$.
# Middle: test accuracy per variant and training batch size (seed mean and each seed), with the linear model.
# Right: the last norm layer's $\overline{\gamma^2}$ for BN and PN($\lambda=0$) per training batch size.

# %%
colours = sns.color_palette(n_colors=V + 1)
fig, (ax_d, ax, ax_g) = plt.subplots(1, 3, figsize=(16, 4.3))
for s in range(S):
    ax_d.plot(Mg, np.abs(delta[s]), "-", color="grey", alpha=0.35, lw=0.8)
mean_delta = delta.mean(axis=0)
ax_d.plot(Mg, np.abs(mean_delta), "o-", color=colours[0], lw=2, label=r"$|\Delta(M)|$, seed mean")
k32 = int(np.argmin(np.abs(Mg - 32)))
ax_d.plot(Mg, np.abs(mean_delta[k32]) * Mg[k32] / Mg, "k--", lw=1, label="slope -1")
ax_d.set(xscale="log", yscale="log", xlabel="mini-batch size M", ylabel=r"$E[L_{BN}] - L_{PN}$",
         title=f"BN's regularizer at the weights trained at M={gap_train_batch_size}")
ax_d.legend(fontsize=8)
Mt = np.array(batch_sizes, dtype=float)
series = [("BN", acc_bn, colours[0])] + [(f"PN, lambda={lam:g}", acc["test"][0, :, 1 + j], colours[1 + j]) for j, lam in enumerate(lambdas)]
for k, (label, a, colour) in enumerate(series):
    offsets = Mt * 2.0 ** ((k - (len(series) - 1) / 2) * 0.06)
    ax.plot(offsets, a.mean(axis=1), "o-", color=colour, label=label, lw=2 if k == 0 else 1)
    for i in range(len(batch_sizes)):
        ax.scatter(np.full(S, offsets[i]), a[i], s=8, color=colour, alpha=0.4)
ax.axhline(linear_acc, color="k", ls=":", lw=1, label="logistic regression")
ax.set_xscale("log", base=2)
ax.set_xticks(batch_sizes, [str(M) for M in batch_sizes])
ax.set(xlabel="training batch size M", ylabel="test accuracy (%)", title=f"{ds.used}: small CNN, {S} seeds, {steps} steps")
ax.legend(fontsize=7)
for v, label, colour in ((0, "BN", colours[0]), (i_pn0, "PN(lambda=0)", colours[1])):
    ax_g.plot(Mt, g_last[:, v].mean(axis=1), "o-", color=colour, label=label)
    for i in range(len(batch_sizes)):
        ax_g.scatter(np.full(S, Mt[i]), g_last[i, v], s=8, color=colour, alpha=0.4)
ax_g.set_xscale("log", base=2)
ax_g.set_xticks(batch_sizes, [str(M) for M in batch_sizes])
ax_g.set(xlabel="training batch size M", ylabel=r"mean $\gamma^2$, last norm layer", title="learned gamma")
ax_g.legend(fontsize=8)
verdict.figure(fig, "regularizer-accuracy-gamma-vs-batch-size")
plt.show()

# %% [markdown]
# ## Deviations from the paper

# %%
verdict.deviation(
    "Source: only the abstract, the start of section 1 and Eq. (1) of the paper were readable; the paper's "
    "CNN set-up (recollected as ResNet-18 on CIFAR-10, unverified) and numbers are unknown. This is our small-scale "
    "reconstruction, checking the abstract-level claim through the derived BN = PN + zeta*gamma^2 (zeta ~ 1/M) "
    "formulation (docs/papers/luo2019.md), not the paper's theorems or numbers."
)
verdict.deviation(
    "Changed after the issue-14 paper-scale result was seen, for the runtime budget only (issue 17): the job takes "
    f"two threads instead of one (the registry's `threads`; here {threads}). On CIFAR-10-sized images (3 x 16 x 16 "
    "after pooling) the one-thread run took 311 CPU s against a 5-minute budget; two threads cut the grouped "
    "convolutions' wall time by about 1.6x. Float32 results depend on the thread count (the order of the sums), so "
    "the numbers differ from the one-thread run at rounding level; checks, thresholds, seeds and steps are unchanged."
)
if ds.substituted:
    verdict.deviation(f"CIFAR-10 was not available: {ds.used} was used instead ({ds.reason}).")
verdict.deviation(
    f"Scale: a 2-conv-layer CNN (widths {conv_width}) on {len(data.y_train)} training images average-pooled by "
    f"{pool_factor}, {steps} SGD steps at every training batch size {batch_sizes}, one learning rate {lr}, momentum "
    f"{momentum}; float32. All our choices: the paper's hyperparameters are unknown."
)
verdict.deviation(
    "Version 2 of this notebook (after an audit of version 1, whose result had been seen): a linear-baseline regime "
    "check replaces the 75% competence bar; equal step counts replace equal epochs; the regularizer is measured "
    "directly (paired Monte Carlo of E[L_BN] - L_PN); the lambda grid reaches 0.1 with an interior check; training batch "
    "sizes 8 and 32 (not 8, 32, 128: equal steps at 128 cost four times the CPU budget); version 1's checks are kept "
    "as parts (equivalence, gamma-ratio) decided on per-seed paired intervals."
)
verdict.deviation(
    f"PN uses the statistics of a fixed set of {len(x_stats)} training images, recomputed without gradient every "
    f"{refresh_samples} training samples (every max(1, {refresh_samples}/M) steps: "
    + ", ".join(f"{max(1, refresh_samples // M)} at M={M}" for M in batch_sizes)
    + "), not before every step, to fit the CPU budget; at inference and in the regularizer's PN arm every variant "
    "uses the statistics of the whole training subset."
)
verdict.deviation(
    "Gamma decay lambda*sum(gamma^2) covers both norm layers; lambda is chosen per batch size on a validation split "
    f"from {lambdas} (selected: {dict(zip(batch_sizes, selected))})."
)
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
