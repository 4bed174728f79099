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
# # luo2019/learning-rate: BN trains at a larger maximal learning rate, and at a larger effective one
#
# > "Second, learning dynamics of BN and the regularization show that training converged with large maximum and
# > effective learning rate."
# > (Luo, Wang, Shao & Peng, ICLR 2019, abstract)
#
# **Source availability.** Only the abstract, the start of §1 and Eq. (1) of the paper could be read; its body
# (the ODE / teacher-student analysis, its formulas for $\eta_{\max}$ and $\eta_{\rm eff}$, its experiments) could
# not (see `docs/papers/luo2019.md`). This notebook checks the *abstract-level* claim through a formulation of
# ours, not the paper's theorems or numbers.
#
# **Our formulation.** "Large" is read as a comparison with the networks the paper compares BN with: weight
# normalization (WN: like BN, invariant to rescaling a unit's incoming weights, but without batch noise) and a
# plain network. Two parts:
# - `maximum-lr`: BN's maximal stable learning rate $\eta_{\max}$ exceeds WN's and the plain network's;
# - `effective-lr`: at their own $\eta_{\max}$, BN's effective learning rate at the end of training exceeds WN's.
#   For a scale-invariant unit $k$, $\langle W_k,\nabla_{W_k}L\rangle=0$ and $\|\nabla_{W_k}L\|\propto1/\|W_k\|$, so a
#   step of size $\eta$ turns the direction of $W_k$ by $\eta/\|W_k\|^2$ times the gradient on the unit sphere:
#   $\eta_{\rm eff}=\eta/\|W_k\|^2$ (the paper's own formula could not be read; it may carry a factor $\gamma$).
#   Plain SGD only grows $\|W_k\|$ ($\|W_k\|^2$ gains $\eta^2\|\nabla\|^2$ per step), so a larger $\eta$ buys a
#   larger norm: whether BN's larger $\eta_{\max}$ survives as a larger $\eta_{\rm eff}$ is not implied by
#   the first part. For the plain network $\eta/\|W_k\|^2$ is not a rate of the direction (no scale invariance):
#   it is reported, not checked.
#
# **What we run.** Digits (pixels/16, the loader's fixed split), and Fashion-MNIST as the image task (a stand-in for
# the paper's CIFAR-10/ImageNet networks: an MLP on flattened pixels, a class-balanced subset). MLP $d$-128-128-10
# with ReLU, plain SGD, batch 64, 10 epochs, cross-entropy; three variants from one initialization per seed:
# *plain* (biases), *WN* (learnable gain and bias), *BN* (learnable $\gamma,\beta$; evaluated with the training
# set's statistics). A model *trains* at $\eta$ if its final training loss is finite and below half its initial
# value and its test accuracy clears a bar (0.8 on digits; chance $+\,0.8\times$(ridge classifier $-$ chance) on the
# image task, argued below).
#
# **The grid and its resolution.** Version 1 measured $\eta_{\max}$ on a $\times3$ grid, where BN's and WN's maxima on
# digits differed by exactly one step, the threshold: a margin of zero that the grid could not resolve. Here
# $\eta_{\max}$ is measured on the grid $3^{j/4}$ (steps of $3^{1/4}\approx1.32$) by a two-stage search
# (`luo2019.mlp.max_stable_lr`): every seed on the coarse grid $3^k$, $k=-3..3$, then the three quarter-steps between
# its coarse maximum and the next coarse value, which failed. This finds the largest passing fine-grid point when the
# passing learning rates form an interval (the coarse sweep's gaps are counted below). Every comparison is made in
# units of $\log_3$: the per-seed $\log_3\eta_{\max}(\text{BN})-\log_3\eta_{\max}(\text{other})$, a multiple of 1/4.
#
# **Why the threshold is 0 with a tolerance of one fine step.** A measured maximum is the true maximum rounded down
# to the grid, so the measured difference of two maxima is within one grid step (1/4 in $\log_3$) of the true one,
# whatever the number of seeds. When every seed gives the same grid difference the bootstrap interval of the median
# collapses to a point: that is no evidence of a margin finer than the grid. The check therefore widens the interval
# by the grid's resolution (`tolerance=1/4`): it passes only if the median difference, less one step, is above 0
# (BN's maximum is larger even if every measured maximum is off by a full step in BN's favour), fails only if the
# median plus one step is at or below 0, and is undecided in between. The threshold 0 is the abstract's comparison
# ("large": larger than without BN); version 1's factor 3 (one $\times3$ step) had no source in the paper, and the
# measured factor is reported.
#
# **Checks** (verdict version 2):
# 1. *claim*, part `maximum-lr`, per data set: median over seeds of $\log_3[\eta_{\max}(\text{BN})/\eta_{\max}(\text{WN})]
#    >0$ and the same against plain (BCa bootstrap interval, tolerance 1/4);
# 2. *claim*, part `effective-lr`, per data set: mean over seeds of $\log_3[\eta_{\rm eff}(\text{BN})/\eta_{\rm eff}
#    (\text{WN})]>0$, each at its own per-seed $\eta_{\max}$, $\eta_{\rm eff}$ averaged over the first layer's units at
#    the end of training (t interval); a continuous quantity, no grid tolerance;
# 3. *regime*, per data set and variant: on every seed some grid value trains and the coarse maximum is below the
#    top of the grid (otherwise $\eta_{\max}$ is undefined or censored and the comparison is not made);
# 4. *sanity*: the scale-invariance identity $\langle W_k,\nabla_{W_k}L\rangle=0$ at the trained BN and WN parameters,
#    and BN's first-layer norm never shrinks (both follow from scale invariance: version 1 counted them as evidence).
#
# **How the claim checks can fail.** Check 1 fails if WN or the plain network trains at a learning rate as large as
# BN's (the scale invariance that WN shares with BN could give both the same maximum); check 2 fails if BN's larger
# $\eta$ is spent on a proportionally larger norm growth. Neither is implied by the sanity checks.
#
# **Seeds.** 12 per data set. A pilot on seeds 5 000 000 - 5 000 009 (digits and the Fashion-MNIST subset) informed the
# count and the grid's range: per-seed BN/WN differences of 1 - 1.75 in $\log_3$ (BN/plain about 1.75 - 2.25), and
# $\eta_{\rm eff}$ ratios of about 2 with small spread; 12 seeds then decide every check with room, within the
# 3-minute budget.

