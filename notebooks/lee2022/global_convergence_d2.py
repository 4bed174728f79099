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
# # lee2022/global-convergence-d2: for $d=2$ the gradient flow of a single ReLU neuron converges globally
#
# > "Lastly, we prove the global convergence of single ReLU neuron for d = 2 case." (Lee, Sim & Ye, arXiv
# > 2202.05510, **v2 abstract**, 13 Jun 2022; not in v1)
#
# **Only the abstract could be read** (see `docs/papers/lee2022.md`): the theorem's assumptions are unknown. Its
# LaTeX abstract carries a commented-out clause ("which is experimentally shown to be the best result under our
# assumption"), so the theorem has an assumption we cannot read. This notebook tests the abstract's sentence under
# **our formulation**: $f(x)=\sigma(w^\top x)$ (no bias), loss $\frac1{2n}\sum_i(\sigma(w^\top x_i)-y_i)^2$ on $n=50$
# points $x_i\sim N(0,I_2)$, teacher labels $y=\sigma(v^\top x)$ with $\|v\|=1$, $\sigma'(0)=0$, the flow integrated by
# explicit Euler. "Global" is read as *from every initialization with at least one active point* (an all-inactive
# $w$ has zero gradient and never moves; such inits are counted, not run).
#
# **What an earlier version found.** 800/800 random runs converged on the registry's seeds, but 795/800 on other seeds:
# the 5 others ended at $\|w_T-v\|=1=\|v\|$. This version finds out what those runs are.
#
# **What they are: a trap at $w\to0$.** If at some time no positive-label point is active, only points with $y_i=0$
# pull on $w$ and the flow on the active set $A$ is linear, $\dot w=-M_Aw$ with $M_A=\frac1n\sum_{i\in A}x_ix_i^\top$.
# Its solution $w(t)=c_1e^{-\lambda_1t}e_1+c_2e^{-\lambda_2t}e_2$ turns monotonically towards the slowest eigenvector
# $\pm e_1$ (an arc shorter than a right angle) while shrinking. If no data point's kink $w^\top x_j=0$ lies on that
# arc, the active set never changes again: $w(t)\to0$ and the loss tends to $\frac1{2n}\sum_iy_i^2>0$, for the flow
# and for Euler alike, **whatever the horizon**. `lee2022.convergence.trap_certificate` tests exactly this (unit
# tested); each run is integrated until it is *converged* (loss $<$ `loss_threshold`) or *certified trapped*, and a
# run that is neither at $T$ is *undetermined*: still moving, not a counterexample.
#
# **Parts and checks** (verdict version 2; thresholds argued below, pre-registered before the paper-scale run):
# - *claim, part `global`* (the abstract's sentence under our formulation): every random init converges (worst case
#   over the runs, `aggregate="min"` of the per-run booleans: it passes iff no run is trapped), and every
#   deterministic adversarial init converges (a grid of init angles to $v$, fine near $-v$, and the inits with a
#   single active positive-label point). "Global" is a universal statement: one certified counterexample refutes it.
# - *claim, part `acute-init`* (our candidate for the unknown assumption, a stand-in): every init with
#   $w_0^\top v>0$ converges, over the same random and grid runs (worst case). It can fail: a single trapped run with
#   an acute init refutes it; a pilot (seeds $\ge5\,000\,000$) found the trapped inits at $|\angle(w_0,v)|\ge114°$.
# - *regime*: every run is classified at $T$ (no undetermined run: the horizon is long enough for the verdict to be
#   about the flow's limit, not about $T$); and the classes agree at $\eta/2$ on the rerun runs (every run not
#   converged plus `halving_seeds` seeds' runs): the fraction of changed classes $\le1\%$ (exact binomial interval),
#   so the Euler step is not what decides where runs end.
# - *sanity*: the certified-trapped runs, continued for $2T$ by the plain integrator `lee2022.flow`, keep a loss
#   $\ge\frac1{2n}\sum_iy_i^2$ (the certificate says they can never go below it).
# - *measurements*: the trap rate per init norm with its exact 95 % interval (on `seeds` $\ge10\,000$ runs per norm),
#   the init angles of the trapped runs, whether they started with an active positive-label point and when they lost
#   their last one, the trap rate against $n$ (a finite-sample effect: with the population loss $M_A=I/2$ and the
#   trap's arc is empty), and the $d=20$ contrast of the earlier version.
#
# Seed counts: the pilot put the trap rate near 0.3-1 % per init norm, so $10\,000$ seeds per norm give intervals of
# about $\pm0.1$-$0.2$ points and a certain counterexample if the rate is that high; the worst-case checks need no
# interval. A pilot on seeds $\ge5\,000\,000$ informed the seed counts, the grid and the 1 % tolerance of the
# step-halving regime check.

