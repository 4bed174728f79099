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
# # cao2023/patchwise-margin: BN makes a linear CNN converge to a *patch-wise* uniform margin
#
# > "We further extend our result to a class of two-layer, single-filter linear convolutional neural
# > networks, and show that batch normalization has an implicit bias towards a patch-wise uniform margin."
# > (Cao, Zou, Li & Gu, COLT 2023, abstract; **Theorem 3.2**)
#
# **Model** (Section 3.1): each input has $P$ patches, $g(w,\gamma,x)=\gamma\sum_p\langle w,x^{(p)}\rangle/\|w\|_\Sigma$
# with $\Sigma=(nP)^{-1}\sum_{i,p}x_i^{(p)}x_i^{(p)\top}$ (BN over the batch *and* the patches, fixed sum pooling),
# logistic loss, full-batch GD on $(w,\gamma)$ from $\gamma^{(0)}=1$.
# **Patch-wise margin discrepancy** $D_{\rm patch}(w)=(nP)^{-2}\sum_{i,i',p,p'}(m_{i'p'}-m_{ip})^2$ of the
# normalized patch margins $m_{ip}=y_i\langle w,x_i^{(p)}\rangle/\|w\|_\Sigma$; $D_{\rm patch}=0$ means equal margins
# across samples *and* patches.
# Theorem 3.2: $L=\Theta(1/(\eta P t))$ and $D_{\rm patch}(w^{(t)})\le C\exp[-c\log^2(\tfrac89\eta P(t-t_0)+1)]$.
#
# **What we run.** Three data sets, each for many seeds at once (float64 numpy, one batched update per step):
# 1. *Generic, $nP<d$* (the main case): Gaussian patches, $n=20$, $P=4$, $d=100$. Assumption 3.1 holds almost
#    surely ($nP$ generic equations in $d>nP$ unknowns). On every seed: BN-GD, GD on the same CNN without BN
#    (logistic regression on the summed patches), the exact max-margin classifier $w_{\max}$ of eq. (3.1), and
#    $w^*$, the min-norm solution of $\langle w,y_ix_i^{(p)}\rangle=1\ \forall i,p$ (eq. D.1).
# 2. *Over-determined, $nP>d$, Assumption 3.1 holding*: $n=30$, $P=4$, $d=60$ ($nP=2d$), patches
#    $x^{(p)}=yu+\xi^{(p)}$ with $\xi^{(p)}\perp u$ (Example 3.1's distribution at a small noise level): the $nP$
#    equations have the solution $u/\|u\|^2$ although they outnumber the unknowns. Here Assumption 3.1 is a
#    real precondition that a numerical test can refute (`regime`).
# 3. *Over-determined, generic* (a few seeds): the same sizes with Gaussian patches. Assumption 3.1 fails (no $w$ has equal
#    patch margins); $D_{\rm patch}$ has a positive floor $2(1-\|P_Z\mathbf 1\|^2/(nP))$ (derived here,
#    `cao2023.patchwise.uniformity_floor`) and Theorem 3.2 says nothing. Shown as the case where the test of
#    Assumption 3.1 fails.
#
# Plus an **$\eta$ / initialization panel**: the theorem needs $\eta\le\bar\eta$ and $\|P_Xw^{(0)}\|\le M$, both
# unspecified polynomially small constants, and its exponent scales like $1/\|P_Xw^{(0)}\|^2$. A pilot found
# that $\eta=0.01$, $\|w_0\|=1$ leaves $D_{\rm patch}\approx0.15$ after $5\cdot10^4$ steps. We run the grid
# $\eta\in$ `sensitivity_lrs` $\times\ \|w_0\|\in$ `sensitivity_w0_scales` on the main data and report it as
# measurements: whether the large-$\eta$/large-init corner is inside the theorem's conditions cannot be decided
# (the constants are not given), so a stall there is a statement about the regime of our budget, not a failure
# of the theorem.
#
# **Checks** (verdict version 2). Claim checks are fractions of seeds with an exact binomial 95 % interval,
# decided against 0.9 ("at our budget, at least nine datasets in ten"); the worst case over seeds is kept as a
# measurement. The seed counts (80 main, 48 over-determined) make an all-pass decidable (80/80 has lower bound
# 0.955, 48/48 0.926; two misses in 80 still pass). A pilot on 64 seeds $\ge5\,000\,000$ informed the seed
# counts, the budget and the steepening threshold: at $T=10^5$ two of 64 seeds had not reached $10^{-15}$
# (the slow seeds are those with a small $\lambda_{\min}$ of $\Sigma$ on $X$, which the theorem's exponent
# contains), so $T=1.5\cdot10^5$; 41 of 64 had a sample-uniform $w_{\max}$, so 80 seeds for that part; the
# smallest late/early slope ratio was far above 1.25 (see the rate part); and the panel's corners stalled as the
# earlier pilot had found. Pre-registered: these checks, kinds, thresholds and seed counts were committed before the
# first paper-scale run (`docs/runs/cao2023-patchwise-margin.md` gives the commit).
# - *sanity*: on the main case, Assumption 3.1 holds ($w^*$ solves every equation to rounding). At $nP<d$ with
#   Gaussian patches it cannot fail unless the solver or the generator is wrong, so it is no evidence.
# - *claim, part `patchwise-uniform`* (Theorem 3.2): the fraction of seeds with $D_{\rm patch}(T)\le10^{-15}$, and
#   with $1-\cos(P_Xw_{BN}(T),w^*)\le10^{-10}$. How it can fail: a GD that converged to another bias (e.g. $w_{\max}$,
#   whose $D_{\rm patch}$ is $\approx0.8$) or that stalls (the panel's corner) stays orders of magnitude above.
# - *regime* (over-determined case): Assumption 3.1 holds, i.e. the least-squares $w^*$ solves all $nP>d$
#   equations to $10^{-10}$ (it fails by many orders on the generic over-determined data, measured below).
# - *claim, part `overdetermined`*: the same two fractions on the over-determined data ($w^*=u/\|u\|^2$ there).
# - *sanity*: on the generic over-determined data, no $w$ beats the floor: $D_{\rm patch,BN}(T)\ge$ floor.
# - *claim, part `rate`*: the rate is super-polynomial, per seed: the log-log slope of $D_{\rm patch}$ steepens
#   (late/early slope ratio $\ge1.25$; a power law has ratio 1), and $\ln D_{\rm patch}$ is linear in
#   $\ln^2(\eta Pt+1)$ ($R^2\ge0.99$) and fits better than a power law. Each a fraction of seeds against 0.9.
# - *claim, part `not-uniform-without-bn`*: without BN, and at the max-margin solution, the margins are far from
#   patch-uniform ($D_{\rm patch}\ge0.5$): fractions of seeds against 0.9.
# - *claim, part `sample-vs-patch`*: where $w_{\max}$ is *sample*-uniform (every sample a support vector), it is
#   still not *patch*-uniform ($D_{\rm patch}(w_{\max})\ge0.5$), fraction over those seeds against 0.9.
#   *Control* (same part): at least 36 seeds have a sample-uniform $w_{\max}$ (fewer could not decide a fraction
#   against 0.9 even if all pass); *sanity*: on those seeds the sample-level $D(w_{\max})$ is 0 (KKT).
# - *claim, part `loss-rate`*: $L=\Theta(1/(\eta Pt))$, i.e. $1/(\eta PL)$ linear in $t$ ($R^2\ge0.999$ on
#   $t\ge$ `asymptotic_from`): fraction of seeds against 0.9. Our sharper prediction slope $\approx P$ is a measurement.
# - *sanity*: $\|w\|$ never decreases (the gradient is orthogonal to $w$: an identity).

