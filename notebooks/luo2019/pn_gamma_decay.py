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
# # luo2019/pn-gamma-decay: the expected BN loss is the PN loss plus a gamma decay $\zeta\gamma^2$, $\zeta=O(1/M)$
#
# > "First, by viewing BN as an implicit regularizer, BN can be decomposed into population normalization (PN)
# > and gamma decay as an explicit regularization."
# > (Luo, Wang, Shao & Peng, ICLR 2019, abstract)
#
# **Source availability.** Only the abstract, the start of §1 and Eq. (1) of the paper could be read (see
# `docs/papers/luo2019.md`). The paper's own decomposition formula could not be checked; what is tested here is
# the abstract-level claim through **our independent second-order derivation**, not the paper's theorem or
# numbers.
#
# **Model** (Eq. (1), verified): one neuron $\hat y=g(\gamma(h-\mu)/\sigma+\beta)$, $h=w^\top x$, square loss
# $\ell(z)=\tfrac12(g(z)-y)^2$. BN takes $\mu,\sigma$ from a mini-batch of $M$ samples (without replacement,
# ddof 0); PN takes them from the whole population of $P$ samples.
# **Derived prediction** (ours): at a PN-stationary $(\gamma^*,\beta^*)$ the first-order terms vanish and
# $$\Delta(M)=\mathbb E[L_{BN}]-L_{PN}\approx\zeta\gamma^{*2},\qquad
# \zeta M=\tfrac12\,\overline{\ell''}+\tfrac{\kappa-1}{8}\,\overline{\ell''u^2},$$
# $u$ the population-standardised $h$, $\kappa=\overline{u^4}$, $\ell''=g'^2+(g-y)g''$.
#
# **What we run**: $x\sim N(0.5,I_{d})$, teacher $y=g(w^{*\top}x/(3\sqrt d))+0.3\varepsilon$,
# student $w=w^*+N(0,I)$; $(\gamma^*,\beta^*)$ minimise $L_{PN}$ (Nelder-Mead); $\Delta(M)$ by **paired**
# Monte Carlo (BN and PN loss on the same samples) for several activations $g$ and seeds.
#
# **Checks** (verdict version 2). The first three parts keep version 1's thresholds; each of their checks is a worst
# case over the seeds (`aggregate="min"`/`"max"` of the per-seed values: no interval), "on every seed":
# - *regime*: the comparison point is PN-stationary (first-order contamination $|\nabla L_{PN}|/(\zeta M\gamma^*)\le1\%$
#   for every activation and seed; changed after the paper-scale result, see below);
# - *claim, part `decay-1-over-M`*: for every activation and seed, $\Delta>0$ at every $M$ and the log-log slope of
#   $\Delta$ in $M$ lies in $[-1.15,-0.85]$ (the abstract's gamma decay, $\zeta=O(1/M)$);
# - *claim, part `second-order-size`*: $M\Delta/\gamma^{*2}$ (pooled over $M$) is within ±10% of $\zeta M$ for the
#   smooth activations (±20% for ReLU, whose kink the smooth expansion misses), on every seed;
# - *claim, part `size-at-every-M`*: the same at every single $M$ up to three Monte Carlo standard errors (version 1
#   reported it as non-essential; it is evidence about the derived prediction, so it is now its own part);
# - *claim, part `gamma-squared`* (new in this version): the decomposition names its term a *gamma decay*, a penalty
#   $\zeta\gamma^2$ quadratic in $\gamma$. Checked at fixed data, fixed $\beta^*$ and fixed $M$, by measuring
#   $\Delta$ at $\gamma=c\,\gamma^*$ for $c\in[1/2,2]$: the ratio $R(\gamma)=M\Delta/(\gamma^2\,\zeta M(\gamma))$ of the
#   measurement to the gamma-decay form (with the derivation's own $\zeta$, which for a nonlinear $g$ depends on
#   $\gamma$ through $\ell''$) must stay flat: the log-log slope of $R$ in $\gamma$ within $\pm0.2$, i.e. $R$ drifting by at
#   most $2^{0.2}\approx15\%$ over a factor 2 either side of $\gamma^*$, comparable with the size tolerances above.
#   Mean over seeds with a t interval. The plain log-log slope of $\Delta$ in $\gamma$ (2 under the gamma-decay form) is
#   reported. How it can fail: our derivation only cancels the first-order terms *at* the PN optimum; away from it a
#   term linear in $\gamma$ reappears, and if it dominates, $\Delta$ is not a $\gamma^2$ decay. A pilot on seeds
#   5 000 000 - 5 000 002 (before this check was registered) found exactly that for linear $g$ (slope of $\Delta$ in
#   $\gamma$ = 1: for linear $g$ the $\gamma^2$ terms cancel identically, see the sanity check below) and slopes near
#   1.1 - 1.4 for softplus and ReLU; the check is registered as the issue states the claim, and is expected to fail.
# - *sanity*: for linear $g$, $\Delta(\gamma)/\gamma$ is the same at every $\gamma$ to rounding on the same batches (a
#   batch-standardised $\hat u$ has mean 0 and mean square exactly 1, so $\gamma^2$ cancels between BN and PN).
#
# **Seeds.** 8 (version 1: 4); the Monte Carlo costs a few seconds per activation, so the worst cases are taken over
# more seeds and the new part's t interval has 7 degrees of freedom.

