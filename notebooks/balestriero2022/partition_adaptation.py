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
# # balestriero2022/partition-adaptation: BN moves a random network's partition onto the data
#
# > "We demonstrate that BN is an unsupervised learning technique that -- independent of the DN's weights or
# > gradient-based learning -- adapts the geometry of a DN's spline partition to match the data."
# > (Balestriero & Baraniuk, "Batch Normalization Explained", arXiv:2209.14778, abstract; Figure 1)
#
# **The paper's body text could not be read** (`docs/papers/balestriero2022.md`, "What of the paper could be read"). What is checked here is the
# abstract-level claim, with the definitions of the successor paper (Riedi, Balestriero & Baraniuk, PMLR 334,
# Eqs. 1-3 and 7): unit $k$ of layer $\ell$ computes $h_{\ell,k}(z)=(w_k^\top z-c_k)/b_k$ on its layer input $z$;
# its hyperplane $\{z: w_k^\top z=c_k\}$ is a boundary of the layer's partition. BN sets $c_k=\mu_k=w_k^\top g$
# (the batch centroid $g$ of the layer inputs) and $b_k=\sigma_k$; without BN, $c_k$ is a bias (zero, or the
# PyTorch default $U(\pm1/\sqrt{\rm fan\_in})$) and $b_k=1$.
#
# **C1, exact (the theorem behind the claim).** For every unit and layer, with the weights fixed, $\mu_k$ minimises
# the total-least-squares objective $F_k(c)=\sum_{z\in B}(w_k^\top z-c)^2/\|w_k\|^2$, the sum of squared
# distances from the layer inputs to the hyperplane; at the optimum $F_k(\mu_k)/|B|=\sigma_k^2/\|w_k\|^2$; and so
# $F_k(\mu_k)\le F_k(c)$ for the zero and PyTorch offsets. A corollary: BN's partition moves with the data
# (translation equivariance), a plain network's does not.
#
# **C2, the measurable consequence.** At random initialisation (no training at all), the distance from each
# data point to the nearest boundary of each layer, $d_\ell(x)=\min_k|h_{\ell,k}(x)|/\|\nabla_x h_{\ell,k}(x)\|$
# (exact for layer 1, first order for the folded boundaries of deeper layers), is much smaller with BN than
# with zero or PyTorch biases on the *same* weights.
#
# **Checks** (verdict version 2; $R_\ell={\rm med}_\ell(\text{no BN})/{\rm med}_\ell(\text{BN})$, per seed):
# - *sanity* (8 checks): C1 holds to rounding for every unit of every layer, on both data sets (numerical TLS
#   optimum within $10^{-6}(1+|\mu|)$ of $\mu$; the identity to $10^{-8}$ relative; $F(\mu)\le F(c)$ for 100% of
#   units); BN distances move by at most $10^{-9}$ under $x\mapsto x+t$, while the plain networks' move. Version 1
#   counted these as evidence; they hold by algebra (the mean minimises a sum of squares; BN subtracts the mean) or
#   test that the plain variants do not secretly use data statistics, so they are sanity checks.
# - *claim, part `moons`*: on shifted moons $R_\ell\ge2$ for every layer, against both plain variants, on every seed
#   (worst case over seeds: `aggregate="min"` of each seed's minimum over layers).
# - *claim, part `digits`*: $R_\ell\ge1.3$ for every layer, both variants, every seed (worst case), and the median
#   over seeds of $R_4\ge2$ (BCa bootstrap interval over the seeds).
# - *control, part `moons`*: centred moons. There the zero-bias hyperplanes of layer 1 already pass through the
#   centroid, so $R_1\approx1$ is expected and only reported; the deepest layer must still show the effect, median
#   over seeds of $R_4\ge1.5$. If it did not, the shifted-moons result could be the +3 shift alone (layer 1 is
#   trivially favourable to BN there), not adaptation. Version 1 called it a non-essential check.
# - *control, parts `moons` and `digits`* (added for issue 15): a **data-aware non-BN offset**. Every hyperplane is
#   moved through a data point drawn at random for its unit (layer by layer, on the variant's own layer inputs;
#   BN's scale $b_k=\sigma_k$ kept, so only the offset differs from BN). This baseline uses the data but does not
#   centre: it separates "BN's offset is special (the total-least-squares centre)" from "any offset computed from
#   the data brings the partition to the data". Which way it should go: by C1, a hyperplane through a random data
#   point $z_r$ has mean squared distance $\sigma_k^2+(w_k^\top(z_r-g))^2/\|w_k\|^2$ to the data, on average twice
#   BN's, so if the nearest-boundary distances measure what the paper's theorem says, BN's partition is at least as
#   close to the data as the data-point partition: $R^{\rm pt}_\ell={\rm med}_\ell(\text{data point})/{\rm med}_\ell(\text{BN})\ge1$
#   on every layer. The check: median over seeds of $\min_\ell R^{\rm pt}_\ell\ge1$ (BCa interval). If it does not
#   pass, our metric rewards any data-aware offset as much as BN's, the BN-versus-plain ratios cannot attribute the
#   effect to BN, and the part is `inconclusive`. What would make the claim fail: the claim checks above (BN not
#   closer than the data-blind offsets) with this control passing. The **median** offset (also a centre, the L1
#   one) is reported per layer as a measurement, not a check: it centres like BN, so it tests the metric, not BN.
#   A pilot on seeds $\ge 5\,000\,000$ (20 seeds) was run before this control was written: on digits the median
#   over seeds of $R^{\rm pt}_\ell$ was 1.29 to 1.50, on shifted moons 0.69 at layer 1 (the 2-D lines through
#   scattered data points cover the data better than 64 lines through one centroid) and about 1 deeper; the
#   threshold 1 is the theorem's direction, not tuned, and we expect the moons part to be inconclusive.
#
# Seeds: 20 (was 10), for the control's median interval; the worst-case claim checks get harder with more seeds.

