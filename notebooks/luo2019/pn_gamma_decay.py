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
# **Source availability.** Only the abstract, the start of §1 and Eq. (1) of the paper could be read. The
# paper's decomposition formula is a *recollection* (shared/papers/luo2019.md, D.2, [U]); what is tested here
# is the abstract-level claim through the spec's **independent second-order derivation** [D], not the paper's
# theorem or numbers.
#
# **Model** (Eq. (1), verified): one neuron $\hat y=g(\gamma(h-\mu)/\sigma+\beta)$, $h=w^\top x$, square loss
# $\ell(z)=\tfrac12(g(z)-y)^2$. BN takes $\mu,\sigma$ from a mini-batch of $M$ samples (without replacement,
# ddof 0); PN takes them from the whole population of $P$ samples.
# **Derived prediction** [D]: at a PN-stationary $(\gamma^*,\beta^*)$ the first-order terms vanish and
# $$\Delta(M)=\mathbb E[L_{BN}]-L_{PN}\approx\zeta\gamma^{*2},\qquad
# \zeta M=\tfrac12\,\overline{\ell''}+\tfrac{\kappa-1}{8}\,\overline{\ell''u^2},$$
# $u$ the population-standardised $h$, $\kappa=\overline{u^4}$, $\ell''=g'^2+(g-y)g''$.
#
# **What we run** (spec D1): $x\sim N(0.5,I_{d})$, teacher $y=g(w^{*\top}x/(3\sqrt d))+0.3\varepsilon$,
# student $w=w^*+N(0,I)$; $(\gamma^*,\beta^*)$ minimise $L_{PN}$ (Nelder-Mead); $\Delta(M)$ by **paired**
# Monte Carlo (BN and PN loss on the same samples) for several activations $g$ and seeds.
#
# **Checks** (verdict version 2; thresholds unchanged from version 1). Every check is a worst case over the seeds
# (`aggregate="min"`/`"max"` of the per-seed values: no interval), as version 1's "for every seed" asked:
# - *regime*: the comparison point is PN-stationary ($|\nabla L_{PN}|\le10^{-5}$ for every activation and seed);
# - *claim, part `decay-1-over-M`*: for every activation and seed, $\Delta>0$ at every $M$ and the log-log slope of
#   $\Delta$ in $M$ lies in $[-1.15,-0.85]$ (the abstract's gamma decay, $\zeta=O(1/M)$);
# - *claim, part `second-order-size`*: $M\Delta/\gamma^{*2}$ (pooled over $M$) is within ±10% of $\zeta M$ for the
#   smooth activations (±20% for ReLU, whose kink the smooth expansion misses), on every seed;
# - *claim, part `size-at-every-M`*: the same at every single $M$ up to three Monte Carlo standard errors (version 1
#   reported it as non-essential; it is evidence about the derived prediction, so it is now its own part).

# %% tags=["parameters"]
claim_id = "luo2019/pn-gamma-decay"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3]
threads = 2
n = 20000
d = 50
x_mean = 0.5
noise = 0.3
activations = ["linear", "softplus", "relu"]
batch_sizes = [8, 16, 32, 64, 128]
draws = 1000000
tolerance_smooth = 0.1
tolerance_relu = 0.2

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
    source="Abstract; Eq. (1) (verified); decomposition formula recollected [U], derived independently [D]",
    evidence="abstract",
    stand_ins=[
        "decomposition: our second-order derivation Delta(M) ~ zeta*gamma^2 with zeta*M = mean(l'')/2 + "
        "(kappa-1)/8 mean(l'' u^2), at a PN-stationary (gamma, beta) (the paper's formula is a recollection)",
        "data: teacher-student Gaussian population x ~ N(0.5, I_d), P samples (spec D1, ours)",
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
    results[act] = {"gamma": gamma, "beta": beta, "grad": grad, "zeta_m": zeta_m, "delta": delta, "err": err, "ratio": ratio,
                        "ratio_err": ratio_err, "pooled": pooled, "slope": stats.loglog_slope(m_arr, delta)}
    print(f"{act:8s} gamma*={np.array2string(gamma, precision=3)} zeta*M={np.array2string(zeta_m, precision=3)} "
          f"pooled measured/predicted={np.array2string(pooled, precision=3)}")
verdict.timing("fit and paired Monte Carlo, all activations", time.perf_counter() - started)

# %% [markdown]
# ## Regime: the comparison point is PN-stationary
#
# The prediction holds only where $\partial L_{PN}/\partial(\gamma,\beta)=0$: otherwise first-order terms of size
# $|\nabla L_{PN}|\cdot O(\gamma/M)$ appear. $\zeta M\gamma^{*2}$ is of order $10^{-3}$–$10^{-2}$ here, so a
# gradient below $10^{-5}$ keeps that contamination under about 1% of the effect. A precondition of the
# measurement (the optimizer reached the point the derivation is about), not evidence: a `regime` check, the worst
# case over every (activation, seed).

# %%
verdict.check("max over activations and seeds of |grad L_PN(gamma*, beta*)|",
              np.concatenate([r["grad"] for r in results.values()]), "<=", 1e-5, kind="regime", aggregate="max")

# %% [markdown]
# ## Claim, part `decay-1-over-M`: $\Delta(M)>0$ and $\Delta\propto1/M$
#
# The slope window $[-1.15,-0.85]$ is the spec's: wide enough for Monte Carlo noise and $O(1/M^2)$ terms,
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
# expansion drops; the spec's pilot found ReLU 10–15% high), on every seed. Part `size-at-every-M` (version 1:
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
    "is a recollection [U]; the prediction tested is the spec's independent second-order derivation [D] "
    "(same structure as the recollected zeta(h)), so this verdict checks the abstract-level claim, not the "
    "paper's theorem or numbers."
)
verdict.deviation(
    "Set-up (data, teacher, student, P, d, activations, batch sizes, number of draws) is the spec's D1, not the "
    "paper's; the comparison is made only at the PN optimum (gamma*, beta*) found by Nelder-Mead, because away "
    "from it first-order terms make Delta not proportional to gamma^2."
)
verdict.deviation(
    "The prediction ignores the finite-population correction (M << P here) and the correlation between a sample "
    "and the batch statistics it enters; the ReLU check uses a wider tolerance because its kink is not captured "
    "by a smooth second-order expansion."
)
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
