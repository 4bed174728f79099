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
# > objective." (Ergen, Sahiner, Ozturkler, Pauly, Mardani & Pilanci, ICLR 2022, **abstract**)
#
# **Source caveat.** The paper's body could not be obtained (our paper notes, `docs/papers/ergen2022.md`, "What of the paper could be read"). This
# notebook checks the abstract-level claim through the formulation *derived* in `docs/papers/ergen2022.md` (sections 1-3):
# its BN scaling, whitening and closed form are this repository's derivations, not the paper's theorems, and no
# number here is compared with a number of the paper. Third-party notes say GD "prioritizes high singular
# value directions of the training data".
#
# **The derived mechanism** (§3). With $PX=U\Sigma V^\top$ the BN output of neuron $j$ depends on $w_j$
# only through the whitened direction $v_j=\Sigma V^\top w_j$ (it is $\gamma_j U v_j/\|v_j\|+\alpha_j/\sqrt n$), and
# $\nabla_w L=V\Sigma U^\top g$, so a GD step moves $v$ by $-\eta\,\Sigma^2U^\top g$: **whitened direction $i$ learns
# at rate $\propto\sigma_i^2$**, while the convex (whitened) program treats all directions alike. In finite time GD
# therefore stays near the top singular directions and, when $n\le d$, does not reach the whitened global optimum
# (which has a closed form, `eg.closed_form`, and spreads its neurons over the whole label vector).
#
# **What we run.** Fashion-MNIST Pullover vs Coat (the data policy's fallback for CIFAR-10, see below), $\pm1$ labels,
# $n$ training images, $\beta=10^{-2}$, width $m=100$, full-batch GD on the PyTorch parameters of
# `Linear -> BatchNorm1d -> ReLU -> Linear` (objective: the *sum* squared loss plus $\tfrac\beta2\sum_j
# (\gamma_j^2+\alpha_j^2+a_j^2)$, exactly `eg.objective`) for a fixed number of steps; per seed one training draw
# and one initialization. Against it: the global optimum (closed form, $n\le d$) and the random initialization.
#
# **Energy.** For a set of neurons, $E_i$ is the $|a_j\gamma_j|$-weighted mean over neurons of $v_{ij}^2/\|v_j\|^2$
# (`wh.direction_energy`); $E(\text{top-}k)=\sum_{i\le k}E_i$, uniform spread gives $k/r$.
#
# **Checks** (verdict version 2; thresholds argued where they are checked; per-seed values, the worst seed deciding
# unless said otherwise):
# - *claim, part `top-k-vs-uniform`*: the trained first layer is concentrated on the top-$k$ directions (paper notes:
#   $\ge5k/r$); *control* for it: the random initialization must *not* pass the same threshold. Where it does (issue
#   13's audit found 5.31 for the initialization against GD's 5.07 at the paper scale) the part is inconclusive: the
#   criterion cannot tell GD's bias from the geometry of a random vector;
# - *claim, part `top-k-vs-optimum`*: GD's top-$k$ energy is at least twice the global optimum's. **Mis-specified**:
#   the energies sum to 1, so the ratio is at most $1/E_{\rm opt}(\text{top-}k)$; the optimum's top-$k$ energy is
#   0.58-0.67 at the paper scale, so the ratio is at most 1.49-1.73 there and the check cannot pass (the bound is
#   reported as a measurement at every scale). Kept as it was (same threshold, still a claim check) and left for the
#   ergen2022 redesign issue;
# - *claim, part `displacement-vs-init`*: GD's displacement is more concentrated than the random initialization
#   (which already carries a $\sigma_i^2$ profile);
# - *claim, part `rate`*: the displacement per direction grows with $\sigma_i$ (rank correlation); the log-log slope is
#   reported as a measurement (v1: non-essential check; it is 2 + the slope of the accumulated whitened gradient, a
#   property of the labels, not of GD's bias);
# - *claim, part `generalizes`*: GD's test accuracy is higher than the global optimum's: the mean paired difference
#   over seeds, decided on its 90% t interval (exactly v1's one-sided paired t-test at $p<0.05$; v1's point-mean check
#   and its test are this one check now);
# - *regime*: the centred training data have rank $n-1$ (the closed form's condition); GD ran stably (no step raises
#   the objective by more than 1%; v1: non-essential);
# - *sanity*: the closed-form value equals its network's objective through BN; GD's objective stays above the global
#   optimum $p^*$. v1 counted the latter as evidence that GD "does not reach" the optimum; it holds for every network
#   ($p^*$ is a lower bound), and the gap is almost all weight decay on PyTorch's default BN scales, so it says nothing
#   about GD's bias: it can fail only on a bug.

