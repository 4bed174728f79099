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
# # ergen2022/gd-implicit-bias: GD on the BN network prioritizes the top singular directions
#
# > "Furthermore, we find that Gradient Descent provides an algorithmic bias effect on the standard non-convex
# > BN network, and we design an approach to explicitly encode this implicit regularization into the convex
# > objective." (Ergen, Sahiner, Ozturkler, Pauly, Mardani & Pilanci, ICLR 2022, "Demystifying batch normalization
# > in ReLU networks: equivalent convex optimization models and implicit regularization", **abstract**)
#
# **Source caveat.** The paper's body could not be obtained (`docs/papers/ergen2022.md`, "What of the paper could be
# read"). This notebook checks the abstract-level claim through the formulation *derived* in
# `docs/papers/ergen2022.md` (sections 1-3): its BN scaling, whitening and closed form are this repository's
# derivations, not the paper's theorems, and no number here is compared with a number of the paper. Third-party
# notes say GD "prioritizes high singular value directions of the training data".
#
# **The derived mechanism** (section 3). With $PX=U\Sigma V^\top$ the BN output of neuron $j$ depends on $w_j$
# only through the whitened direction $v_j=\Sigma V^\top w_j$, and a GD step moves $v$ by $-\eta\,\Sigma^2U^\top g$:
# whitened direction $i$ learns at a rate $\propto\sigma_i^2$, while the convex (whitened) program treats all
# directions alike. Equivalently, GD moves the centred pre-activations $H=PXW$ by $-\eta\,KG$ with the Gram matrix
# $K=U\Sigma^2U^\top$ (`bias.train_gram_gd` trains on $H$; the same iteration as GD on $W$).
#
# **The control** (new in this version). The same BN network, the same initial weights and the same GD (learning rate,
# steps) on **whitened inputs** $X_w=\bar x+c\,UV^\top$, $c^2=\|PX\|_F^2/r$ (the centred inputs keep their mean
# squared norm). $X_w$ has the same $U$, hence the same whitened matrix $U'$, the same functions on the training set,
# the same convex program and the same optimum $p^*$ (section 2); only the Gram matrix changes to $c^2UU^\top$, which
# moves every whitened direction at the same rate. So the control shares the function class, the objective and $p^*$
# and removes exactly the spectral bias of section 3. Test images go through the same affine whitening.
#
# **What we run.** Fashion-MNIST Pullover vs Coat (a named stand-in for the paper's CIFAR-10; the data policy falls
# back to digits, loudly, when Fashion-MNIST is not installed), $\pm1$ labels, $n$ training images, $\beta=10^{-2}$,
# width $m=100$, full-batch GD on PyTorch's parameters of `Linear -> BatchNorm1d -> ReLU -> Linear` (sum squared
# loss plus $\tfrac\beta2\sum_j(\gamma_j^2+\alpha_j^2+a_j^2)$, exactly `eg.objective`), per seed one training draw and
# one initialization shared by the raw run and the control; and the global optimum (closed form, $n\le d$).
#
# **Energy.** For a set of neurons, $E_i$ is the $|a_j\gamma_j|$-weighted mean over neurons of $v_{ij}^2/\|v_j\|^2$
# (`Whitening.direction_energy`, $v$ in the raw data's $U$ basis for both runs); $E(\text{top-}k)=\sum_{i\le k}E_i$
# (uniform spread: $k/r$). The *displacement* is $W_T-W_0$: what GD added.
#
# **Checks** (verdict version 2; pre-registered before the paper-scale run; paired over seeds, 95 % t intervals):
# - *claim, part `concentration`*: GD's displacement on raw inputs has more top-$k$ energy than the control's
#   displacement, by at least 0.1 in the mean paired difference;
# - *claim, part `rate`*, with its *control*: the movement of $v_i$ over the early phase grows with $\sigma_i$
#   (Spearman $\ge0.7$ on every seed) for raw inputs, and does *not* (Spearman $<0.7$ on every seed) for the control;
# - *claim, part `generalizes`*: GD on raw inputs has higher test accuracy than the control and than the global
#   optimum (mean paired differences $>0$);
# - *regime*: the centred training data have rank $n-1$ (the closed form's condition); both GD runs are stable;
# - *sanity*: the closed form's value equals its network's objective; the control's data have the same $U$ and equal
#   singular values; the objective recomputed from the recovered weights $W_T$ equals the last GD objective; GD's
#   objective stays above $p^*$ (v1 counted this as evidence; it holds for every network).
# - *measurements* (not checks): v1's ratio "GD's top-$k$ energy / the optimum's $\ge2$" with its ceiling
#   $1/E_{\rm opt}(\text{top-}k)$ (energies sum to 1, so the ratio could not reach 2: it was a defective check), and
#   v1's "top-$k$ energy $\ge5k/r$" for GD and for the random initialization (the initialization already passed it).
#
# **Seeds.** A pilot on seeds 5 000 000-5 000 003 (never the registry's or the replicate's) at this scale gave
# paired differences of about 0.6 (concentration, sd 0.04) and 0.13 (accuracy, raw minus control), control Spearman
# 0.07-0.27: 10 seeds decide every check with a wide margin. The pilot informed the seed count, not the thresholds.

