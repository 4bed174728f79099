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
# # luo2019/learning-rate: BN trains at a larger maximum learning rate, and the growing weight norm lowers the effective one
#
# > "Second, learning dynamics of BN and the regularization show that training converged with large maximum and
# > effective learning rate."
# > (Luo, Wang, Shao & Peng, ICLR 2019, abstract)
#
# **Source availability.** Only the abstract, the start of §1 and Eq. (1) of the paper could be read; its body
# (the ODE / teacher-student analysis, the formulas for $\eta_{\max}$ and $\eta_{\rm eff}$, its experiments) could
# not. This notebook therefore checks the *abstract-level* claim through a formulation derived for this project
# (spec `luo2019.md`, claim D3), **not** the paper's theorems or numbers: the direction and order of magnitude only.
#
# **Mechanism that can be checked without the paper** (spec D.2): a unit whose output is invariant to rescaling its
# incoming weights $W_k$ (BN, and weight normalization, WN) has $\langle W_k,\nabla_{W_k}L\rangle=0$ and
# $\|\nabla_{W_k}L\|\propto1/\|W_k\|$. SGD then only grows $\|W_k\|$ ($\|W_k\|^2$ gains $\eta^2\|\nabla\|^2$ per step),
# and the effective learning rate of the direction, $\eta/\|W_k\|^2$, falls by itself.
#
# **What we run** (spec D3). Digits (pixels/16, the loader's fixed train/test split), MLP 64-128-128-10 with ReLU,
# plain SGD, batch 64, 10 epochs, learning rates $\eta\in\{0.01,\dots,30\}$, three variants on the shared switchable
# network (`bnrepro.nets`): *plain* (no normalization, with bias), *WN* (weight normalization with learnable gain
# and bias), *BN* (learnable $\gamma,\beta$; tested with the training set's population statistics). Every
# (variant, $\eta$, seed) is one model of one batched network. Then the same on an image task through the data
# policy (CIFAR-10, or its fallback), flattened, a class-balanced subset, MLP $d$-128-128-10.
#
# $\eta_{\max}$ = the largest grid $\eta$ whose final training loss is finite and $<0.5\times$ its initial value
# and whose test accuracy exceeds a bar (0.8 on digits, the spec's; argued below for the image task).
#
# **Checks** (verdict version 2; spec D3's thresholds, unchanged from version 1), one part per data set (`digits`,
# `image`):
# 1. *claim*: $\eta_{\max}$(BN) $\ge3\times$ that of WN and $\ge3\times$ that of plain, as the median over seeds of
#    the paired per-seed ratios (BCa bootstrap interval; version 1 took the ratio of the two medians);
# 2. *sanity*: BN at $\eta_{\max}$: $\|W_1\|_{\rm final}/\|W_1\|_{\rm init}\ge1.1$ on every seed (norm growth: lower
#    $\eta/\|w\|^2$), while at $\eta=0.01$ the ratio is $\le1.01$ on every seed. Version 1 counted these as evidence;
#    the growth is what scale invariance implies ($\|W_k\|^2$ gains $\eta^2\|\nabla\|^2$ per step), so they check the
#    implementation, not the paper;
# 3. *sanity*: the scale-invariance identity holds at the trained BN (and WN) parameters (version 1: evidence).
#
# Calibration only, not a result of this repository: the spec's independent pilots [P] found on digits
# $\eta_{\max}$ = 0.3 (plain; 0.3/1/0.3 across seeds), 1.0 (WN; NaN at 3), 3.0 (BN; fails at 10), and for BN
# $\|W_1\|$ 16.0 → 20.1 at $\eta=3$ against 16.1 at $\eta\le0.3$.