# %% tags=["parameters"]
claim_id = "ergen2022/gd-implicit-bias"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3, 4]
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
import torch

from bnrepro import claims
from bnrepro import ergen2022 as eg
from bnrepro import stats
from bnrepro.data import real
from bnrepro.ergen2022 import tasks, training

verdict = claims.open(
    claim_id,
    statement=(
        "Abstract-level claim, checked through the paper notes' derived formulation (the paper's body was not available): "
        "full-batch GD on the non-convex two-layer BN ReLU network prioritizes the top singular directions of the "
        "data (whitened direction i moves at a rate proportional to sigma_i^2), so it does not reach the whitened "
        "global optimum, and it generalizes better than that optimum on an image task."
    ),
    source="Abstract ('Gradient Descent provides an algorithmic bias effect'); §§3 and 6 (C3), derived",
    evidence="abstract",
    stand_ins=[
        "formulation: BN scaling, whitening, closed-form optimum and the sigma_i^2 mechanism derived here, not the "
        "paper's theorems",
        "measure of the bias: |a gamma|-weighted top-k energy of the whitened directions, and the per-direction "
        "movement (ours)",
        f"network/budget: width {width}, full-batch GD at lr {lr} for {steps} steps on n = {n} images (ours)",
        "test-time BN: the training batch's statistics (ours)",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
ds = real.load("cifar10", strict=strict_data)  # a substitution prints a banner
verdict.use_dataset(ds)
pair = tasks.DEFAULT_PAIRS[ds.used]
print(f"dataset: {ds.used} (requested {ds.requested}{', SUBSTITUTED' if ds.substituted else ''}); pair {pair}")
if not 0 < early_steps < steps:
    raise ValueError(f"early_steps must be in 1..steps-1 = {steps - 1}, got {early_steps}")
print(f"n={n} ({n // 2} per class), test {n_test_per_class} per class, beta={beta}, width={width}, GD lr={lr}, "
      f"steps={steps}, early phase {early_steps} steps, k={k}; float64 torch")

# %% [markdown]
# ## Train by full-batch GD, and solve the global optimum, per seed
#
# **Learning rate.** The objective is a *sum* over the $n$ samples and the parameters are PyTorch's (BN weight
# $\gamma/\sqrt n$), so the output layer alone has curvature of order $m\cdot n/2\cdot$(correlation of the ReLU
# features), a few thousand: stable GD needs $\eta\lesssim10^{-4}$. A pilot on seed 0 at $n=300$ (one model,
# 300-2000 steps; only the objective trace was inspected, not the checks below) gave, starting from 304:
# $\eta=3\cdot10^{-3}$ and $10^{-2}$ go to nan; $\eta=10^{-3}$ spikes by $6\cdot10^4$ in one step;
# $\eta=10^{-4}$ rises on a third of its first 300 steps (largest one-step rise 8.3); $\eta=7\cdot10^{-5}$: largest
# rise 1.6; $\eta=5\cdot10^{-5}$: largest rise 0.5 on an objective above 90, steady decrease (1500 steps: 96);
# $\eta=2\cdot10^{-5}$ is monotone but much slower (1500 steps: 126). We take $5\cdot10^{-5}$, the largest grid value
# whose rebounds stay well below 1% of the objective, and verify that in this run (check below). The number of
# steps is fixed by the time budget (under 3 minutes on 2 cores), not tuned on the results. At this budget GD
# classifies the training images (its training accuracy, the sign of its outputs, is measured below; v1's text said
# it "does not fit the training set", which that measurement contradicts) but stays far from the optimum's
# objective: the finite-time regime the mechanism is about.
#
# The initial, early-phase (after `early_steps`) and final weights are snapshots of one GD run (plain GD keeps no
# optimizer state, so continuing with a fresh optimizer is the same run).

# %%
rows = []
energy = {"GD-trained": [], "GD displacement": [], "initialization": [], "global optimum": []}
sigmas, moves_early, moves_final, traces = [], [], [], []
train_seconds = 0.0
for seed in seeds:
    task = tasks.image_task(ds, pair, n // 2, 0, n_test_per_class, seed)
    X, y, Xt = task.X_train, task.y_train, task.X_test
    wh = eg.whiten(X)
    opt = eg.closed_form(X, y, beta, whitening=wh)
    net_opt = opt.network
    p_opt_net = eg.objective(X, y, net_opt.W, net_opt.gamma, net_opt.alpha, net_opt.a, beta)
    acc_opt = tasks.accuracy(eg.bn_predict(Xt, X, net_opt.W, net_opt.gamma, net_opt.alpha, net_opt.a), task.labels_test)

    net = training.BNNetworks(X.shape[1], width, [seed], n, device=verdict.device)
    init = net.networks()[0]
    start = time.perf_counter()
    _, early = training.train(X, y, beta, net=net, optimizer="gd", lr=lr, steps=early_steps, device=verdict.device,
                              progress=False)
    gd_early = net.networks()[0]
    _, rest = training.train(X, y, beta, net=net, optimizer="gd", lr=lr, steps=steps - early_steps,
                             device=verdict.device, progress=False)  # plain GD keeps no state: one run of `steps`
    train_seconds += time.perf_counter() - start
    gd = net.networks()[0]
    objective = np.concatenate([early.objective[0], rest.objective[0, 1:]])
    Xt_t, X_t = (torch.as_tensor(a, device=verdict.device) for a in (Xt, X))
    with torch.no_grad():
        out_test = net(Xt_t, X_t)[0, :, 0].cpu().numpy()  # BN with the training batch's statistics
        out_train = net(X_t)[0, :, 0].cpu().numpy()
    acc_gd = tasks.accuracy(out_test, task.labels_test)

    weights = np.abs(gd.a * gd.gamma)
    energy["GD-trained"].append(wh.direction_energy(gd.W, weights))
    energy["GD displacement"].append(wh.direction_energy(gd.W - init.W, weights))
    energy["initialization"].append(wh.direction_energy(init.W, np.abs(init.a * init.gamma)))
    energy["global optimum"].append(wh.direction_energy(net_opt.W, np.abs(net_opt.a * net_opt.gamma)))
    sigmas.append(wh.sigma)
    moves_early.append(wh.movement(init.W, gd_early.W))
    moves_final.append(wh.movement(init.W, gd.W))
    traces.append(objective)
    obj = objective
    rows.append({"seed": seed, "r": wh.rank, "p_opt": opt.value, "p_opt_net": p_opt_net, "p_gd": obj[-1],
                 "p_gd0": obj[0], "p_gd_decay": 0.5 * beta * float(np.sum(gd.gamma**2) + np.sum(gd.alpha**2) + np.sum(gd.a**2)),
                 "max_rise": float(np.max(np.diff(obj) / obj[:-1])),
                 "frac_rise": float(np.mean(np.diff(obj) > 0)), "acc_gd": acc_gd, "acc_opt": acc_opt,
                 "train_acc_gd": tasks.accuracy(out_train, task.labels_train)})
    print(f"seed {seed}: rank {wh.rank}, p* {opt.value:.4f}, p_GD {obj[0]:.4g} -> {obj[-1]:.4g}, "
          f"test acc GD {acc_gd:.3f} / optimum {acc_opt:.3f}", flush=True)
verdict.timing("GD training, all seeds", train_seconds)
energy = {name: np.array(v) for name, v in energy.items()}  # (seeds, r)
sigmas, moves_early, moves_final = np.array(sigmas), np.array(moves_early), np.array(moves_final)
r = int(sigmas.shape[1])
col = {key: np.array([row[key] for row in rows]) for key in rows[0]}

# %% [markdown]
# ## Sanity and regime: the closed form is the global optimum of this objective, and GD ran stably
#
# *Sanity*: the closed-form value must equal the objective of its own two-neuron network through a real BN forward
# pass (relative $10^{-8}$: float64 rounding, C2's tolerance). *Regime*: the centred training data must have
# rank $n-1$ (the closed form's condition); GD's stability: no step may raise the objective by more than 1% (an
# unstable learning rate shows spikes of orders of magnitude, as in the pilot at $10^{-3}$; v1 called it
# non-essential: it qualifies the run, so an unstable run puts the claim out of regime).

# %%
verdict.check("max over seeds of |p*_closed - objective(closed-form network)| / p*",
              np.abs(col["p_opt"] - col["p_opt_net"]) / col["p_opt"], "<=", 1e-8, kind="sanity", aggregate="max")
verdict.check("min over seeds of rank(P X) - (n - 1)", col["r"] - (n - 1), ">=", 0, kind="regime", aggregate="min")
verdict.check("max over seeds and steps of the one-step relative rise of the GD objective", col["max_rise"], "<=", 1e-2,
              kind="regime", aggregate="max")
verdict.measure("mean over seeds of the fraction of GD steps that raise the objective", np.mean(col["frac_rise"]))
verdict.measure("mean over seeds of p_GD(T) / p_GD(0)", np.mean(col["p_gd"] / col["p_gd0"]))
verdict.measure("mean over seeds of GD training accuracy", np.mean(col["train_acc_gd"]))
print("fraction of rising steps per seed:", np.array2string(col["frac_rise"], precision=3))
print("p_GD(T)/p_GD(0) per seed:         ", np.array2string(col["p_gd"] / col["p_gd0"], precision=4))
print("GD training accuracy per seed:    ", np.array2string(col["train_acc_gd"], precision=3))

# %% [markdown]
# ## Claims: spectral concentration
#
# **The weak baseline, stated first.** A random isotropic $w$ gives $v=\Sigma V^\top w$ with $E[v_i^2]\propto\sigma_i^2$:
# on image data, whose spectrum decays fast, the *initialization* is already far more concentrated than the uniform
# $k/r$. So the paper notes' criterion (GD's top-$k$ energy $\ge5\,k/r$, pilots measured 0.87-0.93 vs 0.17) is necessary
# but cannot tell GD's bias from the geometry of a random vector; we keep it (part `top-k-vs-uniform`) with the
# random initialization as its *control*: the same measurement before GD has acted, which must stay below the
# threshold on every seed (if it does not, the criterion cannot discriminate and the part is inconclusive). We add
# three checks that can discriminate:
#
# * **Contrast with the global optimum (part `top-k-vs-optimum`).** The optimum's neurons have $v\propto U^\top y_\pm$:
#   they spread over every direction the labels touch. If GD "does not reach" it *because* it stays in the top
#   directions, GD's top-$k$ energy must be far above the optimum's; we ask for at least twice, on every seed (a
#   factor 2 is far outside seed-to-seed variation of either number, and it means at least half of GD's top-$k$
#   mass is there *beyond* what the optimum itself puts there). **This check is mis-specified**: energies sum to 1,
#   so the ratio is at most $1/E_{\rm opt}(\text{top-}k)$, and the optimum's top-$k$ energy is 0.58-0.67 at the paper
#   scale (ratio at most 1.49-1.73): there it cannot pass. It stays as it was, visibly, for the ergen2022 redesign
#   issue.
# * **Displacement vs initialization (part `displacement-vs-init`).** What GD *adds*, $\Delta W=W_T-W_0$, moves
#   $v_i$ by $\sigma_i^2\times$(the whitened gradient), an energy profile $\propto\sigma_i^4|U^\top g|_i^2$ against the
#   initialization's $\sigma_i^2$. So GD's displacement must be more concentrated on the top-$k$ than the random
#   initialization, on every seed (threshold 0: any excess is the dynamics' own bias, since the initialization is the
#   geometric baseline).
# * **Rate per direction (the mechanism, part `rate`).** The RMS over neurons of the change of component $v_i$ after
#   the early phase must grow with $\sigma_i$: Spearman $\rho(\sigma_i,\text{movement}_i)\ge0.7$ on every seed (0.7 is the
#   conventional "strong" monotone association; with $\sigma$ spanning orders of magnitude, a $\sigma^2$ rate gives
#   values near 1 unless the whitened gradient varies as much as $\sigma^2$ does). Reported, not checked: the
#   least-squares slope of $\log$ movement on $\log\sigma_i$ (v1 asked, non-essentially, for $[1,3]$, nearer the
#   predicted 2 than to no dependence or a doubled exponent). It is exactly $2+$ the slope of the accumulated
#   whitened gradient: the 2 is the chain rule, the rest depends on how the labels load the directions, so the band
#   is not evidence about GD's bias; its per-seed minimum and maximum are measurements.

# %%
top_k = {name: E[:, :k].sum(axis=1) for name, E in energy.items()}
uniform = k / r
for name, values in top_k.items():
    print(f"top-{k} energy, {name:16s} per seed: {np.array2string(values, precision=3)}")
print(f"uniform baseline k/r = {uniform:.3f}")
verdict.check(f"min over seeds of GD-trained top-{k} energy / uniform baseline k/r", top_k["GD-trained"] / uniform, ">=", 5,
              kind="claim", part="top-k-vs-uniform", aggregate="min")
verdict.check(f"max over seeds of initialization top-{k} energy / uniform baseline k/r (must stay below GD's threshold)",
              top_k["initialization"] / uniform, "<", 5, kind="control", part="top-k-vs-uniform", aggregate="max")
verdict.check(f"min over seeds of GD-trained top-{k} energy / global optimum's top-{k} energy (mis-specified: at most "
              f"1 / optimum's top-{k} energy)", top_k["GD-trained"] / top_k["global optimum"], ">=", 2,
              kind="claim", part="top-k-vs-optimum", aggregate="min")
verdict.check(f"min over seeds of GD displacement top-{k} energy - initialization's top-{k} energy",
              top_k["GD displacement"] - top_k["initialization"], ">", 0, kind="claim", part="displacement-vs-init",
              aggregate="min")
for name, values in top_k.items():
    verdict.measure(f"mean over seeds of top-{k} energy, {name}", values.mean())
verdict.measure(f"uniform baseline k/r (r = {r})", uniform)
verdict.measure(f"min over seeds of initialization top-{k} energy / uniform baseline", top_k["initialization"].min() / uniform)
verdict.measure(f"max over seeds of 1 / global optimum's top-{k} energy (the largest possible GD / optimum ratio)",
                np.max(1 / top_k["global optimum"]))

rho_early = np.array([stats.spearman(s, mv) for s, mv in zip(sigmas, moves_early, strict=True)])
rho_final = np.array([stats.spearman(s, mv) for s, mv in zip(sigmas, moves_final, strict=True)])
slope_early = np.array([stats.loglog_slope(s, mv) for s, mv in zip(sigmas, moves_early, strict=True)])
slope_final = np.array([stats.loglog_slope(s, mv) for s, mv in zip(sigmas, moves_final, strict=True)])
print(f"Spearman(sigma_i, movement_i), first {early_steps} steps:", np.array2string(rho_early, precision=3))
print(f"Spearman(sigma_i, movement_i), all {steps} steps:      ", np.array2string(rho_final, precision=3))
print(f"log-log slope of movement on sigma, first {early_steps} steps:", np.array2string(slope_early, precision=3))
print(f"log-log slope of movement on sigma, all {steps} steps:      ", np.array2string(slope_final, precision=3))
verdict.check(f"min over seeds of Spearman(sigma_i, movement of v_i over the first {early_steps} steps)", rho_early, ">=", 0.7,
              kind="claim", part="rate", aggregate="min")
verdict.measure(f"min over seeds of the log-log slope of movement on sigma (first {early_steps} steps)", slope_early.min())
verdict.measure(f"max over seeds of the log-log slope of movement on sigma (first {early_steps} steps)", slope_early.max())
verdict.measure(f"min over seeds of Spearman(sigma_i, movement over all {steps} steps)", rho_final.min())
verdict.measure(f"mean over seeds of the log-log slope of movement on sigma, all {steps} steps", slope_final.mean())

# %% [markdown]
# ## Figure: energy per singular direction
#
# Left: $E_i$ per direction $i$ (mean over seeds), log-log. Right: the cumulative top-$k$ energy, with the uniform
# $k/r$ and our $k$ marked.

# %%
palette = dict(zip(energy, sns.color_palette(n_colors=len(energy)), strict=True))
idx = np.arange(1, r + 1)
fig, (ax, ax_c) = plt.subplots(1, 2, figsize=(12, 4.2))
for name, E in energy.items():
    ax.loglog(idx, E.mean(axis=0), color=palette[name], label=name, lw=1.2)
    ax_c.semilogx(idx, np.cumsum(E, axis=1).mean(axis=0), color=palette[name], label=name, lw=1.2)
ax.axhline(1 / r, color="k", ls=":", label="uniform 1/r")
ax_c.semilogx(idx, idx / r, color="k", ls=":", label="uniform k/r")
ax_c.axvline(k, color="grey", lw=0.8, ls="--")
ax.set(xlabel="singular direction i (by decreasing sigma_i)", ylabel="energy E_i (|a gamma|-weighted)",
       title=f"{ds.used} {pair[0]} vs {pair[1]}, n={n}, mean over {len(seeds)} seeds")
ax_c.set(xlabel="k", ylabel="top-k energy", ylim=(0, 1.02), title=f"cumulative energy (dashed: k={k})")
ax.legend(fontsize=8)
ax_c.legend(fontsize=8, loc="lower right")
verdict.figure(fig, "energy-per-direction")
plt.show()

# %% [markdown]
# ## Figure: how far each whitened component moves, against $\sigma_i$
#
# RMS over neurons of the change of $v_i$ after the early phase and at the end, every seed; the dotted line has the
# predicted slope 2.

# %%
fig, ax = plt.subplots(figsize=(6.5, 4.2))
seed_colours = sns.color_palette(n_colors=len(seeds))
for s, colour in enumerate(seed_colours):
    ax.loglog(sigmas[s], moves_early[s], ".", ms=3, color=colour, label=f"seed {seeds[s]}, first {early_steps} steps")
    ax.loglog(sigmas[s], moves_final[s], "x", ms=3, color=colour, alpha=0.6, label=f"seed {seeds[s]}, all {steps} steps")
ref = np.array([sigmas.min(), sigmas.max()])
ax.loglog(ref, moves_early[0].max() * (ref / sigmas[0].max()) ** 2, "k:", label="slope 2")
ax.set(xlabel="sigma_i", ylabel="RMS change of v_i = sigma_i (V^T w)_i", title="GD moves the top directions most")
ax.legend(fontsize=6, ncol=2)
verdict.figure(fig, "movement-vs-sigma")
plt.show()

# %% [markdown]
# ## Sanity: GD stays above the global optimum
#
# $p^*$ is a lower bound on the objective of every BN network of any width, so $p_{GD}\ge p^*$ always, and equality
# after a finite GD run is out of reach in float64: the strict inequality on every seed (C3) fails only on a bug
# (a closed form that is not the optimum, or two objectives that disagree). v1 counted it as evidence that GD "does
# not reach" the optimum; it is not evidence about GD's bias: the gap is almost all weight decay (PyTorch's default
# BN scale $\gamma_{\rm pt}=1$ gives $\gamma_j=\sqrt n$, a penalty $\tfrac\beta2 mn$ that GD removes only slowly), as
# the measured weight-decay share of $p_{GD}(T)$ shows. The relative gap is reported.

# %%
gap = (col["p_gd"] - col["p_opt"]) / col["p_opt"]
print("p* per seed:            ", np.array2string(col["p_opt"], precision=4))
print("p_GD(T) per seed:       ", np.array2string(col["p_gd"], precision=4))
print("(p_GD - p*)/p* per seed:", np.array2string(gap, precision=3))
print("weight-decay share of p_GD(T):", np.array2string(col["p_gd_decay"] / col["p_gd"], precision=4))
verdict.check("min over seeds of (p_GD(T) - p*_closed) / p*_closed", gap, ">", 0, kind="sanity", aggregate="min")
verdict.measure("mean over seeds of (p_GD(T) - p*_closed) / p*_closed", gap.mean())
verdict.measure("min over seeds of the weight-decay share of p_GD(T)", np.min(col["p_gd_decay"] / col["p_gd"]))

# %% [markdown]
# ## Claim, part `generalizes`: GD generalizes better than the global optimum
#
# Test accuracy on all `n_test_per_class` test images per class; GD's network uses the training batch's BN
# statistics, the optimum's network goes through `eg.bn_predict` (the same rule). The claim: GD's accuracy is higher
# than the optimum's on the same draw, in the mean over seeds (threshold 0), which the paper notes' preliminary runs put at
# about 0.13 (GD 0.83 vs optimum 0.70). v1 checked the point mean (essential) and a one-sided paired t-test at
# $p<0.05$ (non-essential); they are one check now: the mean of the paired differences, decided on its two-sided 90%
# t interval, whose lower end is above 0 exactly when the one-sided test gives $p<0.05$.

# %%
diff = col["acc_gd"] - col["acc_opt"]
print("test accuracy GD per seed:     ", np.array2string(col["acc_gd"], precision=4))
print("test accuracy optimum per seed:", np.array2string(col["acc_opt"], precision=4))
verdict.check("mean over seeds of test accuracy, GD minus global optimum (paired)", diff, ">", 0,
              kind="claim", part="generalizes", aggregate="mean", confidence=0.90)
verdict.measure("mean over seeds of GD test accuracy", col["acc_gd"].mean())
verdict.measure("mean over seeds of global-optimum test accuracy", col["acc_opt"].mean())
verdict.measure("min over seeds of the accuracy difference GD - optimum", diff.min())

# %% [markdown]
# ## Figure: accuracy and objective per seed, and GD's objective over the run

# %%
fig, (ax_a, ax_o, ax_t) = plt.subplots(1, 3, figsize=(14, 4))
x = np.arange(len(seeds))
ax_a.bar(x - 0.2, col["acc_gd"], 0.4, label="GD-trained BN net")
ax_a.bar(x + 0.2, col["acc_opt"], 0.4, label="global optimum (closed form)")
ax_a.set(xticks=x, xticklabels=[str(s) for s in seeds], xlabel="seed", ylabel="test accuracy", ylim=(0.5, 1),
         title="test accuracy")
ax_a.legend(fontsize=8)
ax_o.bar(x - 0.2, col["p_gd"], 0.4, label="GD, final")
ax_o.bar(x + 0.2, col["p_opt"], 0.4, label="p* (closed form)")
ax_o.set(xticks=x, xticklabels=[str(s) for s in seeds], xlabel="seed", ylabel="objective", yscale="log",
         title="training objective")
ax_o.legend(fontsize=8)
for s, colour in enumerate(seed_colours):
    ax_t.semilogy(np.arange(steps + 1), traces[s], color=colour, label=f"seed {seeds[s]}")
    ax_t.axhline(col["p_opt"][s], color=colour, ls=":", lw=1)
ax_t.set(xlabel="GD step", ylabel="objective", title="GD objective (dotted: p* per seed)")
ax_t.legend(fontsize=8)
verdict.figure(fig, "accuracy-objective-per-seed")
plt.show()

# %% [markdown]
# ## Deviations from the paper

# %%
verdict.deviation(
    "The paper's body was not available: this verdict checks the abstract-level claim (GD's algorithmic bias on "
    "the non-convex BN network) through the paper notes' derived formulation (BN scaling, whitening, closed-form optimum "
    "and the sigma_i^2 mechanism are derivations, §§1-3, derived), not the paper's theorems or numbers."
)
if ds.substituted:
    verdict.deviation(f"Data substituted: requested {ds.requested}, used {ds.used} ({ds.reason}); pair {pair}.")
verdict.deviation(
    f"Setting not given by the paper (ours, after C3): n = {n} training images ({n // 2} per class, one draw per "
    f"seed), {n_test_per_class} test images per class, width {width}, beta = {beta}, PyTorch default initialization, "
    f"full-batch GD on PyTorch's parameters with the sum objective, lr = {lr} (largest spike-free value of a pilot "
    f"grid, see the notebook), {steps} steps (fixed by the time budget). The paper's optimizer and schedule are unknown."
)
verdict.deviation(
    "The paper notes' criterion (top-k energy >= 5 k/r) is weak: a random isotropic first layer already has energy "
    "proportional to sigma_i^2 and passes it (see the initialization's top-k energy in the measurements). The claim "
    "is carried instead by the contrast with the global optimum's neurons and by GD's displacement against the "
    "initialization; the sigma_i^2 rate itself is a chain-rule identity, so we test its consequence (movement rising "
    "with sigma_i), not the identity."
)
verdict.deviation(
    "Test-time BN uses the training batch's mean and norm (§6) for both networks; the paper's rule is unknown."
)
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