# %% tags=["parameters"]
claim_id = "ergen2022/gd-implicit-bias"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
threads = 1
strict_data = False
n = 300
n_test_per_class = 1000
beta = 0.01
width = 100
lr = 5e-05
steps = 2000
early_steps = 50
k = 50

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from bnrepro import claims
from bnrepro.data import real, subsets
from bnrepro.ergen2022 import bias, tasks

verdict = claims.open(
    claim_id,
    statement=(
        "Abstract-level claim, checked through the derived formulation of docs/papers/ergen2022.md (the paper's body "
        "was not available): full-batch GD on the non-convex two-layer BN ReLU network prioritizes the top singular "
        "directions of the data (whitened direction i moves at a rate proportional to sigma_i^2): its displacement is "
        "more concentrated on the top directions than the same GD's on whitened inputs (same function class, objective "
        "and optimum, no spectral bias), and it generalizes better than that control and than the whitened global optimum."
    ),
    source="Abstract ('Gradient Descent provides an algorithmic bias effect'); docs/papers/ergen2022.md section 3, derived",
    evidence="abstract",
    stand_ins=[
        "formulation: BN scaling, whitening, closed-form optimum and the sigma_i^2 mechanism derived here, not the "
        "paper's theorems",
        "measure of the bias: |a gamma|-weighted top-k energy of GD's displacement in the whitened directions, and the "
        "per-direction movement (ours)",
        "control: the same network and GD on whitened inputs mean + c U V^T, c^2 = ||P X||_F^2 / r (ours)",
        f"network/budget: width {width}, full-batch GD at lr {lr} for {steps} steps on n = {n} images (ours)",
        "test-time BN: the training batch's statistics (ours)",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
ds = real.load("cifar10", strict=strict_data)  # a substitution prints a banner
verdict.use_dataset(ds)
pair = tasks.DEFAULT_PAIRS[ds.used]
(half,), n_test_per_class, shortfall = subsets.per_class_counts(ds, (n // 2,), n_test_per_class)
n, low_rank = tasks.closed_form_n(ds, pair, 2 * half)
for note in (shortfall, low_rank):
    if note:
        verdict.deviation(note)
print(f"dataset: {ds.used} (requested {ds.requested}{', SUBSTITUTED' if ds.substituted else ''}); pair {pair}")
print(f"n={n} ({n // 2} per class), test {n_test_per_class} per class, beta={beta}, width={width}, GD lr={lr}, "
      f"steps={steps}, early phase {early_steps} steps, k={k}; float64 torch")

# %% [markdown]
# ## Train by full-batch GD, raw and whitened inputs, and solve the global optimum, per seed
#
# **Learning rate** (kept from v1). The objective is a *sum* over the $n$ samples and the parameters are PyTorch's,
# so stable GD needs $\eta\lesssim10^{-4}$. v1's pilot on seed 0 at $n=300$ (only the objective trace was inspected):
# $\eta\ge3\cdot10^{-3}$ diverges, $10^{-3}$ spikes, $10^{-4}$ rises on a third of its first steps, $5\cdot10^{-5}$
# decreases steadily with rebounds below 1 %; we keep $5\cdot10^{-5}$ and check stability here on both runs (the
# control's largest Gram eigenvalue $c^2$ is below the raw data's $\sigma_1^2$). The number of steps is fixed by the
# time budget. All $2\times$seeds runs train together (one batched GD on the pre-activations).

# %%
start = time.perf_counter()
res = bias.gd_bias(ds, pair, seeds, n=n, n_test_per_class=n_test_per_class, beta=beta, width=width, lr=lr,
                   steps=steps, early_steps=early_steps, k=k, device=verdict.device)
verdict.timing("GD training (raw and control, all seeds) and evaluation", time.perf_counter() - start)
r = int(res.sigma.shape[1])
uniform = k / r
for name in ("raw", "control"):
    print(f"{name:8s} p_GD(0) -> p_GD(T):", np.array2string(res.objective[name][:, 0], precision=4), "->",
          np.array2string(res.objective[name][:, -1], precision=4))
print("p* per seed:", np.array2string(res.p_star, precision=4))

# %% [markdown]
# ## Sanity and regime
#
# *Sanity* (identities, never evidence): the closed-form value equals its network's objective through a real BN
# forward pass ($10^{-8}$); the control's data have exactly the raw data's $U$ ($\|U_wU_w^\top-UU^\top\|\le10^{-8}$)
# and equal singular values (spread $\le10^{-8}$), so they share $U'$ and $p^*$; the objective recomputed in numpy
# from the recovered weights $W_T=W_0-\eta(PX)^\top\sum_tG_t$ equals the last GD objective ($10^{-8}$): the
# pre-activation GD is GD on $W$; GD's final objective is above $p^*$ (a lower bound on every BN network's
# objective: v1 counted it as evidence that GD "does not reach" the optimum; the gap is almost all weight decay on
# PyTorch's default BN scales, see the measurement). *Regime*: rank $n-1$; no GD step raises the objective by more
# than 1 % (an unstable learning rate spikes by orders of magnitude), on both runs.

# %%
rise = {name: np.max(np.diff(o, axis=1) / o[:, :-1], axis=1) for name, o in res.objective.items()}
verdict.check("max over seeds of |p*_closed - objective(closed-form network)| / p*",
              np.abs(res.p_star - res.p_star_network) / res.p_star, "<=", 1e-8, kind="sanity", aggregate="max")
verdict.check("max over seeds of ||U_w U_w^T - U U^T|| (the control's inputs share U')", res.control_projector_error,
              "<=", 1e-8, kind="sanity", aggregate="max")
verdict.check("max over seeds of the control inputs' singular-value spread / c", res.control_sigma_spread, "<=", 1e-8,
              kind="sanity", aggregate="max")
for name in ("raw", "control"):
    final = res.objective[name][:, -1]
    verdict.check(f"max over seeds of |objective(W_T) - GD's last objective| / objective, {name} inputs",
                  np.abs(res.objective_from_weights[name] - final) / final, "<=", 1e-8, kind="sanity", aggregate="max")
    verdict.check(f"min over seeds of (p_GD(T) - p*) / p*, {name} inputs", (final - res.p_star) / res.p_star, ">", 0,
                  kind="sanity", aggregate="min")
    verdict.check(f"max over seeds and steps of the one-step relative rise of the GD objective, {name} inputs",
                  rise[name], "<=", 1e-2, kind="regime", aggregate="max")
    verdict.measure(f"mean over seeds of GD training accuracy, {name} inputs", res.train_accuracy[name].mean())
    verdict.measure(f"min over seeds of the weight-decay share of p_GD(T), {name} inputs",
                    np.min(res.weight_decay[name] / final))
verdict.check("min over seeds of rank(P X) - (n - 1)", res.rank - (n - 1), ">=", 0, kind="regime", aggregate="min")
print("GD training accuracy per seed, raw:    ", np.array2string(res.train_accuracy["raw"], precision=3))
print("GD training accuracy per seed, control:", np.array2string(res.train_accuracy["control"], precision=3))

# %% [markdown]
# GD on raw inputs classifies every training image (v1's text said it "does not fit the training set"; its own
# measurement, above, contradicts that): the finite-time regime is one where GD fits the labels but stays far from
# the optimum's *objective*, which is dominated by the weight decay of the BN scales.
#
# ## Claim, part `concentration`: GD's displacement stays in the top directions, the control's does not
#
# Per seed, the top-$k$ energy of GD's displacement on raw inputs minus that of the control's displacement. Threshold
# **0.1** in the mean (argued before the run, not from the pilot): a tenth of the displacement's mass moved into the
# top $k$ directions beyond what the objective's own gradient puts there (the control sees the same objective and
# labels) is a clear preference, far above float rounding and seed noise. How it could fail: where the labels load
# the top directions as strongly as the $\sigma_i^2$ factor does, the control's displacement is as concentrated
# (it then carries the label geometry only), and the difference is near 0.

# %%
excess = res.top_k["raw displacement"] - res.top_k["control displacement"]
for name, values in res.top_k.items():
    print(f"top-{k} energy, {name:21s} per seed: {np.array2string(values, precision=3)}")
print(f"uniform spread k/r = {uniform:.3f}")
verdict.check(f"mean over seeds of top-{k} energy of GD's displacement, raw minus whitened-input control (paired)",
              excess, ">=", 0.1, kind="claim", part="concentration", aggregate="mean")
for name, values in res.top_k.items():
    verdict.measure(f"mean over seeds of top-{k} energy, {name}", values.mean())
verdict.measure(f"uniform spread k/r (r = {r})", uniform)

# %% [markdown]
# **v1's checks, kept as measurements.** v1 asked (i) GD's top-$k$ energy $\ge5k/r$: the random initialization
# already meets it (a random $w$ gives $v$ with $E[v_i^2]\propto\sigma_i^2$); and (ii) GD's top-$k$ energy $\ge2\times$
# the optimum's: energies sum to 1, so the ratio is at most $1/E_{\rm opt}(\text{top-}k)$, below 2 whenever the
# optimum puts more than half its energy in the top $k$: that check could not pass. Both are reported with their
# reference values, not checked.

# %%
verdict.measure(f"min over seeds of GD-trained top-{k} energy / k/r (v1: >= 5)", np.min(res.top_k["raw trained"] / uniform))
verdict.measure(f"min over seeds of initialization top-{k} energy / k/r (v1's criterion met before training)",
                np.min(res.top_k["raw init"] / uniform))
verdict.measure(f"min over seeds of GD-trained / optimum's top-{k} energy (v1: >= 2)",
                np.min(res.top_k["raw trained"] / res.top_k["optimum"]))
verdict.measure(f"max over seeds of 1 / optimum's top-{k} energy (the ceiling of that ratio)",
                np.max(1 / res.top_k["optimum"]))

# %% [markdown]
# ## Claim, part `rate`, and its control: movement per direction against $\sigma_i$
#
# The RMS over neurons of the change of $v_i$ over the first `early_steps` steps. Raw inputs: Spearman
# $\rho(\sigma_i,\text{movement}_i)\ge0.7$ on every seed (0.7, the conventional "strong" monotone association; v1's
# threshold). *Control*: the same measurement on the whitened-input run, where every direction learns at the same
# rate, must stay **below** 0.7 on every seed; if it does not, the labels alone order the movement by $\sigma_i$ and
# the measurement cannot show GD's bias (the part is then inconclusive). The log-log slopes are reported: for raw
# inputs it is 2 plus the slope of the accumulated whitened gradient (the 2 is the chain rule), for the control it is
# that slope alone.

# %%
rho = {name: res.spearman(name) for name in ("raw", "control")}
slope = {name: res.slope(name) for name in ("raw", "control")}
for name in ("raw", "control"):
    print(f"{name:8s} Spearman per seed:", np.array2string(rho[name], precision=3), " log-log slope:",
          np.array2string(slope[name], precision=3))
verdict.check(f"min over seeds of Spearman(sigma_i, movement of v_i over the first {early_steps} steps), raw inputs",
              rho["raw"], ">=", 0.7, kind="claim", part="rate", aggregate="min")
verdict.check(f"max over seeds of Spearman(sigma_i, movement of v_i over the first {early_steps} steps), whitened-input "
              "control", rho["control"], "<", 0.7, kind="control", part="rate", aggregate="max")
for name in ("raw", "control"):
    verdict.measure(f"mean over seeds of the log-log slope of movement on sigma, {name} inputs", slope[name].mean())
    verdict.measure(f"min over seeds of Spearman(sigma_i, movement over all {steps} steps), {name} inputs",
                    res.spearman(name, early=False).min())

# %% [markdown]
# ## Claim, part `generalizes`: GD on raw inputs against the control and against the global optimum
#
# Test accuracy on `n_test_per_class` test images per class, BN with the training batch's statistics for every
# network. Both differences are paired by seed (same draw, same initialization) and decided on their 95 % t
# intervals against 0: the paper's "implicit regularization" is a claim that the bias *helps*. Either can fail: the
# control fits the same training set and may generalize as well, and the optimum is the exact minimizer of the same
# objective.

# %%
acc = res.test_accuracy
for name, values in acc.items():
    print(f"test accuracy {name:8s} per seed:", np.array2string(values, precision=4))
verdict.check("mean over seeds of test accuracy, GD raw minus GD whitened-input control (paired)",
              acc["raw"] - acc["control"], ">", 0, kind="claim", part="generalizes", aggregate="mean")
verdict.check("mean over seeds of test accuracy, GD raw minus global optimum (paired)", acc["raw"] - acc["optimum"], ">", 0,
              kind="claim", part="generalizes", aggregate="mean")
for name, values in acc.items():
    verdict.measure(f"mean over seeds of test accuracy, {name}", values.mean())

# %% [markdown]
# ## Figures: top-$k$ energy per seed, movement against $\sigma_i$, accuracy per seed

# %%
colours = sns.color_palette(n_colors=6)
x = np.arange(len(seeds))
fig, (ax_e, ax_m, ax_a) = plt.subplots(1, 3, figsize=(16, 4.3))
for i, name in enumerate(("raw displacement", "control displacement", "raw init", "control init", "optimum")):
    ax_e.plot(x, res.top_k[name], "o-", color=colours[i], label=name, ms=4)
ax_e.axhline(uniform, color="k", ls=":", label="uniform k/r")
ax_e.set(xticks=x, xticklabels=[str(s) for s in seeds], xlabel="seed", ylabel=f"top-{k} energy", ylim=(0, 1.02),
         title=f"{ds.used} {pair[0]} vs {pair[1]}, n={n}")
ax_e.legend(fontsize=7)
for name, colour in zip(("raw", "control"), colours, strict=False):
    for s in range(len(seeds)):
        ax_m.loglog(res.sigma[s], res.movement_early[name][s], ".", ms=2, color=colour, alpha=0.5,
                    label=f"{name} inputs" if s == 0 else None)
ref = np.array([res.sigma.min(), res.sigma.max()])
ax_m.loglog(ref, res.movement_early["raw"][0].max() * (ref / res.sigma[0].max()) ** 2, "k:", label="slope 2")
ax_m.set(xlabel="sigma_i (raw data)", ylabel=f"RMS change of v_i, first {early_steps} steps",
         title="movement per whitened direction")
ax_m.legend(fontsize=8)
for i, name in enumerate(("raw", "control", "optimum")):
    ax_a.bar(x + (i - 1) * 0.27, acc[name], 0.27, color=colours[i], label=name)
ax_a.set(xticks=x, xticklabels=[str(s) for s in seeds], xlabel="seed", ylabel="test accuracy", ylim=(0.5, 1),
         title="test accuracy: GD raw / GD control / optimum")
ax_a.legend(fontsize=8)
verdict.figure(fig, "concentration-rate-accuracy")
plt.show()

# %% [markdown]
# ## Deviations from the paper

# %%
verdict.deviation(
    "The paper's body was not available: this verdict checks the abstract-level claim (GD's algorithmic bias on the "
    "non-convex BN network) through the derived formulation of docs/papers/ergen2022.md (BN scaling, whitening, "
    "closed-form optimum and the sigma_i^2 mechanism), not the paper's theorems or numbers."
)
if ds.substituted:
    verdict.deviation(f"Data substituted: requested {ds.requested} (the paper's CIFAR-10), used {ds.used} ({ds.reason}); "
                      f"pair {pair}.")
verdict.deviation(
    f"Setting not given by the paper (ours): n = {n} training images ({n // 2} per class, one draw per seed), "
    f"{n_test_per_class} test images per class, width {width}, beta = {beta}, PyTorch default initialization, "
    f"full-batch GD on PyTorch's parameters with the sum objective, lr = {lr}, {steps} steps (fixed by the time "
    "budget). The paper's optimizer and schedule are unknown."
)
verdict.deviation(
    "Redesigned (issue 16) after v1's checks were found defective: 'GD's top-k energy >= 2x the optimum's' could not "
    "pass (ceiling 1 / optimum's top-k energy, reported), 'p_GD > p*' could not fail (now sanity), and 'top-k energy "
    ">= 5 k/r' was met by the random initialization (reported). The bias is now measured against a whitened-input "
    "control trained by the same GD."
)
verdict.deviation("Test-time BN uses the training batch's mean and norm for every network; the paper's rule is unknown.")
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
