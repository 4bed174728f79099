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
# # cao2023/uniform-margin: BN makes gradient descent converge to a *uniform* margin, fast
#
# > "We show that when learning a linear model with batch normalization for binary classification,
# > gradient descent converges to a uniform margin classifier on the training data with an
# > $\exp(-\Omega(\log^2 t))$ convergence rate. This distinguishes linear models with batch normalization
# > from those without batch normalization in terms of both the type of implicit bias and the convergence
# > rate." (Cao, Zou, Li & Gu, COLT 2023, abstract; **Theorem 2.2** and **Figure 1**)
#
# **Model** (eq. 2.1-2.2): $f(w,\gamma,x)=\gamma\langle w,x\rangle/\|w\|_\Sigma$ with
# $\Sigma=X^\top X/n$, logistic loss, full-batch GD on $(w,\gamma)$ from $\gamma^{(0)}=1$.
# **Margin discrepancy** $D(w)=n^{-2}\sum_{i,i'}(m_{i'}-m_i)^2$ of the normalized margins
# $m_i=y_i\langle w,x_i\rangle/\|w\|_\Sigma$; $D=0$ is a uniform margin. Theorem 2.2: after a warm-up $t_0$,
# $L=\Theta(1/(\eta t))$ and
# $D(w^{(t)})\le\frac{C_3\lambda_{\max}}{\lambda_{\min}}\exp\big[-\frac{C_4\lambda_{\min}}{\lambda_{\max}^{3/2}\|P_Xw^{(0)}\|^2}\log^2(\tfrac89\eta(t-t_0)+1)\big]$:
# the coefficient of $\log^2$ does not depend on $\eta$ and **grows as the initialization $\|P_Xw^{(0)}\|$ shrinks**
# (as $\|P_Xw^{(0)}\|^{-2}$ in the bound). Without BN, GD converges to the max-margin direction at rate
# $O(1/\log t)$ (Soudry et al. 2018). Definitions and pitfalls: `docs/papers/cao2023.md`.
#
# **What we run** (one batched float64 GD loop over all seeds, in an orthonormal basis of $X=\mathrm{span}\{x_i\}$,
# where GD moves $w$; see `bnrepro.cao2023.uniform`). Gaussian data with $d=2n$, a regime where the max-margin
# classifier is *not* uniform (some points are not support vectors), so the two biases differ. On every seed:
# BN-GD and plain GD from the same $w_0$ ($\|w_0\|\approx1$, $\eta=0.01$, $10^5$ steps), the exact max-margin
# $w_{\max}$ (Clarabel + float64 KKT polish), $w^*=Z^+\mathbf 1$ (the min-norm uniform-margin solution), and BN
# runs from smaller initializations ($\|w_0\|\approx0.3$ and $0.1$).
#
# ## Checks (pre-registered before the paper-scale run; verdict version 2)
# Every check over seeds is a **fraction of seeds** with its exact (Clopper-Pearson) 95 % interval, decided
# against the threshold; worst cases (min/max, no interval) only for the Lemma 4.6 bounds, the sanity check and
# the 5-seed Figure 1 replica. **Why 0.9 for the claim fractions:** Theorem 2.2 holds for every dataset that meets
# Assumption 2.1, for small enough $\eta$ and $\|P_Xw^{(0)}\|$; its thresholds $\bar\eta$, $M$ depend on the data
# ($\lambda_{\min}$, $\max\|x_i\|$), so our fixed $\eta$ and init may fall outside them on a few draws. We ask for
# the property on a large majority (90 %) of draws: a check fails if it fails on more than about one draw in ten.
# With 100 seeds a fraction of 100/100 has the interval [0.964, 1] and 96/100 still decides (lower end 0.901).
#
# - part **`uniform-margin`**, *claim*: $D_{BN}(T)\le10^{-15}$ and $1-\cos(P_Xw_{BN}(T),w^*)\le10^{-10}$ (each on a
#   fraction $\ge0.9$ of seeds; the second follows from a uniform margin when $Z$ is well conditioned, but can
#   fail numerically). *Control*: without BN the margin is **not** uniform, $D_{noBN}(T)\ge0.01$ on a fraction
#   $\ge0.9$ of seeds (the same measurement where the effect should be absent; it fails where max margin is
#   itself uniform, e.g. at $d=1000$, see Figure 1 below). Version 1's $D_{noBN}(T)/D(w_{\max})\ge\frac12$ could
#   not fail: it stays a measurement.
# - part **`rate`**, *claim*: on the window where $D$ falls from $10^{-3}$ to $10^{-18}$ (above the float64 floor
#   $\approx10^{-27}$), on log-spaced steps, the straight-line fit of $\ln D$ on $\ln^2(\eta t+1)$ (the theorem's
#   rate) explains more variance ($R^2$) than the fit of $\ln D$ on $\ln t$ (a power law $t^{-a}$), on a fraction
#   $\ge0.9$ of seeds; the $\ln^2$ fit has $R^2\ge0.99$ on a fraction $\ge0.9$; the log-log slope steepens
#   (chord slope between the first crossings of $10^{-12}$ and $10^{-15}$ steeper than between $10^{-3}$ and
#   $10^{-6}$; a power law has ratio 1) on a fraction $\ge0.9$. *Control*: the same $\ln^2$-vs-power comparison on
#   plain GD's direction error $\delta(t)=\|P_Xw_t/\|P_Xw_t\|-w_{\max}/\|w_{\max}\|\|$ for $t\in[10^3,T]$, a curve
#   that decays like $1/\log t$ (slower than any power): the $\ln^2$ fit must win on a fraction $<0.5$ of seeds,
#   or the comparison cannot tell a super-polynomial rate from any decaying curve. Version 1's rate decision
#   (minimum over 5 seeds of the slope ratio $\ge1.5$, a pilot-chosen bar: 1.99 on its seeds, 1.47 on others)
#   stays visible as measurements (minimum, median and fraction $\ge1.5$ over all seeds).
# - part **`no-bn`** (the other bias and the other rate), *claim*: $1/\delta(t)$ is linear in $\ln t$ (Soudry et
#   al.: $w_t=\hat w\ln t+\rho_t$ with $\rho_t$ bounded, so $\delta\approx c/\ln t$): $R^2\ge0.99$ with a positive
#   slope on $t\in[10^3,T]$, on a fraction $\ge0.9$ of seeds; and the $1/\log t$ model fits $\ln\delta$ better
#   (smaller residual sum of squares) than a power law, on a fraction $\ge0.9$ (the $1/\log t$ line is fitted to
#   $1/\delta$, not to $\ln\delta$, which favours the power law). *Control*: the max-margin classifier is not
#   uniform, $D(w_{\max})\ge10^{-3}$, on a fraction $\ge0.9$ of seeds; otherwise "heads to $w_{\max}$" and
#   "heads to a uniform margin" cannot be told apart. These checks fail on a power-law approach ($1/\delta$ would
#   grow like $t^a$, not linearly in $\ln t$) or on a curve that stalls.
# - part **`init-dependence`**, *claim*: the fitted coefficient $c$ of $\ln D\approx a-c\ln^2(\eta t+1)$ grows as the
#   init shrinks, at a fixed step: $c(0.3)>c(1)$ at $\eta=0.01$, and $c(0.1)>c(0.3)$ at $\eta=0.001$, each on a
#   fraction $\ge0.9$ of seeds (paired: same data and init direction). How it can fail: if the $\log^2$ phase were
#   set by the growth of $\gamma$ alone, $c$ would not depend on the init (fractions near 1/2); if a smaller init
#   made $\|w\|$ jump early (Lemma 4.4's $\eta^2$ term), the effective init would be larger and $c$ could even
#   fall. Why $\eta=0.001$ for the smaller pair: the theorem asks $\eta\le\bar\eta$, which shrinks with
#   $\|P_Xw^{(0)}\|$; at $\eta=0.01$ and $\|w_0\|=0.1$ a pilot found $D$ oscillating and the $\ln^2$ fit breaking down
#   (median $R^2$ 0.49; $\|P_Xw\|$ jumped from 0.07 to 0.13). That run is kept here as a measurement. The
#   theorem's exponent ($c\propto\|P_Xw^{(0)}\|^{-2}$ for the bound) and the $\eta$-independence of $c$ are
#   measurements (the bound need not be tight).
# - part **`lemma-4.6`**, *claim* (worst case over seeds): for $t\ge10^4\gg t_0$, $\eta tL\in[\frac1{40},12]$ and
#   $\gamma-\ln(\eta t)\in[-\ln8,\ln8]$ (Lemma 4.6's bounds with the unknown $t_0$ dropped).
# - *sanity*: $\|P_Xw_t\|$ never decreases, in every BN run (Lemma 4.4: the $w$-gradient is orthogonal to $w$).
# - part **`figure-1`**, *claim* (worst case over its 5 seeds): in the Figure 1 replica ($n=50$, $d=1000$) BN's
#   normalized margins merge (spread $<10^{-6}$) and plain GD's stay spread ($>5\%$ of their mean) at $T=20000$.
#
# **Pilot** (seeds 5 000 000-5 000 049 and 5 000 100-5 000 111, never the registry's or the replicate's): at this
# scale every claim fraction read 50/50 (the $\ln^2$ fit beat the power law on every seed, $R^2\ge0.993$; slope
# ratios 1.75-3.1; $1/\delta$ linear with $R^2\ge0.996$; the $1/\log t$ model beat the power law on every seed;
# $c(0.3)>c(1)$ and $c(0.1)>c(0.3)$ on every seed, medians 1.9, 8.2 and 73), the control fraction 0/50, and
# $D(w_{\max})\ge0.006$. The pilot informed the seed count (100: room for a few failing draws at the 0.9 bar), the
# step of the small-init pair ($\eta=0.001$, above), the no-BN window start ($10^3$), `sweep_steps` and
# `fast_sweep_steps`; the 0.9 and 0.5 bars come from the argument above, not from the pilot.