# %% tags=["parameters"]
claim_id = "balestriero2022/partition-adaptation"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
threads = 2
depth = 4
width = 64
slope = 0.1
moons_n = 500
moons_noise = 0.1
moons_shift = 3.0
translation = [5.0, -7.0]
digits_n = 1437
figure_width = 6
figure_depth = 4
figure_seed = 0
grid_n = 400
grid_margin = 1.0
strict_data = False

# %%
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.colors import ListedColormap

from bnrepro import claims
from bnrepro.balestriero2022 import datasets, offsets
from bnrepro.balestriero2022 import partition as P
from bnrepro.data.real import load

verdict = claims.open(
    claim_id,
    statement=(
        "Abstract-level claim (the paper's body text was not available): independent of the weights and of "
        "any training, BN adapts a network's spline partition to the data. Checked through the successor "
        "paper's definitions: BN's offset is the total-least-squares fit of every unit's hyperplane to its "
        "layer input, and at random initialisation BN brings every layer's partition boundaries much closer "
        "to the data than zero or PyTorch-default biases on the same weights."
    ),
    source="Abstract and Figure 1 (Balestriero & Baraniuk 2022); definitions from Riedi et al., PMLR 334, Eqs. 1-3, 7",
    evidence="abstract",
    stand_ins=[
        "definitions: hyperplanes, offsets and the TLS reading of BN from the successor paper (Riedi, Balestriero & "
        "Baraniuk, PMLR 334), not from this paper's body",
        "metric: distance to the nearest boundary min_k |h_k(x)| / ||grad h_k(x)|| (ours; first order for layers >= 2)",
        f"network: random He-normal leaky-ReLU MLP, depth {depth}, width {width}, never trained (ours)",
        "BN: full-data statistics, gamma = 1, beta = 0, no epsilon; no-BN baselines: zero and PyTorch-default biases (ours)",
        "data-aware control: offsets through a random data point per unit (BN's scale kept); median offset reported (ours)",
        f"data: make_moons({moons_n}, noise={moons_noise}) per seed, shifted by +{moons_shift} or centred; digits/16 (ours)",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
ds = load("digits", strict=strict_data)
verdict.use_dataset(ds)
VARIANTS = P.VARIANTS

x_moons, _ = datasets.moons_sets(seeds, moons_n, moons_noise)  # (S, N, 2)
data = {
    "shifted moons": x_moons + moons_shift,
    "digits": ds.x_train.reshape(len(ds.x_train), -1)[:digits_n].astype(np.float64),  # pixels/16, (N, 64)
    "centred moons": x_moons - x_moons.mean(axis=1, keepdims=True),
}
sizes = {name: [x.shape[-1]] + [width] * depth + [1] for name, x in data.items()}  # the output layer plays no part in the partition
print(f"MLP depth {depth}, width {width}, leaky-ReLU slope {slope}, He-normal weights, float64")
print(f"moons: {moons_n} points per seed, noise {moons_noise}, shifted by +{moons_shift}; digits: {data['digits'].shape} ({ds.used})")

# %% [markdown]
# ## C1: BN's offset is the total-least-squares fit of each hyperplane
#
# For every seed, layer and unit, `scipy.optimize.minimize_scalar` (Brent, bracketed by the range of the
# projections $w_k^\top z$; no closed form used) minimises $F_k(c)$ on the layer inputs $z$ of the BN network
# (population mode, full-data statistics). Thresholds: Brent's search stops at a relative step of about
# $10^{-8}$, so $10^{-6}(1+|\mu|)$ leaves two orders of margin while any systematic offset (e.g. the median, or
# a bias) would be off by $O(\sigma)$; the identity is a sum of $N$ float64 squares, exact to $\sim10^{-14}$, so
# $10^{-8}$ relative is a safe rounding allowance; $F(\mu)\le F(c)$ is required of every unit. All three are
# *sanity* checks: they hold by algebra, so a failure means the code is wrong, never that the claim is.

# %%
comparisons, tls = {}, {}
for name in ("shifted moons", "digits"):
    x = data[name]
    _, net, stats = P.variants(x, seeds, sizes[name], slope)
    tls[name] = P.tls_report(net, stats, x)
    rep = tls[name]
    print(f"{name}: max offset error {max(e.max() for e in rep.offset_error):.2e}, "
          f"max identity error {max(e.max() for e in rep.identity_error):.2e}, "
          f"min F(0)-F(mu) {min(g.min() for g in rep.gap_zero):.3g}, min F(torch)-F(mu) {min(g.min() for g in rep.gap_torch):.3g}")
for name, rep in tls.items():
    units = sum(e.size for e in rep.offset_error)
    verdict.check(f"{name}: max over seeds, layers, {units // len(seeds)} units of |c* - mu| / (1 + |mu|)",
                  max(e.max() for e in rep.offset_error), "<=", 1e-6, kind="sanity")
    verdict.check(f"{name}: max over units of |F(mu)/|B| / (sigma^2/||w||^2) - 1|",
                  max(e.max() for e in rep.identity_error), "<=", 1e-8, kind="sanity")
    frac = np.mean(np.concatenate([np.concatenate([gz.ravel(), gt.ravel()]) for gz, gt in zip(rep.gap_zero, rep.gap_torch)]) >= 0)
    verdict.check(f"{name}: fraction of units with F(mu) <= F(c) for the zero and torch offsets", frac, ">=", 1.0,
                  kind="sanity")

# %% [markdown]
# ### Translation equivariance
#
# Shift the shifted moons by $t$: BN's statistics follow the data, so every BN distance is unchanged (all
# layers, every point). Allowance $10^{-9}$: distances are $O(10^{-2})$ and computed in float64 after a shift of
# size $\|t\|\approx9$, so rounding is $\sim10^{-14}$. The plain networks' boundaries stay where they were, so their
# distances change. The measure is per point, $|d(x+t)-d(x)|/d(x)$, and we require its median over points to be at
# least 0.1 for every plain variant, seed and layer: the typical point's distance to the nearest boundary changes
# by 10% or more, eight orders of magnitude above BN's allowance, i.e. the partition did not follow the data.
# (The relative change of the *median* distance is also reported; it can be small by coincidence, since a
# median of a very different set of distances may land near the old one.)
#
# Both are *sanity* checks: BN's invariance is algebra, and a plain partition that followed the data would mean
# the plain variants used data statistics (a bug). The per-point metric replaced the median-distance one after a
# quick run sat near its threshold; the old metric is kept as a measurement (a deviation says so).

# %%
shifted = data["shifted moons"] + np.asarray(translation)
before = P.compare(data["shifted moons"], seeds, sizes["shifted moons"], slope)
after = P.compare(shifted, seeds, sizes["shifted moons"], slope)
comparisons["shifted moons"] = before
bn_change = np.abs(after.distances[0] - before.distances[0]).max()
point_change = np.median(np.abs(after.distances[1:] / before.distances[1:] - 1), axis=2)  # (2, S, depth)
median_change = np.abs(after.medians[1:] / before.medians[1:] - 1)
print(f"max |d_BN(x+t) - d_BN(x)| = {bn_change:.2e}")
for v, pc, mc in zip(VARIANTS[1:], point_change, median_change):
    print(f"  {v}: min over seeds and layers of the median per-point relative change {pc.min():.3f}, "
          f"of the relative change of the median distance {mc.min():.3f}")
verdict.check(f"max over seeds, points, layers of |d_BN(x+t) - d_BN(x)|, t={translation}", bn_change, "<=", 1e-9,
              kind="sanity")
verdict.check("min over plain variants, seeds, layers of median over points of |d(x+t)/d(x) - 1|, no BN",
              point_change.min(), ">=", 0.1, kind="sanity")
verdict.measure("min over plain variants, seeds, layers of |med d(x+t) / med d(x) - 1|, no BN", median_change.min())

# %% [markdown]
# ## C2: distances from the data to the nearest boundary, per layer
#
# Three variants of the **same** He-normal weights per seed: BN with full-data statistics, zero bias, PyTorch
# bias. All seeds and variants are one batch of models; the Jacobian $\partial h_\ell/\partial x$ is propagated
# forward in float64 with each point's activation pattern.
# Thresholds (C2 of `docs/papers/balestriero2022.md`, set from the direction of the claim, not from paper numbers, which are unavailable):
# a factor 2 on 2-D shifted moons, where the plain hyperplanes pass about $\|w\|^{-1}|c|\lesssim1$ from the
# origin while the data sit at distance $\approx4$; on 64-D digits, 1.3 per layer on every seed (the pixels
# are non-negative and concentrated, so plain hyperplanes through the origin are nearer the data than in 2-D)
# and 2 for the deepest layer's median over seeds.
#
# "On every seed" is a worst case over the seeds (`aggregate="min"` of each seed's minimum over layers, no interval);
# the median over seeds is decided on its BCa bootstrap interval. The centred-moons $R_4$ check is the *control* of
# part `moons`.

# %%
for name in ("digits", "centred moons"):
    comparisons[name] = P.compare(data[name], seeds, sizes[name], slope)
    print(f"{name}: distances of {comparisons[name].distances.shape[2]} points x {3 * len(seeds)} models done")
for name, comp in comparisons.items():
    med = np.median(comp.medians, axis=1)  # median over seeds: (3, depth)
    r = comp.ratios()
    print(f"\n{name}: median over seeds of med_l, l = 1..{depth}")
    for v, row in zip(VARIANTS, med):
        print(f"  {v:5s} " + " ".join(f"{m:.4g}" for m in row))
    for v, rv in zip(VARIANTS[1:], r):
        print(f"  R vs {v:5s}: min over seeds " + " ".join(f"{m:.3g}" for m in rv.min(axis=0))
              + " | median " + " ".join(f"{m:.3g}" for m in np.median(rv, axis=0)))

# %%
r = comparisons["shifted moons"].ratios()  # (variant, seed, layer)
for v, rv in zip(VARIANTS[1:], r):
    verdict.check(f"shifted moons: min over seeds of (min over layers 1..{depth} of R_l) vs {v}", rv.min(axis=1), ">=", 2.0,
                  kind="claim", part="moons", aggregate="min")
r = comparisons["digits"].ratios()
for v, rv in zip(VARIANTS[1:], r):
    verdict.check(f"digits: min over seeds of (min over layers 1..{depth} of R_l) vs {v}", rv.min(axis=1), ">=", 1.3,
                  kind="claim", part="digits", aggregate="min")
    verdict.check(f"digits: median over seeds of R_{depth} vs {v}", rv[:, -1], ">=", 2.0,
                  kind="claim", part="digits", aggregate="median")
r = comparisons["centred moons"].ratios()
for v, rv in zip(VARIANTS[1:], r):
    verdict.measure(f"centred moons (control): median over seeds of R_1 vs {v}", np.median(rv[:, 0]))
    verdict.measure(f"centred moons (control): min over seeds of R_1 vs {v}", rv[:, 0].min())
    verdict.check(f"centred moons (control): median over seeds of R_{depth} vs {v}", rv[:, -1], ">=", 1.5,
                  kind="control", part="moons", aggregate="median")
for name, comp in comparisons.items():
    for v, rv in zip(VARIANTS[1:], comp.ratios()):
        for layer in range(depth):
            verdict.measure(f"{name}: median over seeds of R_{layer + 1} vs {v}", np.median(rv[:, layer]))

# %% [markdown]
# ## Control: data-aware offsets that are not BN's
#
# The same weights per seed, three variants: BN, the median offset and the data-point offset (both with BN's scale),
# on shifted moons and digits (BN and both baselines follow a translation of the data, so centred moons give the
# same numbers as shifted moons).

# %%
aware = {name: offsets.compare_offsets(data[name], seeds, sizes[name], slope) for name in ("shifted moons", "digits")}
for name, comp in aware.items():
    np.testing.assert_allclose(comp.distances[0], comparisons[name].distances[0], rtol=1e-12)  # the same BN networks
    print(f"\n{name}:")
    for v, rv in zip(offsets.OFFSET_VARIANTS[1:], comp.ratios()):
        print(f"  R vs {v:10s}: median over seeds " + " ".join(f"{m:.3g}" for m in np.median(rv, axis=0))
              + " | min " + " ".join(f"{m:.3g}" for m in rv.min(axis=0)) + " | max " + " ".join(f"{m:.3g}" for m in rv.max(axis=0)))
for name, part in (("shifted moons", "moons"), ("digits", "digits")):
    r_median, r_point = aware[name].ratios()
    verdict.check(f"{name} (data-aware control): median over seeds of (min over layers 1..{depth} of R_l) vs an offset "
                  "through a random data point", r_point.min(axis=1), ">=", 1.0, kind="control", part=part,
                  aggregate="median")
    for layer in range(depth):
        verdict.measure(f"{name}: median over seeds of R_{layer + 1} vs data-point offset", np.median(r_point[:, layer]))
        verdict.measure(f"{name}: median over seeds of R_{layer + 1} vs median offset", np.median(r_median[:, layer]))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
baseline_colours = dict(zip(("zero", "torch", "median", "data point"), sns.color_palette(n_colors=4)))
for ax, name in zip(axes, aware):
    layers = np.arange(1, depth + 1)
    ratios = dict(zip(VARIANTS[1:], comparisons[name].ratios())) | dict(zip(offsets.OFFSET_VARIANTS[1:], aware[name].ratios()))
    for v, rv in ratios.items():
        q = np.percentile(rv, [10, 50, 90], axis=0)
        ax.plot(layers, q[1], "o-", color=baseline_colours[v], label=f"vs {v}")
        ax.fill_between(layers, q[0], q[2], color=baseline_colours[v], alpha=0.15)
    ax.axhline(1, color="grey", lw=0.8)
    ax.set_yscale("log")
    ax.set(xlabel="layer", ylabel="R_l = med(baseline) / med(BN)", title=f"{name}: median and 10-90% over {len(seeds)} seeds")
    ax.set_xticks(layers)
axes[0].legend(fontsize=8)
fig.tight_layout()
verdict.figure(fig, "ratios-data-aware-baselines")
plt.show()

# %% [markdown]
# ## Figure: distance distributions per layer
#
# Every point of every seed, per layer, on a log axis; dashed lines are the medians. On centred moons the BN
# and zero-bias layer-1 distributions coincide (both hyperplane families pass through the centroid).

# %%
palette = dict(zip(VARIANTS, sns.color_palette(n_colors=3)))
fig, axes = plt.subplots(len(comparisons), depth, figsize=(3.2 * depth, 2.6 * len(comparisons)), sharey="row")
for row, (name, comp) in zip(axes, comparisons.items()):
    logd = np.log10(comp.distances)
    bins = np.linspace(np.percentile(logd, 0.5), np.percentile(logd, 99.9), 50)
    for layer, ax in enumerate(row):
        for v, dist in zip(VARIANTS, comp.distances):
            values = np.log10(dist[..., layer]).ravel()
            ax.hist(values, bins=bins, histtype="step", color=palette[v], density=True, label=v)
            ax.axvline(np.log10(np.median(dist[..., layer])), color=palette[v], ls="--", lw=1)
        ax.set_title(f"{name}, layer {layer + 1}", fontsize=10)
        ax.set_xlabel(r"$\log_{10} d_\ell(x)$")
    row[0].set_ylabel("density")
axes[0, 0].legend(fontsize=8)
fig.suptitle(f"Distance from the data to the nearest boundary at random init ({len(seeds)} seeds, width {width})")
fig.tight_layout()
verdict.figure(fig, "distance-distributions")
plt.show()

# %% [markdown]
# ## Figure 1 replica: the partition of a width-6 random network, layer by layer
#
# One seed of shifted moons; a leaky-ReLU network of depth 4 and width 6 with random He-normal weights.
# Top row: no BN (PyTorch-default biases, $b=1$); bottom row: BN with the full-data statistics (the same
# weights). Column $\ell$ colours the regions of the partition of layers $1..\ell$ (activation patterns on a
# grid); blue pixels are where layer $\ell$'s own activation pattern changes between neighbouring pixels (its
# folded hyperplanes), grey ones the earlier layers' boundaries. The window holds the data (black) and the origin.

# %%
fx = data["shifted moons"][seeds.index(figure_seed) if figure_seed in seeds else 0]
fig_sizes = [2] + [figure_width] * figure_depth + [1]
fig_hp, _, _ = P.variants(fx, [figure_seed], fig_sizes, slope)  # 3 models: BN, zero, torch
lo = np.minimum(fx.min(axis=0), 0.0) - grid_margin
hi = np.maximum(fx.max(axis=0), 0.0) + grid_margin
side = (hi - lo).max()
lo, hi = (lo + hi) / 2 - side / 2, (lo + hi) / 2 + side / 2
points, xs, ys = P.grid(tuple(lo), tuple(hi), grid_n)
patterns = P.activation_patterns(fig_hp, points)  # (3, grid_n^2, depth)
regions = P.region_ids(patterns)
shown = {"no BN (torch bias)": 2, "BN": 0}
golden = 0.6180339887498949  # region colours: a fixed low-discrepancy walk through a pastel map
pastel = ListedColormap(sns.color_palette("pastel", 10))
fig, axes = plt.subplots(2, figure_depth, figsize=(3.1 * figure_depth, 6.4), sharex=True, sharey=True)
counts = {}
for row, (label, m) in zip(axes, shown.items()):
    earlier = np.zeros((grid_n, grid_n), dtype=bool)
    for layer, ax in enumerate(row):
        ids = regions[m, :, layer].reshape(grid_n, grid_n)
        img = pastel((ids * golden) % 1.0)[..., :3]
        own = P.boundary_mask(patterns[m, :, layer].reshape(grid_n, grid_n))
        img[earlier] = (0.55, 0.55, 0.55)
        img[own] = (0.0, 0.25, 0.85)
        ax.imshow(img, origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]), interpolation="nearest")
        ax.scatter(fx[:, 0], fx[:, 1], s=1.5, color="black")
        counts[(label, layer)] = len(np.unique(ids))
        ax.set_title(f"{label}, layer {layer + 1}: {counts[(label, layer)]} regions", fontsize=9)
        earlier |= own
    row[0].set_ylabel(label)