# %% tags=["parameters"]
claim_id = "cao2023/patchwise-margin"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3]
threads = 1
n = 20
P = 4
d = 100
steps = 150000
lr = 0.0003
w0_scale = 0.05
asymptotic_from = 10000
fraction_threshold = 0.9
overdetermined_seeds = [0, 1]
generic_seeds = [0, 1]
n_over = 30
d_over = 60
sigma_over = 1.0
steps_over = 80000
sensitivity_seeds = [0]
sensitivity_lrs = [0.0003, 0.003, 0.01]
sensitivity_w0_scales = [0.05, 0.3, 1.0]
sensitivity_steps = 50000

# %%
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from scipy import stats as stats_scipy

from bnrepro import claims
from bnrepro import cao2023, stats
from bnrepro.cao2023 import patchwise
from bnrepro.cao2023.examples import Example31, initial_weights
from bnrepro.data import gaussian_classification

verdict = claims.open(
    claim_id,
    statement=(
        "Gradient descent on a two-layer single-filter linear CNN with batch normalization converges to a "
        "patch-wise uniform margin classifier at rate exp(-Omega(log^2 t)); without BN, and at the "
        "max-margin solution, the margins are not patch-wise uniform."
    ),
    source="Theorem 3.2 (Cao et al., COLT 2023)",
    evidence="full-text",
    stand_ins=[
        "data: Gaussian patches with nP < d; over-determined cases nP = 2d (n = 30, d = 60) with Example 3.1's patches "
        f"(sigma = {sigma_over}) and with Gaussian patches (ours; the paper runs no experiment for Theorem 3.2)",
        f"constants: lr = {lr}, w0 ~ N(0, I/d) scaled to ||w0|| ~ {w0_scale}, gamma0 = 1, T = {steps} steps "
        "(ours; M, eta_bar, t0, C1..C4 not given)",
        "model: Sigma = the uncentred second moment over all patches (the theorem's formula after its centring assumption), no BN layer",
        "rate tests: late/early log-log slope ratio and R^2 of ln D on ln^2(lr P t + 1) (our operationalisation)",
        "loss rate: 1/(lr P L) linear in t for t >= asymptotic_from (the Theta form, not the constants)",
        f"decisions: fractions of seeds against {fraction_threshold} at our budget (the theorem speaks of every data set "
        "satisfying Assumption 3.1, as T -> infinity)",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
print(f"n={n}, P={P}, d={d}, steps={steps}, lr={lr}, ||w0||~{w0_scale}, {len(seeds)} seeds; numpy float64 on the CPU")

# %% [markdown]
# ## Main case ($nP<d$): train with and without BN (all seeds in one batched update per step)

# %%
X, y, w0 = gaussian_classification(seeds, n, d, w0_scale, patches=P)
bn = cao2023.train(X, y, w0, lr=lr, steps=steps, batchnorm=True)
plain = cao2023.train(X, y, w0, lr=lr, steps=steps, batchnorm=False)
w_max = cao2023.max_margin(X, y)
w_star = cao2023.min_norm_interpolator(X, y)
D_max = cao2023.margin_discrepancy(w_max.w, X, y)
D_max_sample = cao2023.discrepancy(cao2023.normalized_margins(w_max.w, X, y))
D_bn, D_plain = bn.discrepancy[-1], plain.discrepancy[-1]
print("support vectors of w_max (count of seeds per number):", dict(zip(*np.unique(w_max.n_support, return_counts=True))))
print("D_patch(w_max): min, median", D_max.min().round(4), np.median(D_max).round(4))
print("D_patch, BN, at T: max, median", f"{D_bn.max():.3g}", f"{np.median(D_bn):.3g}")
print("D_patch, no BN, at T: min, median", D_plain.min().round(4), np.median(D_plain).round(4))

# %% [markdown]
# ## Claim, part `patchwise-uniform`: BN reaches the patch-wise uniform margin, in $w^*$'s direction
#
# Assumption 3.1 is checked on the data first: $w^*$ must satisfy every equation to rounding. At $nP<d$ this
# holds almost surely, so it is a sanity check of the solver and the data, not evidence.

# %%
assumption_residual = np.abs(cao2023.raw_patch_margins(w_star, X, y) - 1).max(axis=(1, 2))
verdict.check("max over seeds, samples, patches of |<w*, y_i x_i^(p)> - 1| (Assumption 3.1 at nP < d)", assumption_residual, "<=", 1e-10,
              kind="sanity", aggregate="max")
cos_star = stats.cosine(cao2023.project_onto_span(bn.final_w, X), w_star)
verdict.check("fraction of seeds with D_patch,BN(T) <= 1e-15", D_bn <= 1e-15, ">=", fraction_threshold,
              kind="claim", part="patchwise-uniform", aggregate="fraction")
verdict.check("fraction of seeds with 1 - cos(P_X w_BN(T), w*) <= 1e-10", 1 - cos_star <= 1e-10, ">=", fraction_threshold,
              kind="claim", part="patchwise-uniform", aggregate="fraction")
verdict.measure("max over seeds of D_patch,BN(T)", D_bn.max())
verdict.measure("max over seeds of 1 - cos(P_X w_BN(T), w*)", (1 - cos_star).max())

# %% [markdown]
# *Added after the first paper-scale result (a measurement, not a check; a deviation says so).* That run left 5 of 80
# seeds between $10^{-15}$ and $10^{-11}$ at $T$. Theorem 3.2's exponent contains
# $\kappa=\lambda_{\min}/\lambda_{\max}^{3/2}$ of $\Sigma$ on $X$; with $nP/d=0.8$ the smallest eigenvalue varies a lot between
# data sets. We measure whether the slow seeds are the badly conditioned ones (rank 1 = smallest $\kappa$), and the
# rank correlation between $\kappa$ and $\log D_{\rm patch}(T)$.

# %%
flat_main = X.reshape(len(seeds), n * P, d)
spectrum = np.linalg.eigvalsh(flat_main @ flat_main.transpose(0, 2, 1) / (n * P))  # the nonzero spectrum of Sigma (nP < d)
kappa = spectrum[:, 0] / spectrum[:, -1] ** 1.5
kappa_rank = np.argsort(np.argsort(kappa)) + 1
slow = D_bn > 1e-15
print(f"seeds above 1e-15 at T: {int(slow.sum())}; their kappa ranks (1 = smallest of {len(seeds)}): {sorted(kappa_rank[slow].tolist())}")
verdict.measure("post hoc: number of seeds with D_patch,BN(T) > 1e-15", slow.sum())
verdict.measure("post hoc: largest kappa rank (1 = smallest kappa) among the seeds with D_patch,BN(T) > 1e-15",
                kappa_rank[slow].max() if slow.any() else 0)
verdict.measure("post hoc: Spearman correlation of kappa and log10 D_patch,BN(T) over seeds",
                stats_scipy.spearmanr(kappa, np.log10(D_bn)).statistic)

# %% [markdown]
# ## Over-determined data ($nP=2d$): where Assumption 3.1 can hold or fail
#
# Both over-determined data sets are trained in one batched run (same sizes): Example 3.1's patches
# $yu+\xi^{(p)}$, $\xi^{(p)}\perp u$, $\sigma=$`sigma_over` (Assumption 3.1 holds: $u/\|u\|^2$ solves every equation),
# and Gaussian patches (it fails). The regime check asks the least-squares $w^*$ to solve every equation of the
# first set to $10^{-10}$; on the second set the same residual, and the floor of $D_{\rm patch}$, are measured.

# %%
shared = Example31(d=d_over, P=P, sigma=sigma_over)
X_shared, y_shared = shared.training_sets(overdetermined_seeds, n_over)
X_generic, y_generic, w0_generic = gaussian_classification(generic_seeds, n_over, d_over, w0_scale, patches=P)
X_over, y_over = np.concatenate([X_shared, X_generic]), np.concatenate([y_shared, y_generic])
w0_over = np.concatenate([initial_weights(overdetermined_seeds, n_over, d_over, w0_scale), w0_generic])
over = cao2023.train(X_over, y_over, w0_over, lr=lr, steps=steps_over, batchnorm=True)
k = len(overdetermined_seeds)
residual_over = np.abs(cao2023.raw_patch_margins(cao2023.min_norm_interpolator(X_over, y_over), X_over, y_over) - 1).max(axis=(1, 2))
floor_over = patchwise.uniformity_floor(X_over, y_over)
D_shared, D_generic = over.discrepancy[-1, :k], over.discrepancy[-1, k:]
cos_u = stats.cosine(over.final_w[:k], shared.u)
print(f"n={n_over}, P={P}, d={d_over} (nP = {n_over * P}); Assumption 3.1 residual: shared-signal max {residual_over[:k].max():.2e}, "
      f"generic min {residual_over[k:].min():.3f}")
print(f"floor of D_patch: shared-signal max {floor_over[:k].max():.2e}, generic min {floor_over[k:].min():.3f}")
print(f"D_patch,BN(T): shared-signal max {D_shared.max():.3g}, generic / floor median {np.median(D_generic / floor_over[k:]):.4f}")
verdict.check("over-determined, shared-signal data: max over seeds of |<w*, y_i x_i^(p)> - 1| (Assumption 3.1 at nP = 2d)",
              residual_over[:k], "<=", 1e-10, kind="regime", aggregate="max")
verdict.measure("over-determined, generic data: min over seeds of the Assumption 3.1 residual (it fails)", residual_over[k:].min())
verdict.measure("over-determined, generic data: min over seeds of the floor of D_patch", floor_over[k:].min())
verdict.check("fraction of over-determined seeds with D_patch,BN(T) <= 1e-15", D_shared <= 1e-15, ">=", fraction_threshold,
              kind="claim", part="overdetermined", aggregate="fraction")
verdict.check("fraction of over-determined seeds with 1 - cos(w_BN(T), u) <= 1e-10", 1 - cos_u <= 1e-10, ">=", fraction_threshold,
              kind="claim", part="overdetermined", aggregate="fraction")
verdict.measure("over-determined, shared-signal data: max over seeds of D_patch,BN(T)", D_shared.max())
verdict.check("generic over-determined data: min over seeds of D_patch,BN(T) / floor (no w goes below the floor)",
              D_generic / floor_over[k:], ">=", 1 - 1e-9, kind="sanity", aggregate="min")
verdict.measure("generic over-determined data: median over seeds of D_patch,BN(T) / floor", np.median(D_generic / floor_over[k:]))

# %% [markdown]
# ## Claim, part `rate`: the rate is faster than any power law
#
# The log-log slope of $D_{\rm patch}$ between its first crossings of $10^{-12}$ and $10^{-15}$ against that between
# $10^{-3}$ and $10^{-6}$: a power law has ratio 1; $\exp(-c\ln^2(at))$ has local slope $-2c\ln(at)$, so the ratio is the
# ratio of $\ln(at)$ at the two windows ($>1$, growing with the gap in $t$). The threshold 1.25 is a quarter of the
# way to the pilot's smallest values and well above 1. Straight-line fits of $\ln D_{\rm patch}$ on
# $D\in[10^{-15},10^{-3}]$ against $\ln^2(\eta Pt+1)$ (Theorem 3.2's time scale is $\eta Pt$) and against $\ln t$.
# A seed that never reaches $10^{-15}$ counts as a failure.

# %%
slope_early = patchwise.crossing_slopes(bn.discrepancy, 1e-3, 1e-6)
slope_late = patchwise.crossing_slopes(bn.discrepancy, 1e-12, 1e-15)
ratio = slope_late / slope_early
r2_log2, r2_power = cao2023.rate_fits(bn.discrepancy, lr * P, upper=1e-3, lower=1e-15)
print("late/early slope ratio: min, median", np.nanmin(ratio).round(3), np.nanmedian(ratio).round(3))
print("R^2 ln D ~ ln^2(lr P t + 1): min", np.nanmin(r2_log2).round(5), "; R^2 ln D ~ ln t: max", np.nanmax(r2_power).round(5))
verdict.check("fraction of seeds with late/early log-log slope ratio >= 1.25", ratio >= 1.25, ">=", fraction_threshold,
              kind="claim", part="rate", aggregate="fraction")
verdict.check("fraction of seeds with R^2 of ln D_patch on ln^2(lr P t+1) >= 0.99", r2_log2 >= 0.99, ">=", fraction_threshold,
              kind="claim", part="rate", aggregate="fraction")
verdict.check("fraction of seeds where the ln^2 fit beats the power-law fit (R^2)", r2_log2 > r2_power, ">=", fraction_threshold,
              kind="claim", part="rate", aggregate="fraction")
verdict.measure("min over seeds of the late/early slope ratio", np.nanmin(ratio) if np.isfinite(ratio).any() else np.nan)
verdict.measure("min over seeds of R^2(ln^2 fit) - R^2(power-law fit)", np.nanmin(r2_log2 - r2_power) if np.isfinite(r2_log2).any() else np.nan)

# %% [markdown]
# ## Claim, part `not-uniform-without-bn`: without BN, and at the max-margin solution, the margins are not patch-uniform
#
# $D_{\rm patch}\ge0.5$ means the patch margins have a standard deviation of at least half their root mean
# square: far from uniform, and more than ten orders of magnitude above BN's value. Plain GD heads to $w_{\max}$
# (Soudry et al.), which we follow through $\cos(w_{\rm noBN},w_{\max})$. How it can fail: data on which the
# max margin is patch-uniform (e.g. identical patches) would give $D_{\rm patch}(w_{\max})=0$.

# %%
cos_max = stats.cosine(plain.w, w_max.w[None])  # (snapshots, seeds)
verdict.check("fraction of seeds with D_patch(w_max) >= 0.5", D_max >= 0.5, ">=", fraction_threshold,
              kind="claim", part="not-uniform-without-bn", aggregate="fraction")
verdict.check("fraction of seeds with D_patch,noBN(T) >= 0.5", D_plain >= 0.5, ">=", fraction_threshold,
              kind="claim", part="not-uniform-without-bn", aggregate="fraction")
verdict.measure("min over seeds of D_patch(w_max)", D_max.min())
verdict.measure("min over seeds of D_patch,noBN(T)", D_plain.min())
verdict.measure("min over seeds of cos(w_noBN(T), w_max)", cos_max[-1].min())

# %% [markdown]
# ## Claim, part `sample-vs-patch`: sample-uniform is not patch-uniform
#
# When every sample is a support vector of $w_{\max}$, all $y_i\langle w_{\max},\bar x_i\rangle=1$: the max-margin
# classifier is then uniform *over samples* (the linear model's notion), yet its patch margins stay spread.
# This is what makes the CNN result differ from the linear one.

# %%
all_sv = w_max.n_support == n
verdict.measure("number of seeds where every sample is a support vector of w_max", all_sv.sum())
verdict.check("number of seeds with a sample-uniform w_max (>= 36 lets a fraction be decided against 0.9)", all_sv.sum(), ">=", 36,
              kind="control", part="sample-vs-patch")
if all_sv.any():
    verdict.check("max over those seeds of sample-level D(w_max)", D_max_sample[all_sv], "<=", 1e-20,
                  kind="sanity", aggregate="max")
verdict.check("fraction of those seeds with D_patch(w_max) >= 0.5", D_max[all_sv] >= 0.5 if all_sv.any() else [np.nan], ">=",
              fraction_threshold, kind="claim", part="sample-vs-patch", aggregate="fraction")
print(f"{int(all_sv.sum())} of {len(seeds)} seeds have a sample-uniform w_max; min D_patch(w_max) on them "
      f"{D_max[all_sv].min() if all_sv.any() else float('nan'):.3f}")

# %% [markdown]
# ## Claim, part `loss-rate`: the loss rate; sanity: $\|w\|$ never decreases
#
# Theorem 3.2 bounds $L$ between $C_1/(\eta P(t-t_0+1))$ and $C_2/(\eta P(t-t_0+1))$ with unknown constants and
# $t_0$. Its testable content on a finite run: $1/(\eta PL)$ grows linearly in $t$ for $t\ge t_0$; we fit a line on
# $t\ge$ `asymptotic_from` and require $R^2\ge0.999$ (an exponential or $\ln t$-like decay of $L$ gives far less).
# Sharper, derived here (not in the paper): once every patch margin is 1, $yg=\gamma P$, $L\approx e^{-\gamma P}$ and
# $\gamma$ grows by $\eta Pe^{-\gamma P}$ per step, so $e^{\gamma P}\approx\eta P^2t$: the slope of $1/(\eta PL)$ is $P$
# (a measurement). The gradient is orthogonal to $w$ ($g$ is 0-homogeneous in $w$), so $\|w\|$ never decreases
# (Lemma 4.4's argument; $10^{-12}$ relative rounding allowed).

# %%
r2_loss, loss_slope = patchwise.loss_rate_fits(bn.loss, lr, P, asymptotic_from)
print("R^2 of 1/(lr P L) linear in t: min", r2_loss.min().round(7), "; slope / P: median", np.median(loss_slope / P).round(4))
verdict.check(f"fraction of seeds with R^2 of 1/(lr P L(t)) linear in t (t>={asymptotic_from}) >= 0.999", r2_loss >= 0.999, ">=",
              fraction_threshold, kind="claim", part="loss-rate", aggregate="fraction")
verdict.check("min over t and seeds of relative change of ||w_t||", (np.diff(bn.w_norm, axis=0) / bn.w_norm[:-1]).min(axis=0), ">=", -1e-12,
              kind="sanity", aggregate="min")
verdict.measure("max over seeds of |slope of 1/(lr P L) / P - 1|", np.abs(loss_slope / P - 1).max())

# %% [markdown]
# ## Sensitivity to the step size and the initialization scale (measurements)
#
# The same data and initial directions (the first `sensitivity_seeds`), every pair of $\eta$ and $\|w_0\|$ in one
# batched run of `sensitivity_steps` steps. Reported: the median $\log_{10}D_{\rm patch}(T)$, the fraction of seeds
# reaching $10^{-15}$, and how much $\|w\|$ grew (Lemma 4.4: by $O(\eta^2)$ per step, a jump that slows the
# effective step $\eta/\|w\|^2$). Theorem 3.2 assumes $\eta\le\bar\eta$ and $\|P_Xw_0\|\le M$ without giving them,
# so none of these cells can contradict it; they show where our budget leaves its regime.

# %%
X_s, y_s, direction = gaussian_classification(sensitivity_seeds, n, d, 1.0, patches=P)
panel = patchwise.sensitivity(X_s, y_s, direction, lrs=sensitivity_lrs, w0_scales=sensitivity_w0_scales, steps=sensitivity_steps)
log10_final = np.log10(np.maximum(panel.final_discrepancy, 1e-300))
for a, eta in enumerate(sensitivity_lrs):
    for b, scale_w0 in enumerate(sensitivity_w0_scales):
        cell = f"lr={eta:g}, ||w0||={scale_w0:g}"
        verdict.measure(f"sensitivity {cell}: median log10 D_patch(T)", np.median(log10_final[a, b]))
        verdict.measure(f"sensitivity {cell}: fraction of seeds with D_patch(T) <= 1e-15", np.mean(panel.first_step[1e-15][a, b] >= 0))
        verdict.measure(f"sensitivity {cell}: median ||w_T|| / ||w_0||", np.median(panel.norm_growth[a, b]))
        print(f"{cell:26s} median log10 D(T) {np.median(log10_final[a, b]):7.2f}, reach 1e-15 on "
              f"{int((panel.first_step[1e-15][a, b] >= 0).sum())}/{len(sensitivity_seeds)}, ||w_T||/||w_0|| {np.median(panel.norm_growth[a, b]):.3g}")

# %% [markdown]
# ## Figures: $D_{\rm patch}(t)$ with and without BN, the margins at the end, and the sensitivity panel
#
# Left: median and 10-90 % band over seeds of $D_{\rm patch}(t)$. Middle: the normalized margins of one seed where
# $w_{\max}$ is sample-uniform, per classifier: every patch (left of each pair) and every sample
# ($y_i g(w,1,x_i)/P$, the mean of its patch margins; right). Right: the sensitivity panel.

# %%
shown = int(np.flatnonzero(all_sv)[0]) if all_sv.any() else 0
steps_axis = np.arange(1, steps + 1)
fig, (ax, ax_m, ax_s) = plt.subplots(1, 3, figsize=(17, 4.4), gridspec_kw={"width_ratios": [1.1, 1, 0.9]})
for label, run, colour in [("BN", bn, "C0"), ("no BN", plain, "C1")]:
    lo, mid, hi = np.quantile(run.discrepancy[1:], [0.1, 0.5, 0.9], axis=1)
    ax.loglog(steps_axis, mid, color=colour, label=f"{label} (median)")
    ax.fill_between(steps_axis, lo, hi, color=colour, alpha=0.25)
ax.axhline(np.median(D_max), color="C2", ls=":", label=r"$D_{\rm patch}(w_{\max})$ (median)")
ax.set(xlabel="step t", ylabel=r"$D_{\rm patch}(w_t)$", title=f"n={n}, P={P}, d={d}, {len(seeds)} seeds")
ax.legend()

level_colours = sns.color_palette(n_colors=2)
for j, (_label, w) in enumerate([("BN-GD", bn.final_w), ("no-BN GD", plain.final_w), ("max margin", w_max.w)]):
    m = cao2023.patch_margins(w[shown : shown + 1], X[shown : shown + 1], y[shown : shown + 1])[0]  # (n, P)
    for offset, values, colour, level in [(-0.18, m.ravel(), level_colours[0], "patches"), (0.18, m.mean(axis=1), level_colours[1], "samples")]:
        spread = np.linspace(-0.12, 0.12, values.size)  # deterministic jitter
        ax_m.scatter(j + offset + spread, values, s=9, color=colour, label=level if j == 0 else None)
ax_m.set_xticks(range(3), ["BN-GD", "no-BN GD", "max margin"])
ax_m.legend(title="margins of")
ax_m.set(ylabel=r"normalized margin $y\langle w,x\rangle/\|w\|_\Sigma$", xlabel="",
         title=f"seed {seeds[shown]}: w_max has {w_max.n_support[shown]}/{n} support vectors")

sns.heatmap(np.median(log10_final, axis=-1), annot=True, fmt=".1f", cmap="viridis_r", ax=ax_s,
            xticklabels=[f"{s:g}" for s in sensitivity_w0_scales], yticklabels=[f"{e:g}" for e in sensitivity_lrs],
            cbar_kws={"label": r"median $\log_{10}D_{\rm patch}(T)$"})
ax_s.set(xlabel=r"$\|w_0\|$", ylabel=r"step size $\eta$", title=f"after {sensitivity_steps} steps, {len(sensitivity_seeds)} seeds")
verdict.figure(fig, "patch-margin-discrepancy")
plt.show()

# %% [markdown]
# ## Deviations from the paper

# %%
verdict.deviation(
    "The paper runs no experiment for Theorem 3.2; the data (Gaussian patches with nP < d; over-determined "
    "data at nP = 2d), lr, w0 ~ N(0, I/d) scaled to ||w0|| ~ "
    f"{w0_scale} and the number of steps are our choices, small as the theorem asks "
    "(||P_X w0|| <= M and eta <= eta_bar, both unspecified polynomially small constants)."
)
verdict.deviation(
    "Sigma is the uncentred second moment over all patches (the theorem's formula after its centring "
    "assumption), not a BN layer with mean subtraction."
)
verdict.deviation(
    "The constants C1..C4, M, eta_bar and t0 are not given; the loss check tests the Theta(1/(eta P t)) form "
    "(1/L linear in t for t >= asymptotic_from) rather than the constants."
)
corner = (len(sensitivity_lrs) - 1, len(sensitivity_w0_scales) - 1)
verdict.deviation(
    "Sensitivity (measured, not a check): with the largest step and initialization of the panel "
    f"(lr = {sensitivity_lrs[-1]:g}, ||w0|| = {sensitivity_w0_scales[-1]:g}) the median D_patch after {sensitivity_steps} "
    f"steps is 10^{np.median(log10_final[corner]):.1f}, against 10^{np.median(log10_final[0, 0]):.1f} at lr = "
    f"{sensitivity_lrs[0]:g}, ||w0|| = {sensitivity_w0_scales[0]:g}. Theorem 3.2 holds only below unstated eta_bar and M "
    "(and its exponent scales like 1/||P_X w0||^2), so this is a statement about our budget's regime, not "
    "evidence against the theorem; the claim is decided at the small step and initialization."
)
verdict.deviation(
    "Version 1 decided every check on the worst case over 5 seeds at T = 1e5; version 2 decides fractions of "
    f"{len(seeds)} seeds at T = {steps} ({len(overdetermined_seeds)} over-determined) against {fraction_threshold} with exact binomial intervals, and adds the "
    "over-determined cases (the Assumption 3.1 test could not fail at nP < d) and the sensitivity panel."
)
verdict.deviation(
    "Added after the first paper-scale result (commit of the result record): the measurements of kappa = "
    "lambda_min/lambda_max^1.5 for the seeds that had not reached 1e-15 at T (post hoc, measurements only; no check changed)."
)
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