# %% tags=["parameters"]
claim_id = "cao2023/uniform-margin"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3, 4]
threads = 1
n = 50
d = 100
steps = 100000
lr = 0.01
w0_scale = 1.0
small_init = 0.3
smaller_init = 0.1
small_lr = 0.001
sweep_steps = 20000
fast_sweep_steps = 5000
fit_upper = 1e-3
fit_lower = 1e-18
asymptotic_from = 10000
plain_from = 1000
fig1_seeds = [0, 1]
fig1_n = 50
fig1_d = 1000
fig1_steps = 20000

# %%
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from bnrepro import claims
from bnrepro import cao2023
from bnrepro.data import gaussian_classification

verdict = claims.open(
    claim_id,
    statement=(
        "Gradient descent on a linear model with batch normalization converges to a uniform-margin "
        "classifier at rate exp(-Omega(log^2 t)), with a rate constant that grows as the initialization shrinks; "
        "without BN it converges to the max-margin classifier at rate O(1/log t), a different bias and a slower rate."
    ),
    source="Theorem 2.2 and Figure 1 (Cao et al., COLT 2023)",
    evidence="full-text",
    stand_ins=[
        "data: Gaussian, d = 2n (ours), so that the max-margin classifier is not uniform",
        "constants: lr = 0.01, w0 ~ N(0, I/d) scaled to ||w0|| ~ 1, 0.3, 0.1 (0.1 at lr = 0.001), gamma0 = 1 "
        "(ours; the theorem's M, eta_bar, t0, C1..C4 are not given)",
        "model: Sigma = X^T X / n on the raw data (the theorem's formula after its centring assumption), no BN layer",
        "rate tests (ours): ln^2(lr t + 1) vs power-law fits of ln D on D in [1e-18, 1e-3]; chord slope ratio; "
        "no-BN rate as 1/delta linear in ln t on t in [1e3, T], delta the direction error of P_X w",
        "'on every dataset' (the theorem) as 'on at least 90 % of random draws'",
        "Lemma 4.6: its t >> t0 form for t >= asymptotic_from (t0 not given)",
        "Figure 1: learning rate and initialization as above (not stated in the paper)",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
print(f"{len(seeds)} seeds, n={n}, d={d}, steps={steps}, lr={lr}; numpy float64 on the CPU")

# %% [markdown]
# ## Train with and without BN, and the init sweep (all seeds in one batched update per step)

# %%
X, y, w0_direction = gaussian_classification(seeds, n, d, 1.0)
# (||w0||, lr, steps): the pilot's slowest window ended by step 1364, 12672, 1755 (the last run is a measurement)
sweep = [(small_init, lr, fast_sweep_steps), (small_init, small_lr, sweep_steps), (smaller_init, small_lr, fast_sweep_steps),
         (smaller_init, lr, fast_sweep_steps)]
result = cao2023.uniform.uniform_margin_experiment(
    X, y, w0_direction, w0_scale=w0_scale, lr=lr, steps=steps, sweep=sweep, upper=fit_upper, lower=fit_lower,
    asymptotic_from=asymptotic_from, plain_from=plain_from,
)
main = result.main
plain_final = result.plain_discrepancy[-1]
print("support vectors of w_max: min", result.n_support.min(), "max", result.n_support.max(), f"of n={n}")
print(f"D(w_max): min {result.max_margin_discrepancy.min():.4f}, median {np.median(result.max_margin_discrepancy):.4f}")
print(f"D_BN(T): max {main.final_discrepancy.max():.3g};  D_noBN(T): min {plain_final.min():.4f}")

# %% [markdown]
# ## Part `uniform-margin`: BN reaches the uniform margin $w^*$; without BN the margin stays non-uniform

# %%
verdict.check("fraction of seeds with D_BN(T) <= 1e-15", main.final_discrepancy <= 1e-15, ">=", 0.9,
              kind="claim", part="uniform-margin", aggregate="fraction")
verdict.check("fraction of seeds with 1 - cos(P_X w_BN(T), w*) <= 1e-10", 1 - result.cos_uniform <= 1e-10, ">=", 0.9,
              kind="claim", part="uniform-margin", aggregate="fraction")
verdict.check("fraction of seeds with D_noBN(T) >= 0.01 (plain GD not uniform)", plain_final >= 0.01, ">=", 0.9,
              kind="control", part="uniform-margin", aggregate="fraction")
verdict.measure("max over seeds of D_BN(T)", main.final_discrepancy.max())
verdict.measure("min over seeds of D_noBN(T)", plain_final.min())
verdict.measure("min over seeds of D_noBN(T) / D(w_max) (version 1 check, >= 0.5)", np.min(plain_final / result.max_margin_discrepancy))

# %% [markdown]
# ## Part `rate`: faster than any power law, and the control on plain GD's (slow) approach
#
# Under $D\approx Ce^{-c\ln^2t}$ the log-log slope is $-2c\ln t$: it steepens, whereas a power law $t^{-a}$ has a
# constant slope. Both fits have two parameters and use the same log-spaced steps of each seed's window.

# %%
rate = main.rate
print(f"R^2 of ln^2 fit: min {np.nanmin(rate.r2_log_squared):.4f}, median {np.nanmedian(rate.r2_log_squared):.4f}; "
      f"power law: median {np.nanmedian(rate.r2_power):.4f}; seeds without a window: {int(np.sum(rate.first < 0))}")
verdict.check("fraction of seeds whose ln D ~ ln^2(lr t+1) fit beats the power-law fit (R^2)", rate.log_squared_wins,
              ">=", 0.9, kind="claim", part="rate", aggregate="fraction")
verdict.check("fraction of seeds with R^2 of ln D ~ ln^2(lr t+1) >= 0.99", np.nan_to_num(rate.r2_log_squared) >= 0.99,
              ">=", 0.9, kind="claim", part="rate", aggregate="fraction")
ratio = result.slope_ratio
verdict.check("fraction of seeds whose log-log slope steepens (late/early chord slope ratio > 1)", np.nan_to_num(ratio) > 1,
              ">=", 0.9, kind="claim", part="rate", aggregate="fraction")
verdict.check("no BN, direction error delta(t), t in [1e3, T]: fraction of seeds whose ln^2 fit beats the power law",
              result.plain_rate.log_squared_wins, "<", 0.5, kind="control", part="rate", aggregate="fraction")
verdict.measure("min over seeds of late/early slope ratio (version 1 check, >= 1.5)", np.nanmin(ratio))
verdict.measure("median over seeds of late/early slope ratio", np.nanmedian(ratio))
verdict.measure("fraction of seeds with late/early slope ratio >= 1.5", np.mean(np.nan_to_num(ratio) >= 1.5))
verdict.measure("median R^2 of ln D ~ ln^2(lr t+1)", np.nanmedian(rate.r2_log_squared))
verdict.measure("median R^2 of ln D ~ ln t (power law)", np.nanmedian(rate.r2_power))

# %% [markdown]
# ## Part `no-bn`: without BN, GD heads to the (non-uniform) max-margin direction at rate $1/\log t$

# %%
delta_T = result.plain_direction_error[-1]
print(f"delta(T): median {np.median(delta_T):.4f}; R^2 of 1/delta ~ ln t: min {result.inverse_log_r2.min():.4f}")
verdict.check("fraction of seeds with 1/delta linear in ln t (R^2 >= 0.99, slope > 0), t in [1e3, T]",
              (result.inverse_log_r2 >= 0.99) & (result.inverse_log_slope > 0), ">=", 0.9,
              kind="claim", part="no-bn", aggregate="fraction")
verdict.check("fraction of seeds where the 1/log t model fits ln delta better than a power law",
              result.inverse_log_rss < result.power_rss, ">=", 0.9, kind="claim", part="no-bn", aggregate="fraction")
verdict.check("fraction of seeds with D(w_max) >= 1e-3 (max margin is not uniform)", result.max_margin_discrepancy >= 1e-3,
              ">=", 0.9, kind="control", part="no-bn", aggregate="fraction")
verdict.measure("median over seeds of delta(T)", np.median(delta_T))
verdict.measure("median over seeds of cos(P_X w_noBN(T), w_max)", np.median(1 - delta_T**2 / 2))
verdict.measure("min over seeds of D(w_max)", result.max_margin_discrepancy.min())
verdict.measure("median over seeds of #support vectors of w_max", np.median(result.n_support))

# %% [markdown]
# ## Part `init-dependence`: the $\log^2$ coefficient grows as the initialization shrinks

# %%
runs = {(r.w0_scale, r.lr): r for r in result.sweep}
coef = {key: r.rate.log_squared_coef for key, r in runs.items()}  # nan where a run has no fit window: nan > x is False
for (scale_, step), r in runs.items():
    print(f"||w0|| ~ {scale_:g}, lr {step:g}: ||P_X w0|| {np.median(r.init_norm):.3f} -> ||P_X w_T|| {np.median(r.final_norm):.3f}; "
          f"c median {np.nanmedian(r.rate.log_squared_coef):.3g}; R^2 median {np.nanmedian(r.rate.r2_log_squared):.4f}")
verdict.check(f"fraction of seeds with c(||w0||={small_init:g}) > c({w0_scale:g}) at lr={lr:g}",
              coef[(small_init, lr)] > coef[(w0_scale, lr)], ">=", 0.9, kind="claim", part="init-dependence", aggregate="fraction")
verdict.check(f"fraction of seeds with c(||w0||={smaller_init:g}) > c({small_init:g}) at lr={small_lr:g}",
              coef[(smaller_init, small_lr)] > coef[(small_init, small_lr)], ">=", 0.9,
              kind="claim", part="init-dependence", aggregate="fraction")
for (big, small, step) in [(w0_scale, small_init, lr), (small_init, smaller_init, small_lr)]:
    exponent = np.log(coef[(small, step)] / coef[(big, step)]) / np.log(runs[(big, step)].init_norm / runs[(small, step)].init_norm)
    verdict.measure(f"median exponent of c ~ ||P_X w0||^-k, ||w0|| {big:g} -> {small:g} at lr={step:g} (bound: k = 2)",
                    np.nanmedian(exponent))
verdict.measure(f"median c(lr={lr:g}) / c(lr={small_lr:g}) at ||w0||={small_init:g} (theorem: c independent of lr)",
                np.nanmedian(coef[(small_init, lr)] / coef[(small_init, small_lr)]))
outside = runs[(smaller_init, lr)]
verdict.measure(f"||w0||={smaller_init:g} at lr={lr:g} (outside the small-step condition): median R^2 of the ln^2 fit",
                np.nanmedian(outside.rate.r2_log_squared))
verdict.measure(f"||w0||={smaller_init:g} at lr={lr:g}: median ||P_X w_T|| / ||P_X w0||", np.median(outside.final_norm / outside.init_norm))

# %% [markdown]
# ## Part `lemma-4.6`: loss and $\gamma$ follow Lemma 4.6; sanity: $\|P_Xw\|$ never decreases (Lemma 4.4)
#
# Lemma 4.6 (parts 3 and 6) bounds, for $t\ge t_0$, each sample's loss by $[\frac1{40},12]/(\eta(t-t_0)+1)$
# and $\gamma^{(t)}$ between $\log(\frac\eta8(t-t_0)+e^{\gamma^{(t_0)}})$ and $\log(8\eta(t-t_0)+2e^{\gamma^{(t_0)}})$.
# The paper does not give $t_0$; for $t\ge$ `asymptotic_from` $\gg t_0$ these read
# $\eta tL\in[\frac1{40},12]$ and $\gamma-\ln(\eta t)\in[-\ln8,\ln8]$. Sharper, derived here (not the paper's):
# once every margin is 1, $e^\gamma\approx\eta t$ and $\eta tL\to1$; reported as measurements.

# %%
low, high = result.eta_t_loss
verdict.check(f"min over t>={asymptotic_from} and seeds of lr*t*L(t)", low, ">=", 1 / 40,
              kind="claim", part="lemma-4.6", aggregate="min")
verdict.check(f"max over t>={asymptotic_from} and seeds of lr*t*L(t)", high, "<=", 12,
              kind="claim", part="lemma-4.6", aggregate="max")
verdict.check(f"min over t>={asymptotic_from} and seeds of gamma(t) - ln(lr t)", result.gamma_gap[0], ">=", -np.log(8),
              kind="claim", part="lemma-4.6", aggregate="min")
verdict.check(f"max over t>={asymptotic_from} and seeds of gamma(t) - ln(lr t)", result.gamma_gap[1], "<=", np.log(8),
              kind="claim", part="lemma-4.6", aggregate="max")
verdict.measure(f"max over t>={asymptotic_from} and seeds of |ln(lr*t*L(t))|", np.abs(np.log(result.eta_t_loss)).max())
verdict.measure(f"max over t>={asymptotic_from} and seeds of |gamma(t) - ln(lr t)|", np.abs(result.gamma_gap).max())
verdict.check("min over t, seeds and BN runs of the relative change of ||P_X w_t||", result.w_norm_min_increase, ">=", -1e-12,
              kind="sanity", aggregate="min")

# %% [markdown]
# ## Figures: $D(t)$ with and without BN, the rate, the init sweep and plain GD's $1/\log t$

# %%
shown = min(len(seeds), 5)
palette = sns.color_palette(n_colors=shown)
fig, axes = plt.subplots(2, 2, figsize=(12, 8))
ax, ax_rate, ax_sweep, ax_plain = axes.ravel()
t_rec = main.recorded_steps
for s, colour in enumerate(palette):
    ax.loglog(t_rec[1:], main.discrepancy[1:, s], color=colour, label="BN" if s == 0 else None)
    ax.loglog(t_rec[1:], result.plain_discrepancy[1:, s], color=colour, ls="--", label="no BN" if s == 0 else None)
    ax.axhline(result.max_margin_discrepancy[s], color=colour, ls=":", lw=1, label=r"$D(w_{\max})$" if s == 0 else None)
    ax_rate.semilogy(np.log(lr * t_rec + 1) ** 2, main.discrepancy[:, s], color=colour, label=f"seed {seeds[s]}")
    ax_plain.plot(np.log(result.plain_steps[1:]), 1 / result.plain_direction_error[1:, s], color=colour)
ax.set(xlabel="step t", ylabel="margin discrepancy D(w_t)", title=f"n={n}, d={d}: BN (solid), no BN (dashed), {shown} seeds")
ax.legend(fontsize=8)
ax_rate.set(xlabel=r"$\ln^2(\eta t+1)$", ylabel="D(w_t) with BN", title=r"straight line = $\exp(-c\,\ln^2 t)$ rate")
ax_rate.legend(fontsize=8)
for r in result.sweep:
    ax_sweep.semilogy(np.log(r.lr * r.recorded_steps + 1) ** 2, np.median(r.discrepancy, axis=1),
                      label=rf"$\|w_0\|$={r.w0_scale:g}, $\eta$={r.lr:g}")
ax_sweep.set(xlabel=r"$\ln^2(\eta t+1)$", ylabel="median D over seeds", xlim=(0, 25), ylim=(1e-32, 10),
             title="init sweep: steeper = larger coefficient c")
ax_sweep.legend(fontsize=8)
ax_plain.axvline(np.log(plain_from), color="grey", ls=":", lw=1)
ax_plain.set(xlabel=r"$\ln t$", ylabel=r"$1/\delta(t)$, no BN", title=r"no BN: $1/\delta$ linear in $\ln t$ = $1/\log t$ rate")
fig.tight_layout()
verdict.figure(fig, "margin-discrepancy")
plt.show()

# %% [markdown]
# ## Part `figure-1`: Figure 1 replica, per-sample margins, $n=50$, $d=1000$
#
# The paper plots $y_i\langle w^{(t)},x_i\rangle$ for each sample, with BN (a) and without (b), for 20000
# epochs of full-batch GD; it does not state the learning rate or the initialization (ours: as above).
# Caveat, measured below: at $d=1000\gg n$ every sample is a support vector, so the max-margin
# classifier is itself uniform. This figure alone therefore shows BN's faster *rate*, not a different
# *bias*; the $d=2n$ experiment above is the one that separates the biases. (Trained in span coordinates:
# the margins are the same.)

# %%
X1, y1, w01 = gaussian_classification(fig1_seeds, fig1_n, fig1_d, w0_scale)
X1_span, w01_span, _ = cao2023.uniform.reduce_to_span(X1, w01)
bn1 = cao2023.train(X1_span, y1, w01_span, lr=lr, steps=fig1_steps, batchnorm=True)
plain1 = cao2023.train(X1_span, y1, w01_span, lr=lr, steps=fig1_steps, batchnorm=False)
w_max1 = cao2023.max_margin(X1_span, y1)

bn_margins = cao2023.normalized_margins(bn1.final_w, X1_span, y1)
bn_spread = bn_margins.max(axis=-1) - bn_margins.min(axis=-1)
raw = plain1.margins[-1]
plain_rel_spread = (raw.max(axis=-1) - raw.min(axis=-1)) / raw.mean(axis=-1)
verdict.check("max over seeds of BN normalized-margin spread at T (Figure 1a)", bn_spread, "<", 1e-6,
              kind="claim", part="figure-1", aggregate="max")
verdict.check("min over seeds of no-BN margin spread / mean at T (Figure 1b)", plain_rel_spread, ">", 0.05,
              kind="claim", part="figure-1", aggregate="min")
verdict.measure("Figure 1 setting: min over seeds of #support vectors of w_max", w_max1.n_support.min())
verdict.measure("Figure 1 setting: max over seeds of D(w_max)", cao2023.margin_discrepancy(w_max1.w, X1_span, y1).max())
print("support vectors per seed:", w_max1.n_support.tolist(), f"of n={fig1_n}")

fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharex=True)
for ax, run, title in [(axes[0], bn1, "(a) with BN"), (axes[1], plain1, "(b) without BN")]:
    ax.plot(run.snapshot_steps, run.margins[:, 0, :], lw=0.8, alpha=0.8)
    ax.set(xlabel="epoch (full-batch GD step)", ylabel=r"$y_i\langle w_t, x_i\rangle$", title=f"{title}, seed {fig1_seeds[0]}")
fig.suptitle(f"Figure 1 replica: n={fig1_n}, d={fig1_d}, lr={lr}", y=1.02)
verdict.figure(fig, "figure1-replica")
plt.show()

# %% [markdown]
# ## Deviations from the paper, and from version 1 of this notebook

# %%
verdict.deviation(
    "The theorem's constants M, eta_bar, t0 and C1..C4 are not given; we use lr=0.01, w0 ~ N(0, I/d) scaled to "
    "||w0|| ~ 1 (0.3 and 0.1 in the sweep; 0.1 at lr=0.001, where the small-step condition holds), gamma0=1."
)
verdict.deviation(
    "Main experiment at d=2n (our choice) so that the max-margin classifier is not uniform; the paper's "
    "only experiment (Figure 1, d=1000) has every sample as a support vector (measured here), where "
    "max margin = uniform margin and only the rate differs."
)
verdict.deviation(
    "The model uses Sigma = X^T X / n on the raw Gaussian data (the theorem's formula after its "
    "centring assumption), not a BN layer with mean subtraction: with centring, a uniform margin "
    "exists only for exactly balanced labels."
)
verdict.deviation("Lemma 4.6's bounds involve an unknown t0; we check their t >> t0 form for t >= asymptotic_from.")
verdict.deviation("Figure 1's learning rate, initialization and precision are not stated; ours as above (float64).")
verdict.deviation(
    "Redesigned after version 1's paper-scale result was seen (issue 15): version 1 decided the rate by the minimum "
    "over 5 seeds of the late/early slope ratio >= 1.5 (1.99 on its seeds, 1.47 on other seeds) and counted "
    "D_noBN(T)/D(w_max) >= 0.5, which cannot fail, as evidence. Now: fractions of 100 seeds with exact intervals, "
    "a control on plain GD for the rate comparison, the 1/log t rate of plain GD, an init sweep; the version 1 "
    "statistics are kept as measurements."
)
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