# %% tags=["parameters"]
claim_id = "luo2019/pn-gamma-decay"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3, 4, 5, 6, 7]
threads = 1
n = 20000
d = 50
x_mean = 0.5
noise = 0.3
activations = ["linear", "softplus", "relu"]
batch_sizes = [8, 16, 32, 64, 128]
draws = 1000000
tolerance_smooth = 0.1
tolerance_relu = 0.2
gamma_factors = [0.5, 0.7071, 1.0, 1.4142, 2.0]
gamma_batch_size = 32
gamma_draws = 400000
gamma_slope_window = 0.2

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from bnrepro import claims
from bnrepro import stats
from bnrepro.luo2019 import decomposition as dec

verdict = claims.open(
    claim_id,
    statement=(
        "Abstract-level claim checked through a derived formulation (the paper's body, and so its exact "
        "decomposition formula, could not be read): for a single BN neuron at a PN-stationary (gamma, beta), "
        "the expected BN loss equals the population-normalization loss plus a gamma decay zeta*gamma^2 with "
        "zeta = O(1/M), matching the second-order prediction zeta*M = mean(l'')/2 + (kappa-1)/8 mean(l'' u^2)."
    ),
    source="Abstract; Eq. (1) (verified); the decomposition formula derived independently (the paper's could not be read)",
    evidence="abstract",
    stand_ins=[
        "decomposition: our second-order derivation Delta(M) ~ zeta*gamma^2 with zeta*M = mean(l'')/2 + "
        "(kappa-1)/8 mean(l'' u^2), at a PN-stationary (gamma, beta) (the paper's formula is a recollection)",
        "data: teacher-student Gaussian population x ~ N(0.5, I_d), P samples (ours)",
        "the gamma-decay form: Delta at fixed data, beta* and M over gamma in [gamma*/2, 2 gamma*] against zeta(gamma) "
        "gamma^2 (our reading of 'gamma decay as an explicit regularization')",
        "expectation over batches: paired Monte Carlo of batches drawn without replacement",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
tol = {a: (tolerance_relu if a == "relu" else tolerance_smooth) for a in activations}
m_arr = np.array(batch_sizes, float)
print(f"P={n}, d={d}, M={batch_sizes}, ~{draws} sample-draws per (seed, M); numpy float64")

# %% [markdown]
# ## Fit the PN optimum and measure $\Delta(M)$ (paired Monte Carlo)
#
# Batches are consecutive blocks of $M$ in random permutations of the population (no sample twice in a batch);
# the standard error is that of the mean of the per-batch paired differences.

# %%
results = {}
started = time.perf_counter()
for act in activations:
    pop = dec.population(seeds, n, d, act, x_mean=x_mean, noise=noise)
    gamma, beta = dec.fit_pn(pop.h, pop.y, act)
    grad = np.abs(np.stack(dec.pn_gradient(pop.h, pop.y, gamma, beta, act))).max(0)
    zeta_m = dec.zeta_times_m(pop.h, pop.y, gamma, beta, act)
    delta, err = dec.paired_delta(pop, gamma, beta, batch_sizes, draws=draws, seeds=seeds)
    ratio = m_arr * delta / gamma[:, None] ** 2 / zeta_m[:, None]  # measured / predicted, (S, len(M))
    ratio_err = m_arr * err / gamma[:, None] ** 2 / zeta_m[:, None]
    wts = 1 / ratio_err**2
    pooled = (ratio * wts).sum(1) / wts.sum(1)
    sweep = dec.gamma_sweep(pop, gamma, beta, gamma_factors, gamma_batch_size, draws=gamma_draws, seeds=seeds)
    results[act] = {"sweep": sweep, "gamma": gamma, "beta": beta, "grad": grad, "zeta_m": zeta_m, "delta": delta, "err": err, "ratio": ratio,
                        "ratio_err": ratio_err, "pooled": pooled, "slope": stats.loglog_slope(m_arr, delta)}
    print(f"{act:8s} gamma*={np.array2string(gamma, precision=3)} zeta*M={np.array2string(zeta_m, precision=3)} "
          f"pooled measured/predicted={np.array2string(pooled, precision=3)}")
verdict.timing("fit and paired Monte Carlo, all activations", time.perf_counter() - started)

# %% [markdown]
# ## Regime: the comparison point is PN-stationary
#
# The prediction holds only where $\partial L_{PN}/\partial(\gamma,\beta)=0$: otherwise first-order terms of size
# $|\nabla L_{PN}|\cdot O(\gamma/M)$ appear next to the effect $\zeta M\gamma^{*2}/M$. Their ratio,
# $|\nabla L_{PN}|/(\zeta M\,\gamma^*)$, must stay below 1% for the comparison to be about the point the derivation
# describes. A precondition of the measurement (the optimizer reached that point), not evidence: a `regime` check,
# the worst case over every (activation, seed).
#
# **Changed after the paper-scale result was seen** (see the deviations and `docs/runs/luo2019-pn-gamma-decay.md`):
# the pre-registered check was the absolute bound $|\nabla L_{PN}|\le10^{-5}$, a proxy for the same 1% argument. It
# failed at $1.12\times10^{-5}$ on one ReLU seed, where the relative contamination is 0.04%: ReLU's PN loss over
# $P$ samples is only piecewise smooth (each sample crossing the kink makes the gradient jump by about $10^{-5}$ at
# $P=20\,000$), so no optimizer reaches a smaller gradient there. The absolute value is kept as a measurement.

# %%
contamination = np.concatenate([r["grad"] / (r["zeta_m"] * r["gamma"]) for r in results.values()])
verdict.check("max over activations and seeds of |grad L_PN(gamma*, beta*)| / (zeta M gamma*) (first-order contamination)",
              contamination, "<=", 0.01, kind="regime", aggregate="max")
verdict.measure("max over activations and seeds of |grad L_PN(gamma*, beta*)| (pre-registered regime bound: 1e-5)",
                np.concatenate([r["grad"] for r in results.values()]).max())

# %% [markdown]
# ## Claim, part `decay-1-over-M`: $\Delta(M)>0$ and $\Delta\propto1/M$
#
# The slope window $[-1.15,-0.85]$ is version 1's: wide enough for Monte Carlo noise and $O(1/M^2)$ terms,
# narrow enough to exclude $1/\sqrt M$ or $1/M^2$. We also report the smallest $\Delta/\text{SE}$. Each check is
# the worst case over the seeds of a per-seed value (the smallest $\Delta$ over $M$; the slope).

# %%
for act, r in results.items():
    print(f"{act}: Delta*1e3 per seed x M =\n{np.array2string(1e3 * r['delta'], precision=3)}")
    print(f"  log-log slopes {np.array2string(r['slope'], precision=3)}; min Delta/SE {np.min(r['delta'] / r['err']):.1f}")
    verdict.check(f"{act}: min over seeds and M of Delta(M)", r["delta"].min(axis=1), ">", 0,
                  kind="claim", part="decay-1-over-M", aggregate="min")
    verdict.measure(f"{act}: min over seeds and M of Delta/SE", np.min(r["delta"] / r["err"]))
    verdict.check(f"{act}: max over seeds of log-log slope of Delta vs M", r["slope"], "<=", -0.85,
                  kind="claim", part="decay-1-over-M", aggregate="max")
    verdict.check(f"{act}: min over seeds of log-log slope of Delta vs M", r["slope"], ">=", -1.15,
                  kind="claim", part="decay-1-over-M", aggregate="min")

# %% [markdown]
# ## Claim, parts `second-order-size` and `size-at-every-M`: the size of the gamma decay matches the prediction
#
# Part `second-order-size`: $M\Delta/\gamma^{*2}$ pooled over $M$ (inverse-variance weights) against $\zeta M$,
# within ±10% for linear and softplus $g$ and ±20% for ReLU (its $g''$ is a delta at the kink, which the smooth
# expansion drops; an earlier independent pilot found ReLU 10–15% high), on every seed. Part `size-at-every-M` (version 1:
# non-essential): the same at every single $M$, allowing three Monte Carlo standard errors on top of the tolerance
# (at $M=128$ one standard error is several per cent). Both are worst cases over the per-seed values.

# %%
for act, r in results.items():
    verdict.check(f"{act}: max over seeds of |pooled M Delta/(gamma^2 zeta M) - 1|", np.abs(r["pooled"] - 1), "<=", tol[act],
                  kind="claim", part="second-order-size", aggregate="max")
    excess = np.abs(r["ratio"] - 1) - 3 * r["ratio_err"]
    verdict.check(f"{act}: max over seeds and M of |M Delta/(gamma^2 zeta M) - 1| - 3 SE", excess.max(axis=1), "<=", tol[act],
                  kind="claim", part="size-at-every-M", aggregate="max")
    for s, seed in enumerate(seeds):
        verdict.measure(f"{act}: seed {seed} zeta*M predicted", r["zeta_m"][s])
        verdict.measure(f"{act}: seed {seed} pooled M*Delta/gamma^2", r["pooled"][s] * r["zeta_m"][s])

# %% [markdown]
# ## Claim, part `gamma-squared`: is the gap a $\gamma^2$ decay at fixed data?
#
# $\Delta$ at $\gamma=c\gamma^*$, $c\in$ `gamma_factors`, $\beta=\beta^*$, $M=$ `gamma_batch_size`, on the same batches
# for every $c$ (`decomposition.gamma_sweep`). Per seed, the log-log slope in $\gamma$ of $R=M\Delta/(\gamma^2\zeta M(\gamma))$
# (0 under the gamma-decay form) and of $\Delta$ itself (2 under it). A seed where $\Delta\le0$ at some $\gamma$ has no
# log: its slope is NaN and leaves the check undecided.

# %%
log_c = np.log(np.array(gamma_factors))
for act, r in results.items():
    delta_g, err_g, zeta_g = r["sweep"]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio_g = gamma_batch_size * delta_g / ((np.array(gamma_factors) * r["gamma"][:, None]) ** 2 * zeta_g)
        r["ratio_slope"] = stats.loglog_slope(gamma_factors, ratio_g)
        r["gap_slope"] = stats.loglog_slope(gamma_factors, delta_g)
    print(f"{act}: R(c gamma*) per seed x c =\n{np.array2string(ratio_g, precision=3)}\n"
          f"  slope of R {np.array2string(r['ratio_slope'], precision=3)}; slope of Delta {np.array2string(r['gap_slope'], precision=3)}; "
          f"min Delta/SE {np.min(delta_g / err_g):.1f}")
    verdict.check(f"{act}: mean over seeds of the log-log slope in gamma of M Delta/(gamma^2 zeta M(gamma)), gamma in "
                  f"[{gamma_factors[0]:g}, {gamma_factors[-1]:g}] x gamma*", r["ratio_slope"], "<=", gamma_slope_window,
                  kind="claim", part="gamma-squared", aggregate="mean")
    verdict.check(f"{act}: mean over seeds of the log-log slope in gamma of M Delta/(gamma^2 zeta M(gamma)) (lower side)",
                  r["ratio_slope"], ">=", -gamma_slope_window, kind="claim", part="gamma-squared", aggregate="mean")
    verdict.measure(f"{act}: mean over seeds of the log-log slope of Delta in gamma (2 under a gamma^2 decay)",
                    np.mean(r["gap_slope"]))
    verdict.measure(f"{act}: mean over seeds of R at gamma*/2", np.mean(ratio_g[:, 0]))
    verdict.measure(f"{act}: mean over seeds of R at 2 gamma*", np.mean(ratio_g[:, -1]))
delta_lin = results["linear"]["sweep"][0] / (np.array(gamma_factors) * results["linear"]["gamma"][:, None])
verdict.check("linear: max over seeds and gamma of |Delta(gamma)/gamma / (Delta(gamma*)/gamma*) - 1| (same batches)",
              np.abs(delta_lin / delta_lin[:, [gamma_factors.index(1.0)]] - 1).max(), "<=", 1e-8, kind="sanity")

# %% [markdown]
# ## Figure: the gap against $\gamma$ at fixed data
#
# $\Delta(c\gamma^*)/\Delta(\gamma^*)$ against $c$ per activation and seed, with the gamma-decay form $c^2$ (dashed) and a
# linear dependence $c$ (dotted).

# %%
fig, ax = plt.subplots(figsize=(6.5, 4.4))
palette_g = dict(zip(activations, sns.color_palette(n_colors=len(activations))))
c_arr = np.array(gamma_factors)
for act, r in results.items():
    delta_g = r["sweep"][0]
    rel = delta_g / delta_g[:, [gamma_factors.index(1.0)]]
    for s in range(len(seeds)):
        ax.loglog(c_arr, rel[s], "o-", color=palette_g[act], ms=3, lw=0.6, alpha=0.6, label=act if s == 0 else None)
ax.loglog(c_arr, c_arr**2, "k--", lw=1, label=r"$c^2$ (gamma decay)")
ax.loglog(c_arr, c_arr, "k:", lw=1, label=r"$c$ (linear)")
ax.set(xlabel=r"$c=\gamma/\gamma^*$", ylabel=r"$\Delta(c\gamma^*)/\Delta(\gamma^*)$",
       title=f"BN - PN gap at fixed data, M={gamma_batch_size}")
ax.legend()
verdict.figure(fig, "gap-against-gamma")
plt.show()

# %% [markdown]
# ## Figure: measured $M\Delta/\gamma^{*2}$ against the prediction $\zeta M$
#
# Left: $\Delta(M)$ on log-log axes with the prediction $\zeta\gamma^{*2}$ (dashed), per activation and seed.
# Right: measured over predicted, $M\Delta/(\gamma^{*2}\zeta M)$, with ±1 SE; shaded: the ±10% tolerance (±20% for
# ReLU, lighter).

# %%
fig, (ax_l, ax_r) = plt.subplots(1, 2, figsize=(12, 4.4))
palette = dict(zip(activations, sns.color_palette(n_colors=len(activations))))
offsets = np.linspace(-0.12, 0.12, len(activations) * len(seeds)).reshape(len(activations), len(seeds))
for a, (act, r) in enumerate(results.items()):
    c = palette[act]
    for s in range(len(seeds)):
        lab = act if s == 0 else None
        ax_l.loglog(m_arr, r["delta"][s], "o", color=c, ms=4, label=lab)
        ax_l.loglog(m_arr, r["zeta_m"][s] * r["gamma"][s] ** 2 / m_arr, "--", color=c, lw=0.8)
        ax_r.errorbar(m_arr * np.exp(offsets[a, s]), r["ratio"][s], yerr=r["ratio_err"][s], fmt="o", ms=3, color=c, label=lab)
ax_r.axhspan(1 - tolerance_relu, 1 + tolerance_relu, color="0.95", zorder=0)
ax_r.axhspan(1 - tolerance_smooth, 1 + tolerance_smooth, color="0.85", zorder=0)
ax_r.axhline(1, color="k", lw=0.8)
ax_l.set(xlabel="batch size M", ylabel=r"$\Delta(M)=E[L_{BN}]-L_{PN}$", title=r"paired Monte Carlo (dashed: $\zeta\gamma^{*2}$)")
ax_r.set_xscale("log")
ax_r.set(xlabel="batch size M", ylabel=r"$M\Delta/(\gamma^{*2}\,\zeta M)$", title="measured / second-order prediction")
ax_l.legend(title="g")
ax_r.legend(title="g", loc="lower left", ncol=3)
verdict.figure(fig, "bn-minus-pn-loss")
plt.show()

# %% [markdown]
# ## Deviations from the paper

# %%
verdict.deviation(
    "The paper's body could not be read: only the abstract and Eq. (1) are verified. The decomposition formula "
    "could not be checked; the prediction tested is our independent second-order derivation, so this verdict "
    "checks the abstract-level claim, not the paper's theorem or numbers."
)
verdict.deviation(
    "Set-up (data, teacher, student, P, d, activations, batch sizes, number of draws) is ours, not the paper's. "
    "Parts decay-1-over-M, second-order-size and size-at-every-M compare at the PN optimum (gamma*, beta*) found by "
    "Nelder-Mead; part gamma-squared varies gamma away from it at fixed beta* and data."
)
verdict.deviation(
    "The prediction ignores the finite-population correction (M << P here) and the correlation between a sample "
    "and the batch statistics it enters; the ReLU check uses a wider tolerance because its kink is not captured "
    "by a smooth second-order expansion."
)
verdict.deviation(
    "Regime check changed after the first paper-scale result of this version was seen: the pre-registered bound "
    "|grad L_PN| <= 1e-5 failed at 1.12e-5 on one ReLU seed (relative first-order contamination 0.04%; ReLU's PN "
    "loss over P samples is piecewise smooth, its gradient jumps by about 1e-5 at the optimum). It is replaced by the "
    "relative bound its own argument gave, |grad L_PN| / (zeta M gamma*) <= 1%; the absolute value is a measurement."
)
verdict.deviation(
    "Version 1 was redesigned after its result was seen: 8 seeds instead of 4, and part gamma-squared added (the "
    "gamma^2 form of the decomposition at fixed data, registered after a pilot on unregistered seeds had shown it "
    "failing for linear g); the earlier parts and thresholds are unchanged."
)
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