# %% tags=["parameters"]
claim_id = "luo2019/learning-rate"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3, 4]
threads = 1
lr_grid = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0]
epochs = 10
batch_size = 64
width = 128
loss_drop = 0.5
digits_acc_bar = 0.8
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
        "through our derived formulation (spec D3): a BN MLP trains at a maximum learning rate at least 3x that "
        "of weight normalization and of a plain network, on digits and on an image task, and SGD grows BN's "
        "weight norm (scale invariance: <w, grad> = 0), lowering the effective learning rate eta/||w||^2."
    ),
    source="Abstract ('training converged with large maximum and effective learning rate')",
    evidence="abstract",
    stand_ins=[
        "model: MLP d-128-128-10, ReLU, plain SGD, batch 64, 10 epochs, plain / WN / BN variants (spec D3, ours)",
        "data: digits (fixed loader split) and a class-balanced image subset, flattened (spec D3, ours)",
        "eta_max: the largest grid learning rate whose final training loss is finite and < 0.5 x initial and whose test "
        "accuracy clears a bar (spec D3; the image task's bar derived from a ridge classifier, ours)",
        "effective learning rate: eta / ||w||^2 of the first layer's rows (ours; the paper's formula was not read)",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
VARIANTS = {"plain": ("none", "fixed"), "WN": ("weight", "learnable"), "BN": ("batch", "learnable")}
S, L = len(seeds), len(lr_grid)
print(f"lr grid={lr_grid}, epochs={epochs}, batch={batch_size}, width={width}; "
      f"training in torch {train_dtype} on {verdict.device}; identity checks in float64")

# %% [markdown]
# ## Data
#
# Digits exactly as the spec asks. The image task goes through the data policy: CIFAR-10 when it can be had,
# otherwise Fashion-MNIST (then digits), flagged in the verdict. A class-balanced subset keeps the paper-scale run
# inside its budget.

# %%
digits = real.load("digits")
ds = real.load("cifar10", strict=strict_data)
verdict.use_dataset(ds)  # a substitution of the image task is a stand-in
verdict.dataset = {**verdict.dataset, "requested": f"digits + {ds.requested}", "used": f"digits + {ds.used}"}
print(verdict.dataset)
image = image_subset(ds, image_train_per_class, image_test_per_class, data_seed)
if image.note:
    verdict.deviation(image.note)
data = {
    "digits": (flatten(digits.x_train), digits.y_train, flatten(digits.x_test), digits.y_test),
    ds.used: (image.x_train, image.y_train, image.x_test, image.y_test),
}
for name, (xtr, _, xte, _) in data.items():
    print(f"{name}: train {xtr.shape}, test {xte.shape}, pixels in [{xtr.min():.2f}, {xtr.max():.2f}]")

# %% [markdown]
# ## The accuracy bar of the image task, argued before running
#
# On digits the spec's bar is 0.8: a working MLP reaches ~0.95, a diverged or barely trained one far less. The same
# fixed number would be unreachable for an MLP on CIFAR-10 (a few thousand images, 10 epochs: ~0.35-0.45) and
# marginal on Fashion-MNIST, which would make $\eta_{\max}$ undefined for reasons unrelated to the learning rate.
# We therefore derive the bar from the data: chance $+\,0.8\times$(reference $-$ chance), the reference being
# a closed-form ridge classifier on the same pixels (deterministic, no learning rate): a model counts as trained if it
# closes 80% of the gap from chance to a linear baseline. The digits checks keep the spec's 0.8. As calibration, the
# rule is also applied to digits and printed: it comes out below the spec's 0.8 (the ridge baseline is weaker on
# digits than a trained MLP), so the image bar is, if anything, the more lenient of the two; it was fixed before the
# first run and has not been tuned since.

# %%
chance = 1 / 10
reference = {name: float((RidgeClassifier(alpha=1.0).fit(xtr, ytr).predict(xte) == yte).mean())
             for name, (xtr, ytr, xte, yte) in data.items()}
bars = {"digits": digits_acc_bar, ds.used: chance + image_acc_fraction * (reference[ds.used] - chance)}
rule_on_digits = chance + image_acc_fraction * (reference["digits"] - chance)
for name in data:
    verdict.measure(f"{name}: ridge reference test accuracy", reference[name])
verdict.measure(f"{ds.used}: test-accuracy bar used for eta_max", bars[ds.used])
verdict.measure("digits: the image-task bar rule applied to digits (calibration against the spec's 0.8)", rule_on_digits)
print(f"ridge reference accuracy: {reference}")
print(f"accuracy bars: {bars}; the rule applied to digits would give {rule_on_digits:.3f}")

# %% [markdown]
# ## Train every (variant, learning rate, seed) at once
#
# One `SwitchableMLP` per variant and data set holds $L\times S$ models (learning-rate major), each with its own
# learning rate (`luo2019.mlp.train_lr_grid`); model (i, s) starts from seed s's initialization and sees seed s's
# mini-batch order, so the learning rates are compared on identical starts. After every epoch we record $\|W_1\|$
# row by row; the training loss (BN: with the training set's population statistics, which is the full-batch loss)
# before and after; the test accuracy at the end.

# %%
results = {}
for name, arrays in data.items():
    for variant, (mode, affine) in VARIANTS.items():
        t0 = time.perf_counter()
        results[name, variant] = mlp.train_lr_grid(*arrays, mode, affine, seeds=seeds, lr_grid=lr_grid, width=width,
                                                   epochs=epochs, batch_size=batch_size, dtype=train_dtype)
        verdict.timing(f"train {name} {variant}", time.perf_counter() - t0)
        r = results[name, variant]
        print(f"{name:>13} {variant:>5} trained (wall time in the run record); median test acc per lr "
              + " ".join(f"{a:.2f}" for a in np.median(r["acc"], axis=1)))

# %% [markdown]
# ## $\eta_{\max}$ per seed
#
# A model passes at $\eta$ if its final training loss is finite and below `loss_drop` × its initial value and its
# test accuracy exceeds the bar. $\eta_{\max}$ is the largest passing grid value (0 if none passes).

# %%
lr_arr = np.array(lr_grid)
eta_max, passes = {}, {}
for (name, variant), r in results.items():
    ok = np.isfinite(r["loss"]) & (r["loss"] < loss_drop * r["loss0"]) & (r["acc"] > bars[name])
    passes[name, variant] = ok
    eta_max[name, variant] = np.array([lr_arr[ok[:, s]].max() if ok[:, s].any() else 0.0 for s in range(S)])
    print(f"{name:>13} {variant:>5}: eta_max per seed {eta_max[name, variant].tolist()}, "
          f"median {np.median(eta_max[name, variant])}")
    verdict.measure(f"{name}: median over seeds of eta_max({variant})", np.median(eta_max[name, variant]))

# %% [markdown]
# ## Claim: BN's maximum learning rate is at least 3× WN's and plain's
#
# Factor 3 is the spec's: one step of the grid (which grows by $\times3$ or $\times3.33$), i.e. BN survives at least one
# grid step beyond the others. A median over the seeds is the spec's aggregate; version 2 takes it over the paired
# per-seed ratios $\eta_{\max}(\text{BN})/\eta_{\max}(\text{other})$ (same initialization and mini-batches), with a BCa
# bootstrap interval, and reports version 1's ratio of the medians. The ratio is rounded to 6 significant digits
# because the grid's decimals are not exact in binary (0.3/0.1 = 2.9999999999999996 would fail one step). A ratio
# that sits exactly at 3 (one grid step) passes only if the lower end of its interval is 3, e.g. when every seed
# gives exactly 3: on a ×3 grid the threshold is the smallest observable advantage, and we report it rather than
# move it. A seed where the other
# variant trains at no grid value has no finite ratio, which leaves the check undecided.

# %%
part = {ds.used: "image", "digits": "digits"}  # if the image task falls back to digits, the two share one entry
for name in data:
    bn = eta_max[name, "BN"]
    for other in ("WN", "plain"):
        ref = eta_max[name, other]
        per_seed = np.array([float(f"{b / r:.6g}") if r > 0 else (np.inf if b > 0 else np.nan) for b, r in zip(bn, ref)])
        print(f"{name}: per-seed eta_max(BN) / eta_max({other}): {per_seed.tolist()}")
        verdict.check(f"{name}: median over seeds of eta_max(BN) / eta_max({other})", per_seed, ">=", 3.0,
                      kind="claim", part=part[name], aggregate="median")
        med_ref = np.median(ref)
        verdict.measure(f"{name}: median eta_max(BN) / median eta_max({other}) (version 1's statistic)",
                        float(f"{np.median(bn) / med_ref:.6g}") if med_ref > 0 else (np.inf if np.median(bn) > 0 else np.nan))

# %% [markdown]
# ## Sanity: BN's weight norm grows at large $\eta$, not at small $\eta$
#
# $\|W_1\|$ is the Frobenius norm of the first layer (64 → 128 on digits). We take BN at $\eta^*$, the grid value of
# the median $\eta_{\max}$(BN), and require growth by at least 10% on *every* seed (spec: $\ge1.1$; the worst case
# over the per-seed ratios); at $\eta=0.01$ the norm may grow by at most 1% on every seed ($\|W\|^2$ gains only
# $\eta^2\|\nabla\|^2$ per step). A seed that diverged at $\eta^*$ has a NaN ratio, which leaves the check
# undecided, a failure for a sanity check. Version 1 counted both as evidence for the claim; the growth is the
# consequence of scale invariance (the identity below), so they are sanity checks of the training code. The
# direction of the change is the identity; the spec's 1.1 and 1.01 bars are kept as they were.

# %%
eta_star = {}
for name in data:
    r = results[name, "BN"]
    norms = np.sqrt((r["rows"] ** 2).sum(axis=-1))  # Frobenius norm of W1, (epochs + 1, L, S)
    median_eta = np.median(eta_max[name, "BN"])
    i_star = int(np.flatnonzero(lr_arr <= median_eta).max()) if median_eta >= lr_arr[0] else 0
    eta_star[name] = i_star
    i_small = int(np.argmin(np.abs(lr_arr - 0.01)))
    growth_star = norms[-1, i_star] / norms[0, i_star]
    growth_small = norms[-1, i_small] / norms[0, i_small]
    print(f"{name}: ||W1|| init {np.median(norms[0, i_star]):.2f}; final at eta={lr_arr[i_star]}: "
          f"{np.array2string(norms[-1, i_star], precision=2)}, at eta={lr_arr[i_small]}: "
          f"{np.array2string(norms[-1, i_small], precision=3)}")
    verdict.check(f"{name}: min over seeds of ||W1||_final/||W1||_init, BN at eta*={lr_arr[i_star]:g}",
                  growth_star, ">=", 1.1, kind="sanity", aggregate="min")
    verdict.check(f"{name}: max over seeds of ||W1||_final/||W1||_init, BN at eta={lr_arr[i_small]:g}",
                  growth_small, "<=", 1.01, kind="sanity", aggregate="max")

# %% [markdown]
# ## Sanity: the scale-invariance identity at the trained parameters
#
# At the final parameters of every finite BN model (digits, all learning rates and seeds; training ran in
# `train_dtype`, the check runs in float64 on a float64 copy), on one mini-batch of 64 rows in batch mode: $\max_k|\langle W_k,\nabla_{W_k}L\rangle|/(\|W_k\|\|\nabla_{W_k}L\|)$ over both hidden layers.
# In exact arithmetic it is 0; float64 rounding of the sums (64-128 terms, values ~1) leaves ~$10^{-15}$, so
# $10^{-8}$ leaves ample margin while any real violation (plain units: order $10^{-1}$) fails by far. WN is
# scale-invariant too (same bound); the plain network is shown for contrast, measured only. Version 1 counted the
# identity as evidence; it holds by construction of the normalization, so it is a sanity check.

# %%
xtr, ytr, _, _ = data["digits"]
batch_rows = slice(0, batch_size)
alignment = {}
for variant, (mode, _) in VARIANTS.items():
    net = copy.deepcopy(results["digits", variant]["net"]).double()  # the identity is checked in float64
    finite = torch.stack([torch.isfinite(p).flatten(1).all(dim=1) for p in net.parameters()]).all(dim=0)
    per_layer = nets.weight_gradient_alignment(net, xtr[batch_rows], ytr[batch_rows], mode)
    values = torch.cat([a[finite].flatten() for a in per_layer]).numpy()
    alignment[variant] = values
    print(f"{variant:>5}: {int(finite.sum())}/{net.models} finite models; relative |<W_k, grad_k>|: "
          f"max {values.max():.2e}, median {np.median(values):.2e}")
verdict.check("digits: max over finite BN models and hidden units of |<W_k, dL/dW_k>|/(||W_k|| ||dL/dW_k||)",
              alignment["BN"].max(), "<=", 1e-8, kind="sanity")
verdict.check("digits: max over finite WN models and hidden units of |<W_k, dL/dW_k>|/(||W_k|| ||dL/dW_k||)",
              alignment["WN"].max(), "<=", 1e-8, kind="sanity")
verdict.measure("digits: median over plain models and units of |<W_k, dL/dW_k>|/(||W_k|| ||dL/dW_k||) (contrast)",
                np.median(alignment["plain"]))

# %% [markdown]
# ## The effective learning rate
#
# $\eta_{\rm eff}=\eta/\|W_{1,k}\|^2$, averaged over the 128 first-layer units (median over seeds), for BN. Measured,
# not checked: the paper's own formula for $\eta_{\rm eff}$ could not be read (it may carry a factor $\gamma$).

# %%
for name in data:
    rows = results[name, "BN"]["rows"]  # (epochs + 1, L, S, width)
    eff = np.median((lr_arr[None, :, None, None] / rows ** 2).mean(axis=-1), axis=-1)  # (epochs + 1, L)
    i = eta_star[name]
    verdict.measure(f"{name}: BN eta_eff at eta*={lr_arr[i]:g}, initial", eff[0, i])
    verdict.measure(f"{name}: BN eta_eff at eta*={lr_arr[i]:g}, final", eff[-1, i])
    print(f"{name}: BN at eta*={lr_arr[i]:g}: eta_eff {eff[0, i]:.4g} -> {eff[-1, i]:.4g} "
          f"({eff[-1, i] / eff[0, i]:.3f}x)")

# %% [markdown]
# ## Figure 1: which learning rates train, per variant
#
# Final/initial training loss (left; the dotted line is the 0.5 bar, diverged models are drawn at the top) and test
# accuracy (right; dotted: the bar), median over seeds with every seed as a faint dot, and each variant's median
# $\eta_{\max}$ as a vertical line.

# %%
palette = dict(zip(VARIANTS, sns.color_palette(n_colors=len(VARIANTS)), strict=True))
fig, axes = plt.subplots(len(data), 2, figsize=(12, 4.4 * len(data)), squeeze=False, layout="constrained")
cap = 10.0
for row, name in enumerate(data):
    ax_l, ax_a = axes[row]
    for k, variant in enumerate(VARIANTS):
        r, colour = results[name, variant], palette[variant]
        ratio = np.where(np.isfinite(r["loss"] / r["loss0"]), r["loss"] / r["loss0"], cap)
        ratio = np.minimum(ratio, cap)
        offset = lr_arr * 10 ** ((k - 1) * 0.03)  # fixed horizontal offset per variant, no jitter
        for values, ax in ((ratio, ax_l), (r["acc"], ax_a)):
            ax.plot(lr_arr, np.median(values, axis=1), "-o", color=colour, label=variant)
            ax.scatter(np.repeat(offset, S), values.ravel(), s=8, color=colour, alpha=0.35)
            ax.axvline(np.median(eta_max[name, variant]), color=colour, ls="--", lw=1)
    ax_l.axhline(loss_drop, color="0.3", ls=":", lw=1)
    ax_a.axhline(bars[name], color="0.3", ls=":", lw=1)
    ax_l.set(xscale="log", yscale="log", xlabel="learning rate", ylabel=f"final / initial training loss (capped at {cap:g})",
             title=f"{name}: training loss (dashed: median eta_max)")
    ax_a.set(xscale="log", xlabel="learning rate", ylabel="test accuracy", ylim=(0, 1),
             title=f"{name}: test accuracy (dotted: bar {bars[name]:.2f})")
    ax_l.legend()
verdict.figure(fig, "lr-sweep")
plt.show()

# %% [markdown]
# ## Figure 2: BN's weight norm and effective learning rate over training (digits)
#
# Left: $\|W_1\|_F$ per epoch at every learning rate that stays finite (median over seeds; log scale). Right:
# $\eta/\|W_{1,k}\|^2$ (mean over units, median over seeds) relative to its initial value: it falls where the norm
# grows. Beyond $\eta_{\max}$ BN typically does not overflow: one huge first step inflates $\|W_1\|$ by orders of
# magnitude, which cuts $\eta_{\rm eff}$ just as much, and training then stalls instead (its loss fails the 0.5 rule).

# %%
rows = results["digits", "BN"]["rows"]
norms = np.median(np.sqrt((rows ** 2).sum(axis=-1)), axis=-1)  # median Frobenius norm of W1, (epochs + 1, L)
eff = np.median((lr_arr[None, :, None, None] / rows ** 2).mean(axis=-1), axis=-1)
shades = sns.color_palette("viridis", n_colors=L)
fig, (ax_n, ax_e) = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained")
ep = np.arange(epochs + 1)
for i, lr in enumerate(lr_grid):
    if not np.isfinite(norms[:, i]).all():
        continue
    style = {"lw": 2.5} if i == eta_star["digits"] else {"lw": 1.2}
    ax_n.plot(ep, norms[:, i], color=shades[i], label=f"eta={lr:g}" + (" (eta*)" if i == eta_star["digits"] else ""), **style)
    ax_e.plot(ep, eff[:, i] / eff[0, i], color=shades[i], **style)
ax_n.set(xlabel="epoch", ylabel=r"$\|W_1\|_F$", yscale="log", title="digits, BN: first-layer weight norm")
ax_e.set(xlabel="epoch", yscale="log", ylabel=r"$\eta_{\rm eff}(t)/\eta_{\rm eff}(0)$, $\eta_{\rm eff}=\eta/\|W_{1,k}\|^2$",
         title="digits, BN: effective learning rate")
ax_n.legend(fontsize=8)
verdict.figure(fig, "bn-weight-norm")
plt.show()

# %% [markdown]
# ## Deviations

# %%
verdict.deviation(
    "Only the abstract, the start of Sec. 1 and Eq. (1) of the paper were readable; its body (theorems, the "
    "eta_max and eta_eff formulas, experiments) was not. This verdict checks the abstract-level claim through our "
    "derived formulation (spec D3: direction and order of magnitude of eta_max, norm growth), not the paper's "
    "theorems or numbers."
)
verdict.deviation(
    "Architectures, data, grid, epochs, the eta_max rule and the factor-3 / 1.1 / 1.01 thresholds are the spec's "
    "(D3), not the paper's; the paper's own experiments (recalled as ResNets on CIFAR-10/ImageNet) are not run."
)
verdict.deviation(
    "WN: gain g = 1 and bias 0 at the start (no data-dependent initialization as in Salimans & Kingma); all "
    "variants start from the same He-normal W per seed; the plain network's biases start at 0."
)
verdict.deviation(
    f"Image task: {ds.used}, flattened pixels in [0, 1], a class-balanced subset of {image_train_per_class} training "
    f"/ {image_test_per_class} test images per class (subset seed {data_seed}), sized for the budget; its accuracy "
    f"bar is chance + {image_acc_fraction} x (ridge-classifier accuracy - chance) = {bars[ds.used]:.3f}, argued from "
    "the data before running, instead of the spec's 0.8 (for digits only)."
)
verdict.deviation(
    "Digits uses the loader's fixed split (first 1437 images train, last 360 test, about 80/20), not the spec's "
    "70/30 split, so that every digits claim of the project shares one split."
)
verdict.deviation(
    f"Training runs in {train_dtype} (budget: the grid is {L * S} models per variant); the scale-invariance identity "
    "is checked in float64 on a float64 copy of the trained parameters."
)
if ds.substituted:
    verdict.deviation(f"Data substituted: requested {ds.requested}, used {ds.used} ({ds.reason}).")
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