fig.suptitle(f"Partition of a random depth-{figure_depth}, width-{figure_width} leaky-ReLU network (seed {figure_seed}); "
             "blue: layer's own boundaries, grey: earlier layers'", fontsize=10)
fig.tight_layout()
verdict.figure(fig, "figure1-partitions")
plt.show()
fig_dist = P.boundary_distances(fig_hp, fx)
print("figure network, median distance per layer:",
      {v: np.array2string(np.median(d, axis=0), precision=3) for v, d in zip(VARIANTS, fig_dist)})
for layer in range(figure_depth):
    verdict.measure(f"figure network: regions of layers 1..{layer + 1} in the window, BN", counts[("BN", layer)])
    verdict.measure(f"figure network: regions of layers 1..{layer + 1} in the window, no BN", counts[("no BN (torch bias)", layer)])

# %% [markdown]
# ## Deviations from the paper

# %%
verdict.deviation(
    "The paper's body text was not available: this verdict checks the abstract-level claim through the successor "
    "paper's definitions (Riedi, Balestriero & Baraniuk, PMLR 334), not the paper's theorems, figures or numbers; "
    "the thresholds come from the pilot runs in `docs/papers/balestriero2022.md` and the direction of the claim, not from paper numbers."
)
verdict.deviation(
    "The paper's distance metric is not known; ours is min_k |h_k(x)| / ||grad_x h_k(x)||, exact for layer 1 and a "
    "first-order (linearized) distance to the folded boundaries of deeper layers."
)
verdict.deviation(
    "BN uses the full-data (population) statistics, gamma = 1, beta = 0, no epsilon; the architecture (depth "
    f"{depth}, width {width}, leaky-ReLU slope {slope}, He-normal weights), the data (make_moons({moons_n}, "
    f"noise={moons_noise}) + {moons_shift} seeded per seed; digits pixels/16, the first {data['digits'].shape[0]} "
    "training images) and the 'no BN' biases (zero, PyTorch default) are our choices."
)
verdict.deviation(
    "Figure 1 replica: the paper draws the folded hyperplanes as lines; we draw the partition on a "
    f"{grid_n}x{grid_n} grid (boundary pixels where the activation pattern changes), so lines are one or two "
    "pixels wide; the no-BN row uses PyTorch-default biases as the 'random offset'."
)
verdict.deviation(
    "The data are synthetic (moons) for two of the three data sets; the dataset field records the digits used."
)
verdict.deviation(
    "The translation check's metric was changed after a quick run: it first asked that the relative change of each "
    "plain variant's median distance, |med d(x+t) / med d(x) - 1|, be >= 0.1, and a quick run sat near that threshold; "
    "it now asks the same of the median over points of the per-point change |d(x+t)/d(x) - 1|. The old metric is "
    "kept as a measurement (min over plain variants, seeds, layers: "
    f"{median_change.min():.3g} in this run; against the old threshold of 0.1 it would "
    f"{'pass' if median_change.min() >= 0.1 else 'fail'}). The check is a sanity check, never evidence."
)
verdict.deviation(
    "Redesigned for issue 15 before its first paper-scale run: a data-aware control (offsets through a random data "
    "point, BN's scale kept) for parts moons and digits, the median offset as measurements, and 20 seeds (was 10). "
    "A pilot on seeds >= 5,000,000 had shown the data-point control reading below 1 at layer 1 of shifted moons; "
    "the threshold 1 follows the total-least-squares argument and was not tuned."
)
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