# %% tags=["parameters"]
claim_id = "luo2019/learning-rate"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
threads = 1
coarse_exponents = [-3, -2, -1, 0, 1, 2, 3]
refine = 4
epochs = 10
batch_size = 64
width = 128
loss_drop = 0.5
digits_acc_bar = 0.8
image_dataset = "fashion-mnist"
image_train_per_class = 100
image_test_per_class = 100
image_acc_fraction = 0.8
data_seed = 0
train_dtype = "float32"
strict_data = False

# %%
import copy
import time

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch
from sklearn.linear_model import RidgeClassifier

from bnrepro import claims
from bnrepro import nets
from bnrepro.data import real
from bnrepro.data.subsets import flatten, image_subset
from bnrepro.luo2019 import mlp

verdict = claims.open(
    claim_id,
    statement=(
        "Abstract-level claim only (the paper's body, with its theorems and numbers, could not be read), checked "
        "through our formulation: an MLP with BN trains at a larger maximal learning rate than the same MLP with "
        "weight normalization (WN) or without normalization, and at their own maximal learning rates BN ends "
        "training with a larger effective learning rate eta/||w||^2 than WN, on digits and on an image task."
    ),
    source="Abstract ('training converged with large maximum and effective learning rate')",
    evidence="abstract",
    stand_ins=[
        "model: MLP d-128-128-10, ReLU, plain SGD, batch 64, 10 epochs, cross-entropy; plain / WN / BN variants from "
        "one initialization per seed (ours; the paper's networks were not read)",
        "data: digits (the loader's fixed split) and a class-balanced Fashion-MNIST subset, flattened, standing in "
        "for the paper's CIFAR-10 / ImageNet experiments (ours)",
        "eta_max: the largest learning rate on the grid 3^(j/4) whose final training loss is finite and < 0.5 x "
        "initial and whose test accuracy clears a bar (0.8 on digits; chance + 0.8 x (ridge - chance) on the image "
        "task), found by a two-stage search (ours)",
        "'large': larger than WN's and the plain network's (the abstract's comparison, our reading)",
        "effective learning rate: eta / ||W_1,k||^2 of the first layer's units at the end of training, averaged over "
        "units (ours; the paper's formula was not read)",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
VARIANTS = {"plain": "none", "WN": "weight", "BN": "batch"}
S = len(seeds)
print(f"coarse grid 3^k, k={coarse_exponents}, refined to 3^(j/{refine}); epochs={epochs}, batch={batch_size}, "
      f"width={width}; training in torch {train_dtype} on {verdict.device}; identity checks in float64")

# %% [markdown]
# ## Data
#
# Digits as loaded. The image task asks for Fashion-MNIST; where it cannot be had, the data policy falls back to
# digits, loudly, and the image task is then dropped (it would repeat digits), which the verdict's dataset field and
# a deviation say.

# %%
digits = real.load("digits")
ds = real.load(image_dataset, strict=strict_data)
verdict.use_dataset(ds)
verdict.dataset = {**verdict.dataset, "requested": f"digits + {ds.requested}", "used": f"digits + {ds.used}"}
print(verdict.dataset)
data = {"digits": (flatten(digits.x_train), digits.y_train, flatten(digits.x_test), digits.y_test)}
if ds.used != "digits":
    image = image_subset(ds, image_train_per_class, image_test_per_class, data_seed)
    if image.note:
        verdict.deviation(image.note)
    data[ds.used] = (image.x_train, image.y_train, image.x_test, image.y_test)
for name, (xtr, _, xte, _) in data.items():
    print(f"{name}: train {xtr.shape}, test {xte.shape}, pixels in [{xtr.min():.2f}, {xtr.max():.2f}]")

# %% [markdown]
# ## The accuracy bar of the image task, argued before running
#
# On digits the bar is 0.8: a working MLP reaches about 0.95, a diverged or barely trained one far less. A fixed
# number would not transfer to another data set, so the image task's bar is derived from the data: chance
# $+\,0.8\times$(reference $-$ chance), the reference being a closed-form ridge classifier on the same pixels
# (deterministic, no learning rate): a model counts as trained if it closes 80% of the gap from chance to a linear
# baseline. The rule applied to digits is printed as a calibration (it is below digits' 0.8).

# %%
chance = 1 / 10
reference = {name: float((RidgeClassifier(alpha=1.0).fit(xtr, ytr).predict(xte) == yte).mean())
             for name, (xtr, ytr, xte, yte) in data.items()}
bars = {name: digits_acc_bar if name == "digits" else chance + image_acc_fraction * (reference[name] - chance) for name in data}
for name in data:
    verdict.measure(f"{name}: ridge reference test accuracy", reference[name])
    verdict.measure(f"{name}: test-accuracy bar used for eta_max", bars[name])
verdict.measure("digits: the image-task bar rule applied to digits (calibration)",
                chance + image_acc_fraction * (reference["digits"] - chance))
print(f"ridge reference accuracy: {reference}; accuracy bars: {bars}")

# %% [markdown]
# ## The maximal stable learning rate of every (data set, variant, seed)
#
# One call per data set and variant (`luo2019.mlp.max_stable_lr`): the coarse sweep trains all seeds at every $3^k$
# as one batched network, the refinement the three quarter-steps above each seed's coarse maximum. Model (lr, seed)
# starts from seed's initialization and sees seed's mini-batch order, whatever the variant: the variants are compared
# on identical starts and batches.

# %%
stable = {}
for name, arrays in data.items():
    for variant, mode in VARIANTS.items():
        t0 = time.perf_counter()
        stable[name, variant] = mlp.max_stable_lr(*arrays, mode, seeds=seeds, coarse_exponents=coarse_exponents,
                                                  refine=refine, loss_drop=loss_drop, acc_bar=bars[name], width=width,
                                                  epochs=epochs, batch_size=batch_size, dtype=train_dtype)
        verdict.timing(f"search {name} {variant}", time.perf_counter() - t0)
        r = stable[name, variant]
        print(f"{name:>13} {variant:>5}: log3 eta_max per seed {(r.exponent / refine).tolist()}; "
              f"coarse pass counts per 3^k {r.coarse.sum(axis=1).tolist()}; censored {int(r.censored.sum())}, "
              f"gaps {int(r.gaps.sum())}")

# %% [markdown]
# ## Regime: $\eta_{\max}$ is defined and bracketed on every seed
#
# A seed where no grid value trains has no $\eta_{\max}$; one whose coarse maximum is the top of the grid ($3^3=27$)
# has a censored one (the true maximum may lie above). Either leaves the comparison unmade, so the precondition is
# checked on every (data set, variant, seed): worst case over seeds. The number of seeds whose passing set has a gap
# (a failing coarse value between two passing ones, where the two-stage search could miss a higher maximum) is
# reported.

# %%
for (name, variant), r in stable.items():
    bracketed = np.isfinite(r.exponent) & ~r.censored
    verdict.check(f"{name} {variant}: min over seeds of [some grid lr trains and the coarse maximum is below 3^"
                  f"{coarse_exponents[-1]}]", bracketed.astype(float), ">=", 1, kind="regime", aggregate="min")
    verdict.measure(f"{name} {variant}: seeds whose coarse passing set has a gap", int(r.gaps.sum()))
    verdict.measure(f"{name} {variant}: median over seeds of log3 eta_max", np.nanmedian(r.exponent / refine))

# %% [markdown]
# ## Claim, part `maximum-lr`: BN's $\eta_{\max}$ exceeds WN's and plain's
#
# Per seed, $\log_3\eta_{\max}(\text{BN})-\log_3\eta_{\max}(\text{other})$ (paired: same initialization and mini-batches),
# its median over seeds with a BCa bootstrap interval, against 0 with the tolerance of one fine step (argued above).
# A seed without a defined maximum gives NaN and leaves the check undecided (the regime check says why). The factor
# $3^{\rm median}$ is reported.

# %%
step = 1 / refine
for name in data:
    bn = stable[name, "BN"].exponent / refine
    for other in ("WN", "plain"):
        diff = bn - stable[name, other].exponent / refine
        print(f"{name}: per-seed log3 eta_max(BN)/eta_max({other}): {diff.tolist()}")
        verdict.check(f"{name}: median over seeds of log3[eta_max(BN) / eta_max({other})]", diff, ">", 0.0,
                      kind="claim", part="maximum-lr", aggregate="median", tolerance=step)
        verdict.measure(f"{name}: eta_max(BN) / eta_max({other}), 3^(median log3 ratio)", 3.0 ** np.median(diff))
        verdict.measure(f"{name}: fraction of seeds with eta_max(BN) >= 3 x eta_max({other}) (version 1's factor)",
                        np.mean(diff >= 1))

# %% [markdown]
# ## Claim, part `effective-lr`: at their maximal rates, BN ends with a larger effective learning rate than WN
#
# $\eta_{\rm eff}=\eta_{\max}/\|W_{1,k}\|^2$ averaged over the 128 first-layer units, at the end of training, each
# variant at its own per-seed $\eta_{\max}$. Per seed $\log_3[\eta_{\rm eff}(\text{BN})/\eta_{\rm eff}(\text{WN})]$,
# the mean over seeds with a t interval, against 0. The plain network's value is reported only: its first layer is
# not scale-invariant, so $\eta/\|W_k\|^2$ is not the rate at which its direction moves.

# %%
eff = {key: mlp.effective_lr(r) for key, r in stable.items()}  # (epochs + 1, S) each
for name in data:
    log_ratio = np.log(eff[name, "BN"][-1] / eff[name, "WN"][-1]) / np.log(3)
    print(f"{name}: final eta_eff BN {np.array2string(eff[name, 'BN'][-1], precision=3)}, "
          f"WN {np.array2string(eff[name, 'WN'][-1], precision=3)}")
    verdict.check(f"{name}: mean over seeds of log3[eta_eff(BN) / eta_eff(WN)] at the end of training, each at its "
                  "eta_max", log_ratio, ">", 0.0, kind="claim", part="effective-lr", aggregate="mean")
    for variant in VARIANTS:
        verdict.measure(f"{name}: median over seeds of final eta_max/||W_1,k||^2 ({variant} at its eta_max)",
                        np.median(eff[name, variant][-1]))
        verdict.measure(f"{name}: median over seeds of initial eta_max/||W_1,k||^2 ({variant} at its eta_max)",
                        np.median(eff[name, variant][0]))

# %% [markdown]
# ## Sanity: scale invariance
#
# (a) At the final parameters of every finite BN and WN model of the digits coarse sweep (trained in `train_dtype`,
# checked in float64 on a float64 copy), on one mini-batch of 64 rows:
# $\max_k|\langle W_k,\nabla_{W_k}L\rangle|/(\|W_k\|\|\nabla_{W_k}L\|)$ over both hidden layers. Exactly 0 in exact
# arithmetic; float64 rounding leaves about $10^{-15}$, so $10^{-8}$ is ample while a real violation (plain units: order
# $10^{-1}$, shown for contrast) fails by far. (b) BN's first-layer norm never shrinks under plain SGD
# ($\|W-\eta g\|^2=\|W\|^2+\eta^2\|g\|^2$ when $g\perp W$): the smallest ratio of consecutive epochs' norms over every
# model at $\eta_{\max}$, with a float32 rounding allowance of $10^{-5}$.

# %%
xtr, ytr, _, _ = data["digits"]
batch_rows = slice(0, batch_size)
alignment = {}
for variant, mode in VARIANTS.items():
    net = copy.deepcopy(stable["digits", variant].net).double()
    finite = torch.stack([torch.isfinite(p).flatten(1).all(dim=1) for p in net.parameters()]).all(dim=0)
    per_layer = nets.weight_gradient_alignment(net, xtr[batch_rows], ytr[batch_rows], mode)
    alignment[variant] = torch.cat([a[finite].flatten() for a in per_layer]).numpy()
    print(f"{variant:>5}: {int(finite.sum())}/{net.models} finite models; relative |<W_k, grad_k>| max "
          f"{alignment[variant].max():.2e}")
for variant in ("BN", "WN"):
    verdict.check(f"digits: max over finite {variant} models and hidden units of |<W_k, dL/dW_k>|/(||W_k|| ||dL/dW_k||)",
                  alignment[variant].max(), "<=", 1e-8, kind="sanity")
verdict.measure("digits: median over plain models and units of |<W_k, dL/dW_k>|/(||W_k|| ||dL/dW_k||) (contrast)",
                np.median(alignment["plain"]))
for name in data:
    norms = np.sqrt((stable[name, "BN"].rows ** 2).sum(axis=-1))  # (epochs + 1, S)
    verdict.check(f"{name}: min over seeds and epochs of ||W_1||(t+1)/||W_1||(t), BN at eta_max",
                  (norms[1:] / norms[:-1]).min(axis=0), ">=", 1 - 1e-5, kind="sanity", aggregate="min")
    verdict.measure(f"{name}: median over seeds of ||W_1||_final/||W_1||_init, BN at eta_max", np.median(norms[-1] / norms[0]))

# %% [markdown]
# ## Figure 1: maximal learning rates and effective learning rates per seed
#
# Left: $\log_3\eta_{\max}$ per seed and variant (jittered horizontally by seed, not by value), per data set.
# Right: $\eta_{\rm eff}(t)=\eta_{\max}/\|W_{1,k}(t)\|^2$ over the epochs, each variant at its own $\eta_{\max}$
# (median over seeds, every seed faint).

# %%
palette = dict(zip(VARIANTS, sns.color_palette(n_colors=len(VARIANTS)), strict=True))
fig, axes = plt.subplots(len(data), 2, figsize=(12, 4.2 * len(data)), squeeze=False, layout="constrained")
epoch_axis = np.arange(epochs + 1)
for row, name in enumerate(data):
    ax_m, ax_e = axes[row]
    for k, variant in enumerate(VARIANTS):
        r, colour = stable[name, variant], palette[variant]
        ax_m.scatter(k + np.linspace(-0.25, 0.25, S), r.exponent / refine, color=colour, s=18, label=variant)
        ax_m.hlines(np.nanmedian(r.exponent / refine), k - 0.3, k + 0.3, color=colour)
        ax_e.plot(epoch_axis, eff[name, variant], color=colour, alpha=0.15, lw=0.8)
        ax_e.plot(epoch_axis, np.median(eff[name, variant], axis=1), color=colour, lw=2.2, label=variant)
    ax_m.set(xticks=range(len(VARIANTS)), xticklabels=list(VARIANTS), ylabel=r"$\log_3\eta_{\max}$",
             title=f"{name}: maximal stable learning rate (grid step 1/{refine})")
    ax_e.set(xlabel="epoch", yscale="log", ylabel=r"$\eta_{\max}/\|W_{1,k}\|^2$ (mean over units)",
             title=f"{name}: effective learning rate at each variant's eta_max")
    ax_e.legend()
verdict.figure(fig, "max-and-effective-lr")
plt.show()

# %% [markdown]
# ## Figure 2: the coarse sweep
#
# Fraction of seeds that train at each coarse learning rate $3^k$, per variant and data set.

# %%
fig, axes = plt.subplots(1, len(data), figsize=(6 * len(data), 3.8), squeeze=False, layout="constrained")
for ax, name in zip(axes[0], data, strict=True):
    for variant in VARIANTS:
        r = stable[name, variant]
        ax.plot(r.coarse_exponents, r.coarse.mean(axis=1), "-o", color=palette[variant], label=variant)
    ax.set(xlabel=r"$\log_3\eta$", ylabel="fraction of seeds that train", ylim=(-0.05, 1.05), title=name)
    ax.legend()
verdict.figure(fig, "coarse-sweep")
plt.show()

# %% [markdown]
# ## Deviations

# %%
verdict.deviation(
    "Only the abstract, the start of Sec. 1 and Eq. (1) of the paper were readable; its body (theorems, the "
    "eta_max and eta_eff formulas, experiments) was not. This verdict checks the abstract-level claim through our "
    "formulation (eta_max of BN against WN and plain, and eta_eff at eta_max), not the paper's theorems or numbers."
)
verdict.deviation(
    "Networks, data, grid, epochs and the eta_max rule are ours, not the paper's; its own experiments (recalled as "
    "ResNets on CIFAR-10/ImageNet) are not run. The image task is Fashion-MNIST, flattened, "
    f"{image_train_per_class} training / {image_test_per_class} test images per class (subset seed {data_seed})."
)
verdict.deviation(
    "Version 1 (a x3 grid, a factor-3 threshold on the median ratio, 5 seeds) was redesigned after its result was "
    "seen (an audit found the digits ratio exactly at the threshold): finer grid, threshold 0 in log3 with the "
    "grid's resolution as tolerance, the effective learning rate compared across variants, 12 seeds; the "
    "norm-growth and identity checks became sanity checks."
)
verdict.deviation(
    "WN: gain 1 and bias 0 at the start (no data-dependent initialization as in Salimans & Kingma); all variants "
    "start from the same He-normal W per seed; the plain network's biases start at 0."
)
verdict.deviation(
    "Digits uses the loader's fixed split (first 1437 images train, last 360 test), shared by every digits claim."
)
verdict.deviation(
    f"Training runs in {train_dtype} (budget); the scale-invariance identity is checked in float64 on a float64 copy."
)
if ds.used == "digits":
    verdict.deviation(f"The image task could not be run: {ds.requested} was not available ({ds.reason}); only digits.")
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