# %% tags=["parameters"]
claim_id = "lee2022/global-convergence-d2"
scale = "paper"
seed_offset = 0
seeds = [0, 1]  # the registry passes range(10000) at paper scale
threads = 1
n = 50
init_scales = [0.001, 0.1, 1.0, 10.0]
eta = 0.05
steps = 10000
loss_threshold = 1e-10
grid_seeds = [0, 1]
grid_step_deg = 5
grid_near_pi = [0.3, 0.1, 0.03, 0.01, 0.001, 1e-06]
grid_scales = [0.001, 1.0, 10.0]
halving_seeds = [0, 1]
halving_tolerance = 0.01
sample_sizes = [20, 200]
sample_size_seeds = [0, 1]
sample_size_scale = 1.0
contrast_d = 20
contrast_seeds = [0, 1]
contrast_steps = 10000

# %%
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from bnrepro import claims, lee2022, stats

verdict = claims.open(
    claim_id,
    statement=(
        "Checked against the abstract-level claim only (paper body unavailable): for d = 2 the gradient flow of a "
        "single ReLU neuron (square loss, teacher labels) reaches zero loss from every initialization with at least "
        "one active point (part 'global'); and from every initialization with w0.v > 0 (part 'acute-init', our "
        "candidate for the theorem's unknown assumption)."
    ),
    source="v2 abstract, last sentence (theorem and assumptions not available)",
    evidence="abstract",
    stand_ins=[
        "model: relu(w^T x), no bias, relu'(0) = 0, loss (1/2n) sum (f - y)^2, n = 50 Gaussian inputs, teacher labels "
        "(our formulation)",
        "'globally': uniformly random init directions at norms 1e-3 to 10, a grid of init angles to v and the "
        "single-positive-point inits (ours)",
        "convergence: loss below a threshold, or a certificate of a trap at w -> 0 (ours, exact for the flow)",
        "the condition w0.v > 0 of part 'acute-init' (ours: the theorem's assumption is unknown)",
        "gradient flow: explicit Euler (full-batch GD) at a finite step; step halving checked",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
S, K = len(seeds), len(init_scales)
print(f"{S} seeds x {K} init norms {init_scales}, n={n}, d=2, Euler eta={eta}, T={steps * eta:g}; numpy float64")

# %% [markdown]
# ## Random inits: a uniformly random direction per seed, at every init norm

# %%
rand = lee2022.convergence.random_inits(seeds, n, init_scales, eta=eta, steps=steps, loss_threshold=loss_threshold)
ro = rand.outcome
ok = rand.some_active
for r in init_scales:
    m = ok & (rand.norm == r)
    print(f"||w0||={r:<6g}: {ro.converged[m].sum()} converged, {ro.trapped[m].sum()} trapped, {ro.undetermined[m].sum()} "
          f"undetermined of {m.sum()} runs; latest convergence time {ro.t_converged[m & ro.converged].max():.1f}")
verdict.measure("number of random inits with no active point (excluded)", np.sum(~ok))

# %% [markdown]
# ## Deterministic adversarial inits
#
# On each of `grid_seeds` data sets: $w_0=rR(\phi)v$ for $\phi$ every `grid_step_deg` degrees and at
# $\pm(\pi-\epsilon)$ for $\epsilon$ in `grid_near_pi` (so $w_0\to-v$), and the two directions where exactly one
# positive-label point is active (turning $w$ away from $-v$ one way or the other until the first positive point
# switches on; `lee2022.convergence.single_positive_inits`). With $n=50$ Gaussian points every half-plane through the
# origin holds many points, so an init with a single active point of any label does not exist here; the single
# *positive* active point is the adversarial case that does.

# %%
angles = np.concatenate([np.radians(np.arange(-180, 180, grid_step_deg)), np.pi - np.array(grid_near_pi),
                         -np.pi + np.array(grid_near_pi)])
adv = lee2022.convergence.adversarial_inits(grid_seeds, n, angles, grid_scales, eta=eta, steps=steps,
                                            loss_threshold=loss_threshold)
ao = adv.outcome
for fam in ("grid", "single-positive"):
    for r in grid_scales:
        m = adv.some_active & (adv.family == fam) & (adv.norm == r)
        print(f"{fam:15s} ||w0||={r:<6g}: {ao.trapped[m].sum()} trapped, {ao.undetermined[m].sum()} undetermined of {m.sum()}")
near_v = adv.some_active & (adv.family == "grid") & (np.abs(np.abs(adv.angle) - np.pi) < 1e-5)
print(f"w0 within 1e-5 rad of -v: {ao.trapped[near_v].sum()} of {near_v.sum()} trapped")

# %% [markdown]
# ## Regime: the horizon and the step
#
# A run that is neither converged nor certified trapped at $T$ would be undecided by our horizon, not a counterexample:
# none may be left (worst case). The step: every run not converged, and all runs of the first `halving_seeds` seeds, are
# rerun at $\eta/2$ (twice the steps); the fraction whose class changes must be $\le$ `halving_tolerance` (1 %: far
# below the trap rates that decide nothing here anyway, since the claim checks are worst cases; a larger fraction would
# mean that where a run ends depends on the step, and the flow would be out of reach of our integrator).

# %%
verdict.check("random and adversarial runs neither converged nor certified trapped at T (count)",
              int(ro.undetermined[ok].sum() + ao.undetermined[adv.some_active].sum()), "<=", 0, kind="regime")
rerun_rand = ok & (~ro.converged | np.isin(rand.seed, halving_seeds))
rerun_adv = adv.some_active & ~ao.converged
Xh = np.concatenate([rand.X[rerun_rand], adv.X[rerun_adv]])
yh = np.concatenate([rand.y[rerun_rand], adv.y[rerun_adv]])
wh = np.concatenate([rand.w0[rerun_rand], adv.w0[rerun_adv]])
half = lee2022.convergence.outcomes(Xh, yh, wh, eta=eta / 2, steps=2 * steps, loss_threshold=loss_threshold)
class_eta = np.concatenate([ro.trapped[rerun_rand], ao.trapped[rerun_adv]])
changed = (half.trapped != class_eta) | half.undetermined
print(f"rerun at eta/2: {len(class_eta)} runs ({np.sum(class_eta)} trapped at eta), {changed.sum()} change class")
verdict.check(f"fraction of runs rerun at eta/2 = {eta / 2:g} whose class changes", changed, "<=", halving_tolerance,
              kind="regime", aggregate="fraction")
verdict.measure("trapped runs at eta that are also trapped at eta/2", np.sum(half.trapped & class_eta))
verdict.measure("runs trapped at eta that converge at eta/2", np.sum(half.converged & class_eta))
verdict.measure("runs not trapped at eta that are trapped at eta/2", np.sum(half.trapped & ~class_eta))

# %% [markdown]
# ## Sanity: the certificate holds when the run goes on
#
# Every certified-trapped run (random and adversarial, up to 400 of them) is continued from its init for $2T$ by the
# plain integrator `lee2022.flow`, which knows nothing about the certificate: its loss must stay
# $\ge\frac1{2n}\sum_iy_i^2$ (up to rounding, $10^{-12}$ relative) at every recorded time **until $\|w\|$ first falls
# below $10^{-150}$**.
#
# *Changed after the paper-scale result was seen* (a deviation says so): the pre-registered form compared only the
# loss at $2T$, and failed on 1 of 400 runs (0.9975). That run's $\|w\|$ decays like $10^{-3}e^{-0.77t}$ and leaves the
# float64 range ($<10^{-308}$, then exactly 0) near $t\approx900$; below that its direction is rounding noise, a
# positive-label point switches on and the run converges. That is an underflow of the integrator, not an escape of
# the flow (the exact flow of a certified run keeps its active set for ever), so the check now stops looking once
# $\|w\|$ first falls below $10^{-150}$, far above underflow; the pre-registered form stays as a measurement.

# %%
trapped_X = np.concatenate([rand.X[ro.trapped & ok], adv.X[ao.trapped & adv.some_active]])[:400]
trapped_y = np.concatenate([rand.y[ro.trapped & ok], adv.y[ao.trapped & adv.some_active]])[:400]
trapped_w0 = np.concatenate([rand.w0[ro.trapped & ok], adv.w0[ao.trapped & adv.some_active]])[:400]
if len(trapped_w0):
    with np.errstate(divide="ignore", invalid="ignore"):  # w underflows to exactly 0 in some runs
        long = lee2022.flow(trapped_X, trapped_y, trapped_w0, eta=eta, steps=2 * steps, record_every=steps // 20)
    floor = 0.5 * np.mean(trapped_y ** 2, axis=1)
    above_floor = long.loss >= floor * (1 - 1e-12)
    representable = np.logical_and.accumulate(long.norm > 1e-150, axis=0)  # until ||w|| first falls below 1e-150
    stays = np.all(above_floor | ~representable, axis=0)
    print(f"{len(floor)} trapped runs continued to t = {2 * steps * eta:g}: loss >= floor until ||w|| < 1e-150 in "
          f"{stays.sum()}; loss >= floor at 2T in {above_floor[-1].sum()}; ||w|| below 1e-150 before 2T in "
          f"{np.sum(~representable[-1])}")
    verdict.check("certified-trapped runs continued to 2T: fraction whose loss stays >= (1/2n) sum y^2 until ||w|| < 1e-150",
                  stays.mean(), ">=", 1, kind="sanity")
    verdict.measure("pre-registered form: fraction of trapped runs whose loss at 2T is >= (1/2n) sum y^2 (underflow-affected)",
                    above_floor[-1].mean())
    verdict.measure("trapped runs continued to 2T whose ||w|| falls below 1e-150", np.sum(~representable[-1]))

# %% [markdown]
# ## Claim, part `global`: every init converges
#
# Worst cases (pass iff every run converges), over the random runs and over the adversarial runs. The rate of trapped
# runs, per init norm, is measured with its exact 95 % interval.

# %%
verdict.check("every random init (>= 1 active point, all norms) converges", ro.converged[ok], ">=", 1,
              kind="claim", part="global", aggregate="min")
verdict.check("every adversarial init (angle grid, near -v, single positive point) converges",
              ao.converged[adv.some_active], ">=", 1, kind="claim", part="global", aggregate="min")
for r in init_scales:
    m = ok & (rand.norm == r)
    low, high = stats.binomial_interval(int(ro.trapped[m].sum()), int(m.sum()))
    print(f"||w0||={r:<6g}: trapped {ro.trapped[m].mean():.4%}  95% interval [{low:.4%}, {high:.4%}]  (n={m.sum()})")
    verdict.measure(f"||w0||={r:g}: fraction of random inits trapped", ro.trapped[m].mean())
    verdict.measure(f"||w0||={r:g}: fraction trapped, 95% interval low", low)
    verdict.measure(f"||w0||={r:g}: fraction trapped, 95% interval high", high)
low, high = stats.binomial_interval(int(ro.trapped[ok].sum()), int(ok.sum()))
verdict.measure("all norms: fraction of random inits trapped", ro.trapped[ok].mean())
verdict.measure("all norms: fraction trapped, 95% interval low", low)
verdict.measure("all norms: fraction trapped, 95% interval high", high)
verdict.measure("max over converged random runs of ||w_T - v||",
                np.linalg.norm(ro.w - rand.v, axis=1)[ok & ro.converged].max())
verdict.measure("max over random runs of the time to converge", ro.t_converged[ok & ro.converged].max())
for fam in ("grid", "single-positive"):
    m = adv.some_active & (adv.family == fam)
    verdict.measure(f"adversarial '{fam}': fraction trapped (all norms)", ao.trapped[m].mean())
verdict.measure("w0 within 1e-5 rad of -v: fraction trapped", ao.trapped[near_v].mean())

# %% [markdown]
# ## What the trapped runs are
#
# Their init angles, whether they started with an active positive-label point, and when they lost their last one.

# %%
tr = ok & ro.trapped
for r in init_scales:
    m = tr & (rand.norm == r)
    if m.any():
        print(f"||w0||={r:<6g}: {m.sum()} trapped; |angle(w0, v)| from {np.degrees(np.abs(rand.angle[m])).min():.1f} to "
              f"{np.degrees(np.abs(rand.angle[m])).max():.1f} deg; started with an active positive point: "
              f"{ro.positive_active_init[m].sum()}; lost it at t in "
              f"[{np.nanmin(ro.t_last_positive_off[m]) if ro.positive_lost[m].any() else np.nan:.2f}, "
              f"{np.nanmax(ro.t_last_positive_off[m]) if ro.positive_lost[m].any() else np.nan:.2f}]")
if tr.any():
    verdict.measure("min over trapped random runs of |angle(w0, v)| (deg)", np.degrees(np.abs(rand.angle[tr])).min())
    verdict.measure("fraction of trapped random runs that started with an active positive-label point",
                    ro.positive_active_init[tr].mean())
    verdict.measure("max over trapped random runs of the time the last positive-label point switched off",
                    np.nanmax(np.where(ro.positive_lost[tr], ro.t_last_positive_off[tr], 0.0)))
no_pos = ok & ~ro.positive_active_init
verdict.measure("fraction of random inits with no active positive-label point that converge anyway",
                ro.converged[no_pos].mean() if no_pos.any() else np.nan)
print(f"inits with no active positive-label point: {no_pos.sum()}, of which {ro.converged[no_pos].sum()} converge anyway")

# %% [markdown]
# ## Claim, part `acute-init`: every init with $w_0^\top v>0$ converges
#
# Our candidate condition (the theorem's is unknown): the init makes an acute angle with the teacher. Worst case over
# every random and adversarial run with an acute init.

# %%
acute_rand = ok & (np.abs(rand.angle) < np.pi / 2)
acute_adv = adv.some_active & (np.abs(adv.angle) < np.pi / 2)
acute = np.concatenate([ro.converged[acute_rand], ao.converged[acute_adv]])
print(f"acute inits: {acute.sum()} of {acute.size} converge")
_ = verdict.check("every init with w0.v > 0 (random and adversarial) converges", acute, ">=", 1,
                  kind="claim", part="acute-init", aggregate="min")

# %% [markdown]
# ## Measurement: the trap rate against $n$ (finite-sample effect)
#
# With the population loss ($n\to\infty$, Gaussian inputs) $M_A=I/2$ on every half-plane, so $\dot w=-w/2$ has no
# preferred direction and cannot carry $w$ along a fixed arc to $0$: the trap needs the sampling noise of $M_A$ and a
# gap in the positive points' directions near $-v$. Measured at init norm `sample_size_scale` on `sample_size_seeds`.

# %%
for n_other in sample_sizes:
    scan = lee2022.convergence.random_inits(sample_size_seeds, n_other, [sample_size_scale], eta=eta, steps=steps,
                                            loss_threshold=loss_threshold)
    m = scan.some_active
    low, high = stats.binomial_interval(int(scan.outcome.trapped[m].sum()), int(m.sum()))
    print(f"n={n_other}: trapped {scan.outcome.trapped[m].mean():.4%} [{low:.4%}, {high:.4%}], "
          f"undetermined {scan.outcome.undetermined[m].sum()} of {m.sum()}")
    verdict.measure(f"n={n_other}, ||w0||={sample_size_scale:g}: fraction trapped", scan.outcome.trapped[m].mean())
    verdict.measure(f"n={n_other}, ||w0||={sample_size_scale:g}: fraction trapped, 95% interval high", high)

# %% [markdown]
# ## Contrast: $d=20$ (measured, as in the earlier version)
#
# Not a control: the abstract says nothing about $d>2$. The fraction below the threshold at $T$, smallest init norm.

# %%
flow20, v20, ok20 = lee2022.init_norm_sweep(contrast_seeds, n, contrast_d, init_scales[:1], eta=eta, steps=contrast_steps,
                                            record_every=max(contrast_steps // 100, 1))
conv20 = flow20.loss[-1] < loss_threshold
stalled = flow20.loss[-1] > 0.5 * flow20.loss[len(flow20.t) // 2]
print(f"d={contrast_d}: {conv20[ok20].sum()}/{ok20.sum()} below {loss_threshold:g} at T={contrast_steps * eta:g}; "
      f"stalled: {np.sum(stalled & ~conv20 & ok20)}")
verdict.measure(f"fraction of d={contrast_d} runs with loss(T) < {loss_threshold:g}", conv20[ok20].mean())
verdict.measure(f"fraction of d={contrast_d} runs stalled (not converged, loss down < 2x over the second half)",
                np.mean((stalled & ~conv20)[ok20]))

# %% [markdown]
# ## Figure: a counterexample, the trap rate per init norm, and the grid

# %%
fig, axes = plt.subplots(1, 4, figsize=(21, 4.6))
if tr.any():
    j = np.flatnonzero(tr)[np.argmax(rand.norm[tr])]  # a trapped run at the largest init norm
    ex = lee2022.flow(rand.X[j:j + 1], rand.y[j:j + 1], rand.w0[j:j + 1], eta=eta, steps=steps // 5, record_every=1)
    Xj, yj, vj = rand.X[j], rand.y[j], rand.v[j]
    scale_w = np.linalg.norm(rand.w0[j])
    axes[0].scatter(Xj[yj > 0, 0], Xj[yj > 0, 1], c=yj[yj > 0], cmap="viridis", s=18, label="y > 0")
    axes[0].scatter(Xj[yj == 0, 0], Xj[yj == 0, 1], color="0.6", s=12, label="y = 0")
    axes[0].arrow(0, 0, 2 * vj[0], 2 * vj[1], color="C3", width=0.03, label="2 v")
    path = 2 * ex.w[:, 0] / scale_w
    axes[0].plot(path[:, 0], path[:, 1], color="k", lw=1.5, label="2 w(t) / ||w0||")
    axes[0].scatter(*path[0], color="k", marker="o", zorder=5)
    axes[0].set(aspect="equal", title=f"trapped: seed {rand.seed[j]}, ||w0||={rand.norm[j]:g}, "
                f"angle {np.degrees(rand.angle[j]):.1f} deg", xlabel="x1", ylabel="x2")
    axes[0].legend(fontsize=7, loc="lower left")
    axes[1].semilogy(ex.t, ex.loss[:, 0], label="loss")
    axes[1].semilogy(ex.t, ex.norm[:, 0], label="||w(t)||")
    axes[1].axhline(0.5 * np.mean(yj ** 2), color="k", ls=":", lw=1, label="(1/2n) sum y^2")
    axes[1].set(xlabel="t", title="the trapped run: loss stays, w -> 0")
    axes[1].legend(fontsize=8)
rates = [ro.trapped[ok & (rand.norm == r)].mean() for r in init_scales]
ints = np.array([stats.binomial_interval(int(ro.trapped[ok & (rand.norm == r)].sum()), int((ok & (rand.norm == r)).sum()))
                 for r in init_scales])
axes[2].errorbar(init_scales, rates, yerr=[np.array(rates) - ints[:, 0], ints[:, 1] - np.array(rates)], fmt="o-", capsize=3)
axes[2].set(xscale="log", xlabel="||w0||", ylabel="fraction trapped", title=f"random inits ({S} seeds per norm), 95% intervals")
grid = adv.family == "grid"
deg = np.round(np.degrees(np.abs(adv.angle)), 4)
for k, r in enumerate(grid_scales):
    m = grid & (adv.norm == r)
    u = np.unique(deg[m])
    axes[3].plot(u, [ao.trapped[m & (deg == a)].mean() for a in u], "o-", ms=3, color=sns.color_palette()[k],
                 label=f"||w0||={r:g}")
axes[3].set(xlabel="|angle(w0, v)| [deg]", ylabel="fraction of data sets trapped", title=f"angle grid ({len(grid_seeds)} data sets)")
axes[3].legend(fontsize=8)
verdict.figure(fig, "trap")
plt.show()

# %% [markdown]
# ## Deviations

# %%
verdict.deviation(
    "Paper body unavailable: this checks the v2 abstract's sentence under our model (relu(w^T x), no bias, "
    "relu'(0) = 0, loss (1/2n) sum (f - y)^2, teacher labels, Gaussian inputs, n = 50); the theorem's assumptions "
    "are unknown, and part 'acute-init' is our candidate for them, not the paper's."
)
verdict.deviation(
    "Redesigned after an earlier version's result was seen on other seeds (5/800 runs not converged): the "
    "non-converged runs are now classified (certified trap at w -> 0, or undetermined) and counted on 10000 seeds "
    "per init norm plus a deterministic grid; the pass rule 'every run converges' is unchanged."
)
verdict.deviation(
    "Sanity check changed after the paper-scale result was seen: the pre-registered form (loss at 2T >= (1/2n) sum y^2 "
    "for every certified-trapped run continued by lee2022.flow) failed on 1 of 400 runs (0.9975) because that run's "
    "||w|| underflowed float64 (decay ~1e-3 exp(-0.77 t), below 1e-308 near t = 900) and rounding noise then switched a "
    "positive point on; the check now looks until ||w|| first falls below 1e-150 (a first fix, 'while ||w|| > 1e-150', still counted the "
    "escaped run after its norm grew back, and failed the same way), and the pre-registered form is kept as a measurement."
)
verdict.deviation(f"Gradient flow approximated by explicit Euler with eta = {eta}; step halving checked on the "
                  "runs that did not converge and on a subset of the others.")
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
