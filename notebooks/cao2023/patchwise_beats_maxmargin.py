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
# # cao2023/patchwise-beats-maxmargin: the patch-wise uniform margin generalizes better than the max margin
#
# > "Based on two examples, we demonstrate that patch-wise uniform margin classifiers can outperform the
# > maximum margin classifiers in certain learning problems." (Cao, Zou, Li & Gu, COLT 2023, abstract;
# > **Examples 3.1 and 3.2, Theorems 3.3 and 3.4**)
#
# At test time BN uses the training statistics, so the CNN predicts $\mathrm{sign}\langle w,\bar x\rangle$ with
# $\bar x=\sum_px^{(p)}$. The comparator is the max-margin classifier on the summed patches (eq. 3.1), which GD
# without BN approaches (Soudry et al.); $w_{\rm uniform}$ solves $\langle w,y_ix_i^{(p)}\rangle=1$ for all $i,p$
# (min norm), which BN-GD approaches (Theorem 3.2; `cao2023/patchwise-margin`).
#
# **Example 3.1** ($\mathcal D_1$): every patch is $yu+\xi^{(p)}$, $\xi^{(p)}\sim N(0,\sigma^2(I-uu^\top/\|u\|^2))$.
# Theorem 3.3 ($d=2n$, $P\ge4$, $\sigma\ge20\|u\|\sqrt{Pd}$): $w_{\rm uniform}$ has test error 0, $w_{\max}$ has
# test error $\Theta(1)$.
#
# **Example 3.2** ($\mathcal D_2$, two patches): strong examples $[yu,\xi]$ (probability $1-\rho$), weak examples
# $[yv,\xi+\alpha\zeta u]$ (probability $\rho$); $d=n^2\log n$, $\sigma=d^{-1/2}$, $\rho=n^{-3/4}$, $\|u\|=1$,
# $\|v\|=\alpha^2$. Theorem 3.4: with probability $\ge1-\exp(-\Omega(n^{1/4}))$, test error
# $\le n^{-10}$ for $w_{\rm uniform}$ and $\ge1/(4n^{3/4})$ for $w_{\max}$.
#
# **Two problems in the paper, handled here.**
# 1. *$\alpha$ is inconsistent*: Example 3.2 prints $\alpha=n^{-1/2}$; the $w_{\rm uniform}$ part of the proof uses
#    "the fact that $\alpha=n^{-1/4}$" [p.52], the $w_{\max}$ part uses $\alpha=n^{-1/2}$ [p.53]. We run both and judge
#    the theorem under each.
# 2. *Weak examples*: the high-probability event includes "the training set contains weak-signal examples". We
#    condition on it (rejection sampling per seed) and report how often a draw has none, and what happens then.
#
# **Checks** (verdict version 2). Every check over seeds is given the per-seed values. Theorems 3.3 and 3.4 bound
# the test error of *every* training set outside an event of probability $\exp(-\Omega(d))$ or
# $\exp(-\Omega(n^{1/4}))$, so the claim checks are worst cases over seeds (`aggregate="min"`/`"max"`: decided by
# their comparison, no interval), now over many training sets: 64 seeds for Example 3.1's exact solutions, 20 for
# its GD run, 20 per $n$ and $\alpha$ for Example 3.2 (120 training sets per $\alpha$ over the scan). Version 1 used 5.
# The audit of version 1 (5 seeds) measured margins of several decades on every check but one, the printed-$\alpha$
# bound; the seed counts are chosen for the time budget (Example 3.2 at $n=100$ has $d=46052$; a timing pilot on seed
# 5 000 000 only), not from the results of a pilot. Pre-registered: these checks, kinds, thresholds and seed counts
# were committed before the first paper-scale run (`docs/runs/cao2023-patchwise-beats-maxmargin.md` gives the commit).
# - *sanity*: Theorem 3.3's noise condition $\sigma\ge20\|u\|\sqrt{Pd}$ (a configuration assertion); on Ex. 3.1,
#   Assumption 3.1, $w_{\rm uniform}\parallel u$ and $w_{\rm uniform}$'s test error 0: all three hold by
#   construction (the noise is orthogonal to $u$, so $u/\|u\|^2$ solves every equation and classifies every
#   test point). Version 1 counted them as evidence.
# - *claim, part `example-3.1`* (Theorem 3.3): $w_{\max}$'s test error is $\ge0.25$ on every seed, in the
#   theorem's regime. How it can fail: at small $\sigma$ (outside the theorem's condition) $w_{\max}$ classifies
#   perfectly (the $\sigma$ scan below shows error 0 at $\sigma=1$).
# - *claim, part `gd-example-3.1`*: BN-GD reaches $w_{\rm uniform}$ (in a well-conditioned variant,
#   $\sigma=$`sigma_gd`, see below) and its test error is $\le10^{-3}$; *control* (same part): $w_{\max}$ still fails
#   there (error $\ge0.3$), without which the variant could not tell the two classifiers apart.
# - *claim, part `example-3.2`* (Theorem 3.4, exact closed-form test errors), under both values of $\alpha$:
#   $w_{\rm uniform}$'s error $\le\frac15$ of $w_{\max}$'s and $w_{\max}$'s $\ge1/(4n^{3/4})$ on every $n$ and seed;
#   and, under the proof's $\alpha=n^{-1/4}$, $w_{\rm uniform}$'s $\le n^{-10}$ at the largest $n$ run.
#   *Control* (same part): on training sets *without* a weak example (the complement of the theorem's event),
#   $v\notin X$ and the advantage must vanish: $w_{\rm uniform}$'s error is at least half of $w_{\max}$'s on every
#   seed (smallest $n$ of the scan). If it did not vanish, the comparison would not be measuring the mechanism
#   the paper names (the weak feature $v$ amplified by the patch-wise uniform margin).
#   *Erratum*: the same $n^{-10}$ bound under the printed $\alpha=n^{-1/2}$ (version 1: non-essential); it is reported
#   and decides nothing. The $n^{-10}$ bound is asymptotic with an unstated $n_0$: on 5 seeds the audit found it
#   holding from $n\ge80$ on and failing at $n\le60$; the $n_0$ this run measures (the smallest $n$ of the scan from
#   which it holds on every seed) is a measurement, and the verdict's deviation states it.
# - *claim, part `gd-example-3.2`*: BN-GD reaches $w_{\rm uniform}$ on Ex. 3.2 ($D_{\rm patch}$, direction, test error).

# %% tags=["parameters"]
claim_id = "cao2023/patchwise-beats-maxmargin"
scale = "paper"
seed_offset = 0
seeds = [0, 1]
scan_seeds = [0, 1]
gd_seeds = [0, 1]
stiff_seeds = [0]
ex32_seeds = [0, 1]
threads = 1
n = 50
P = 4
sigma = 400.0
u_norm = 1.0
sigma_scan = [1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 100.0, 400.0]
test_samples = 20000
sigma_gd = 5.0
gd_w0_scale = 0.3
gd_lr = 0.01
gd_steps = 50000
n_scan = [20, 30, 45, 60, 80, 100]
n_gd = 30
ex32_w0_scale = 0.1
ex32_lr = 0.0001
ex32_steps = 50000

# %%
import matplotlib.pyplot as plt
import numpy as np

from bnrepro import claims
from bnrepro import cao2023, stats
from bnrepro.cao2023 import examples

verdict = claims.open(
    claim_id,
    statement=(
        "On the data of Examples 3.1 and 3.2, the patch-wise uniform margin classifier (the implicit bias of "
        "BN-GD on a linear CNN) has test error 0 (Ex. 3.1) or at most n^-10 (Ex. 3.2), while the max-margin "
        "classifier has test error Theta(1) (Ex. 3.1) or at least 1/(4 n^(3/4)) (Ex. 3.2)."
    ),
    source="Examples 3.1 and 3.2, Theorems 3.3 and 3.4 (Cao et al., COLT 2023)",
    evidence="full-text",
    stand_ins=[
        "data: the examples drawn as defined, with u = e_0, v = alpha^2 e_1, ||u|| = 1, 'p in [n]' read as p in [P], "
        "'sigma_0 = d^-1/2' read as sigma (our readings; the paper has no experiment)",
        "Example 3.2: alpha = n^-1/4 (the proof's, p.52) as the claim; training sets conditioned on >= 1 weak example",
        f"Example 3.1 GD: sigma = {sigma_gd} (well conditioned) instead of the theorem's sigma >= 20||u||sqrt(Pd)",
        "GD runs: lr, initialization and steps (ours); Example 3.2's GD in an orthonormal basis of span(X), judged on P_X w",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
d = 2 * n  # Theorem 3.3's d = 2n
ALPHAS = {"n^-1/4 (proof)": -0.25, "n^-1/2 (printed)": -0.5}
print(f"Ex. 3.1: n={n}, d={d}, P={P}, sigma={sigma}; Ex. 3.2: n in {n_scan}; numpy float64 on the CPU")

# %% [markdown]
# ## Example 3.1 in the theorem's regime: exact solutions
#
# $w_{\rm uniform}$ is the min-norm least-squares solution of all $nP$ equations; Assumption 3.1 holds iff it solves
# them exactly (here $nP=2d$ equations in $d$ unknowns, so this is not automatic: it holds because every
# solution is $\parallel u$). $w_{\max}$ comes from Clarabel plus an exact KKT polish. Test errors are measured on
# `test_samples` fresh draws per seed; we also print the closed form
# $\Phi(-\sqrt P\langle w,u\rangle/(\sigma\|\Pi_u^\perp w\|))$ (derived here) as a cross-check.
#
# The noise condition is a configuration assertion, and Assumption 3.1, $w_{\rm uniform}\parallel u$ and its test
# error 0 hold by construction (noise orthogonal to $u$): sanity checks. Only $w_{\max}$'s error is evidence
# (claim, part `example-3.1`).

# %%
ex31 = examples.Example31(d=d, P=P, sigma=sigma, u_norm=u_norm)
sol31 = examples.solve_example31(ex31, seeds, n, test_samples)
cos_u = stats.cosine(sol31.w_uniform, ex31.u)
print("test error of w_uniform per seed:", sol31.error_uniform.tolist())
print("test error of w_max per seed:    ", np.array2string(sol31.error_max, precision=4))
print("closed form, w_max:              ", np.array2string(ex31.test_error(sol31.w_max), precision=4))
verdict.check("sigma / (20 ||u|| sqrt(P d)) (Theorem 3.3's noise condition)", sigma / (20 * u_norm * np.sqrt(P * d)), ">=", 1,
              kind="sanity")
verdict.check("max over seeds of |<w_uniform, y_i x_i^(p)> - 1| (Assumption 3.1)", sol31.uniform_residual, "<=", 1e-10,
              kind="sanity", aggregate="max")
verdict.check("max over seeds of 1 - cos(w_uniform, u)", 1 - cos_u, "<=", 1e-10, kind="sanity", aggregate="max")
verdict.check(f"max over seeds of the test error of w_uniform ({test_samples} fresh samples)", sol31.error_uniform, "<=", 0,
              kind="sanity", aggregate="max")
verdict.check("min over seeds of the test error of w_max (Theta(1): at least half of chance)", sol31.error_max, ">=", 0.25,
              kind="claim", part="example-3.1", aggregate="min")
verdict.measure("Ex 3.1: max over seeds of |sampled - closed-form test error| of w_max", np.abs(sol31.error_max - ex31.test_error(sol31.w_max)).max())

# %% [markdown]
# ### Across $\sigma$: where the max margin breaks
#
# The same training noise, scaled by each $\sigma$ (common random numbers), with $n$, $d$, $P$ fixed.

# %%
scan31 = {}
for s in sigma_scan:
    sol = examples.solve_example31(examples.Example31(d=d, P=P, sigma=s, u_norm=u_norm), scan_seeds, n, test_samples)
    scan31[s] = sol
    print(f"sigma={s:6.1f}: error(w_uniform) max {sol.error_uniform.max():.4f}, error(w_max) mean {sol.error_max.mean():.4f}")
verdict.measure("Ex 3.1 sigma scan: max over sigmas and seeds of the test error of w_uniform", max(v.error_uniform.max() for v in scan31.values()))

fig, ax = plt.subplots(figsize=(6, 4))
for label, key, marker in [("uniform margin", "error_uniform", "o"), ("max margin", "error_max", "s")]:
    errs = np.array([getattr(scan31[s], key) for s in sigma_scan])  # (sigmas, seeds)
    ax.plot(sigma_scan, errs.mean(axis=1), marker=marker, label=label)
    ax.scatter(np.repeat(sigma_scan, len(scan_seeds)), errs.ravel(), s=8, alpha=0.4, color=ax.lines[-1].get_color())
ax.axvline(20 * u_norm * np.sqrt(P * d), color="grey", ls=":", label=r"Theorem 3.3: $\sigma\geq20\|u\|\sqrt{Pd}$")
ax.set(xscale="log", xlabel=r"noise level $\sigma$", ylabel="test error", ylim=(-0.02, 0.55),
       title=f"Example 3.1: n={n}, d={d}, P={P}, {len(scan_seeds)} seeds")
ax.legend()
verdict.figure(fig, "example31-sigma-scan")
plt.show()

# %% [markdown]
# ## Example 3.1 by gradient descent: BN-GD reaches $w_{\rm uniform}$, but not in the theorem's regime
#
# The theorem's regime is out of GD's reach on a CPU budget. $\Sigma$ has eigenvalue $\approx\|u\|^2$ along $u$ and
# $\approx\sigma^2$ across the noise, and Theorem 3.2's exponent scales with
# $\kappa=\lambda_{\min}/\lambda_{\max}^{3/2}$, which is orders of magnitude smaller at the theorem's $\sigma$
# (measured below). So we run the claim's GD in a well-conditioned variant, $\sigma=$`sigma_gd` (where $w_{\max}$ still
# fails), and run the same GD at $\sigma=$`sigma` to measure how far it gets.
#
# Claim, part `gd-example-3.1`: BN-GD's $D_{\rm patch}$, direction and test error at $\sigma=$`sigma_gd`; control (same
# part): $w_{\max}$'s error there, which must stay high for the variant to discriminate.

# %%
gd_runs = {}
for s, run_seeds in ((sigma_gd, gd_seeds), (sigma, stiff_seeds)):
    ex = examples.Example31(d=d, P=P, sigma=s, u_norm=u_norm)
    X, y = ex.training_sets(run_seeds, n)
    run = cao2023.train(X, y, examples.initial_weights(run_seeds, n, d, gd_w0_scale), lr=gd_lr, steps=gd_steps, batchnorm=True)
    eig = np.stack([np.linalg.eigvalsh(x.reshape(-1, d).T @ x.reshape(-1, d) / (n * P)) for x in X])  # Sigma is full rank here
    gd_runs[s] = {"run": run, "ex": ex, "kappa": eig[:, 0] / eig[:, -1] ** 1.5, "cos": stats.cosine(run.final_w, ex.u),
                  "error": ex.sampled_test_error(run.final_w, run_seeds, n, test_samples)}
    print(f"sigma={s} ({len(run_seeds)} seeds): D_patch(T) max {run.discrepancy[-1].max():.3g}, cos(w,u) min {gd_runs[s]['cos'].min():.8f}, "
          f"test error max {gd_runs[s]['error'].max()}, kappa {gd_runs[s]['kappa'].mean():.3g}")

good, stiff = gd_runs[sigma_gd], gd_runs[sigma]
verdict.check(f"sigma={sigma_gd}: max over seeds of D_patch,BN(T)", good["run"].discrepancy[-1], "<=", 1e-15,
              kind="claim", part="gd-example-3.1", aggregate="max")
verdict.check(f"sigma={sigma_gd}: min over seeds of cos(w_BN(T), u)", good["cos"], ">=", 0.9999,
              kind="claim", part="gd-example-3.1", aggregate="min")
verdict.check(f"sigma={sigma_gd}: max over seeds of the test error of w_BN(T)", good["error"], "<=", 1e-3,
              kind="claim", part="gd-example-3.1", aggregate="max")
max_margin_gd = examples.solve_example31(good["ex"], gd_seeds, n, test_samples)
verdict.check(f"sigma={sigma_gd}: min over seeds of the test error of w_max", max_margin_gd.error_max, ">=", 0.3,
              kind="control", part="gd-example-3.1", aggregate="min")
verdict.measure(f"sigma={sigma}: min over seeds of D_patch,BN(T) (same GD, not converged)", stiff["run"].discrepancy[-1].min())
verdict.measure(f"sigma={sigma}: min over seeds of the test error of w_BN(T)", stiff["error"].min())
verdict.measure(f"sigma={sigma}: max over seeds of cos(w_BN(T), u)", stiff["cos"].max())
verdict.measure(f"kappa = lambda_min / lambda_max^1.5 at sigma={sigma_gd} (mean over seeds)", good["kappa"].mean())
verdict.measure(f"kappa = lambda_min / lambda_max^1.5 at sigma={sigma} (mean over seeds)", stiff["kappa"].mean())

# %% [markdown]
# ## Example 3.2: exact test errors across $n$, under both values of $\alpha$
#
# For each $n$, $\alpha$ and seed: a training set conditioned on $\ge1$ weak example, $w_{\rm uniform}$ and $w_{\max}$,
# and their exact test errors (Gaussian CDFs, computed in logs):
# strong $\Phi(-\langle w,u\rangle/(\sigma\|\Pi^\perp_{u,v}w\|))$; weak
# $\frac12\Phi(-(\langle w,v\rangle+\alpha\langle w,u\rangle)/(\sigma\|w\|))+\frac12\Phi(-(\langle w,v\rangle-\alpha\langle w,u\rangle)/(\sigma\|w\|))$;
# total $(1-\rho)\,$strong$\,+\rho\,$weak. Both $\alpha$ share the seed's noise. Both classifiers lie in the span of
# the training data, as Theorem 3.4 takes them.

# %%
scan32 = {}
for m in n_scan:
    for name, power in ALPHAS.items():
        ex = examples.Example32.paper(m, m**power)
        scan32[m, name] = (ex, examples.solve_example32(ex, ex32_seeds))
    ex, sol = scan32[m, "n^-1/4 (proof)"]
    print(f"n={m:3d} (d={ex.d:5d}): weak examples {sol.n_weak.tolist()}, draws without any discarded {sol.rejected.tolist()}; log10 error "
          + "; ".join(f"{name}: uniform {np.array2string(scan32[m, name][1].error_uniform.log10_total, precision=1)}, "
                      f"max {scan32[m, name][1].error_max.log10_total.mean():.2f}" for name in ALPHAS))

# %% [markdown]
# ### The checks of Theorem 3.4
#
# On every $n$, seed and $\alpha$: $w_{\max}$'s error is at least $1/(4n^{3/4})$ and $w_{\rm uniform}$'s is at most a
# fifth of it. The $n^{-10}$ bound is asymptotic (it holds with probability $1-\exp(-\Omega(n^{1/4}))$, for $n$
# large enough), so we judge it at the largest $n$ run, and report from which $n$ on it holds, plus the local
# exponent $-\Delta\log\mathrm{err}/\Delta\log n$ between the two largest $n$: the bound can only hold
# asymptotically if the error falls faster than $n^{-10}$, i.e. the exponent exceeds 10.
#
# All are claim checks of part `example-3.2` (per seed: the worst case over $n$, then over seeds), except the
# $n^{-10}$ bound under the printed $\alpha=n^{-1/2}$, an erratum check (the proof's $\alpha=n^{-1/4}$ is the claim):
# it is reported and decides nothing. At the paper scale's scan ($n\in\{20,\dots,100\}$) the $n^{-10}$ bound under the
# proof's $\alpha$ holds on every seed only from $n\ge80$ on and fails at $n\le60$: Theorem 3.4's "$n$ large
# enough" hides an unstated $n_0$ (a deviation below gives the value this run measured).

# %%
n_top = max(n_scan)
n_from = {}
for name in ALPHAS:
    log10_u = np.array([scan32[m, name][1].error_uniform.log10_total for m in n_scan])  # (n, seeds)
    log10_max = np.array([scan32[m, name][1].error_max.log10_total for m in n_scan])
    lower = np.log10(1 / (4 * np.array(n_scan, float) ** 0.75))[:, None]
    verdict.check(f"alpha={name}: min over n, seeds of log10 err(w_max) - log10 1/(4n^3/4)", (log10_max - lower).min(axis=0), ">=", 0,
                  kind="claim", part="example-3.2", aggregate="min")
    verdict.check(f"alpha={name}: max over n, seeds of log10 err(w_uniform) - log10 err(w_max)", (log10_u - log10_max).max(axis=0), "<=", -np.log10(5),
                  kind="claim", part="example-3.2", aggregate="max")
    margin_to_bound = log10_u + 10 * np.log10(np.array(n_scan, float))[:, None]  # <= 0 iff err <= n^-10
    proof_alpha = name.startswith("n^-1/4")
    verdict.check(f"alpha={name}: n={n_top}: max over seeds of log10 err(w_uniform) + 10 log10 n (Theorem 3.4: <= 0)",
                  margin_to_bound[-1], "<=", 0, kind="claim" if proof_alpha else "erratum",
                  part="example-3.2" if proof_alpha else None, aggregate="max")
    holds = (margin_to_bound <= 0).all(axis=1)  # per n, on every seed
    for m, fraction in zip(n_scan, (margin_to_bound <= 0).mean(axis=1)):
        verdict.measure(f"alpha={name}: n={m}: fraction of seeds with err(w_uniform) <= n^-10", fraction)
    print(f"alpha={name}: fraction of seeds with err(w_uniform) <= n^-10 per n {dict(zip(n_scan, (margin_to_bound <= 0).mean(axis=1).round(2).tolist()))}")
    k = len(n_scan)
    while k > 0 and holds[k - 1]:
        k -= 1
    n_from[name] = n_scan[k] if k < len(n_scan) else 0
    verdict.measure(f"alpha={name}: smallest n of the scan from which err(w_uniform) <= n^-10 holds on every seed (0: none)",
                    n_from[name])
    if len(n_scan) >= 2:
        exponent = -(log10_u[-1] - log10_u[-2]).mean() / (np.log10(n_scan[-1]) - np.log10(n_scan[-2]))
        verdict.measure(f"alpha={name}: local exponent -dlog err(w_uniform)/dlog n at n={n_scan[-2]}..{n_top}", exponent)
        print(f"alpha={name}: err(w_uniform) falls like n^-{exponent:.1f} at the top of the scan")

# %% [markdown]
# ### How often a training set has no weak example, and what happens then
#
# $P(\text{no weak example})=(1-n^{-3/4})^n$. Without one, $v\notin X$, so $w_{\rm uniform}$ (which lies in $X$) has
# $\langle w,v\rangle=0$ and is as blind to weak test examples as $w_{\max}$: we draw training sets with no weak
# example (the complement of the conditioning event) at the smallest $n$ of the scan and compare.

# %%
for m in n_scan:
    ex, sol = scan32[m, "n^-1/4 (proof)"]
    draws = sol.rejected.sum() + len(ex32_seeds)
    verdict.measure(f"n={m}: fraction of training draws without a weak example (seeds pooled)", sol.rejected.sum() / draws)
    verdict.measure(f"n={m}: P(no weak example) = (1 - rho)^n", ex.p_no_weak())
    print(f"n={m}: {sol.rejected.sum()} of {draws} draws had no weak example; (1-rho)^n = {ex.p_no_weak():.3f}")
n_low = min(n_scan)
ex_low = examples.Example32.paper(n_low, n_low**-0.25)
no_weak = examples.solve_example32(ex_low, ex32_seeds, condition_on_weak=False)
ratio = no_weak.error_uniform.total / no_weak.error_max.total
print(f"n={n_low}, no weak example in training: err(w_uniform) / err(w_max) per seed {np.array2string(ratio, precision=3)}")
verdict.check(f"n={n_low}, training sets without a weak example: min over seeds of err(w_uniform) / err(w_max) (the advantage vanishes)",
              ratio, ">=", 0.5, kind="control", part="example-3.2", aggregate="min")

fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
ns = np.array(n_scan, float)
for ax, name in zip(axes, ALPHAS):
    log10_u = np.array([scan32[m, name][1].error_uniform.log10_total for m in n_scan])
    log10_max = np.array([scan32[m, name][1].error_max.log10_total for m in n_scan])
    ax.plot(ns, log10_u.mean(axis=1), "o-", label="uniform margin")
    ax.plot(ns, log10_max.mean(axis=1), "s-", label="max margin")
    ax.plot(ns, -10 * np.log10(ns), "k:", label=r"$n^{-10}$ (bound for uniform)")
    ax.plot(ns, np.log10(1 / (4 * ns**0.75)), "k--", lw=1, label=r"$1/(4n^{3/4})$ (bound for max)")
    ax.set(xlabel="n (training samples)", title=rf"Example 3.2, $\alpha=${name}")
axes[0].set_ylabel(r"$\log_{10}$ test error (exact)")
axes[0].legend()
verdict.figure(fig, "example32-n-scan")
plt.show()

# %% [markdown]
# ## Example 3.2 by gradient descent, evaluated on $P_Xw$
#
# BN-GD only moves $w$ inside $X$ (the span of the training patches, $n+2$ dimensions here: every signal patch is
# $\pm u$ or $\pm v$). We run it exactly in an orthonormal basis of $X$ (the same trajectory, in $n+2$ instead of
# $d$ dimensions) and compare $P_Xw$ with $w_{\rm uniform}$. The initial component in $X^\perp$ never moves; it adds
# test noise, so the unprojected $w$ is reported too. Claim, part `gd-example-3.2`.

# %%
ex_gd = examples.Example32.paper(n_gd, n_gd**-0.25)
X, y, weak, _ = examples.training_sets32(ex_gd, ex32_seeds)
Q = cao2023.span_basis(X)
w0 = examples.initial_weights(ex32_seeds, n_gd, ex_gd.d, ex32_w0_scale)
c0 = np.einsum("sdr,sd->sr", Q, w0)
run32 = cao2023.train(np.einsum("snpd,sdr->snpr", X, Q), y, c0, lr=ex32_lr, steps=ex32_steps, batchnorm=True)
w_X = np.einsum("sdr,sr->sd", Q, run32.final_w)
w_full = w_X + w0 - np.einsum("sdr,sr->sd", Q, c0)
w_uniform = cao2023.min_norm_interpolator(X, y)
err_X, err_uniform, err_full = (ex_gd.test_error(w).total for w in (w_X, w_uniform, w_full))
print(f"span dimension {Q.shape[-1]} (n + 2 = {n_gd + 2}); D_patch(T) {np.array2string(run32.discrepancy[-1], precision=3)}")
print("err(P_X w_BN):", np.array2string(err_X, precision=4), " err(w_uniform):", np.array2string(err_uniform, precision=4),
      " err(unprojected w_BN):", np.array2string(err_full, precision=4))
verdict.check(f"Ex 3.2 GD (n={n_gd}): max over seeds of D_patch,BN(T)", run32.discrepancy[-1], "<=", 1e-15,
              kind="claim", part="gd-example-3.2", aggregate="max")
verdict.check(f"Ex 3.2 GD (n={n_gd}): max over seeds of 1 - cos(P_X w_BN(T), w_uniform)", 1 - stats.cosine(w_X, w_uniform), "<=", 1e-8,
              kind="claim", part="gd-example-3.2", aggregate="max")
verdict.check(f"Ex 3.2 GD (n={n_gd}): max over seeds of |err(P_X w_BN) / err(w_uniform) - 1|", np.abs(err_X / err_uniform - 1), "<=", 0.01,
              kind="claim", part="gd-example-3.2", aggregate="max")
verdict.measure(f"Ex 3.2 GD (n={n_gd}): min over seeds of the test error of the unprojected w_BN(T)", err_full.min())

# %% [markdown]
# ### Figure: BN-GD's patch-wise discrepancy in the three runs

# %%
fig, ax = plt.subplots(figsize=(6.5, 4))
for label, run in [(rf"Ex. 3.1, $\sigma$={sigma_gd}", good["run"]), (rf"Ex. 3.1, $\sigma$={sigma} (theorem regime)", stiff["run"]),
                   (rf"Ex. 3.2, n={n_gd}", run32)]:
    steps_axis = np.arange(1, run.discrepancy.shape[0])
    ax.loglog(steps_axis, run.discrepancy[1:, 0], label=label)
    ax.fill_between(steps_axis, run.discrepancy[1:].min(axis=1), run.discrepancy[1:].max(axis=1), alpha=0.2, color=ax.lines[-1].get_color())
ax.set(xlabel="step t", ylabel=r"$D_{\rm patch}(w_t)$", title="BN-GD on the examples (line: first seed; band: all seeds)")
ax.legend()
verdict.figure(fig, "examples-gd")
plt.show()

# %% [markdown]
# ## Deviations from the paper

# %%
verdict.deviation(
    "Example 3.2's alpha is inconsistent in the paper: n^-1/2 as printed in the example and in the w_max part "
    "of the proof [p.53], n^-1/4 in the w_uniform part [p.52]. Both are run; the n^-10 bound is a claim "
    "check under the proof's n^-1/4 and an erratum check under the printed n^-1/2."
)
verdict.deviation(
    "Theorem 3.4's n^-10 bound for w_uniform is asymptotic with an unstated n0: under the proof's alpha it holds "
    f"on every seed only from n = {n_from['n^-1/4 (proof)']} of the scan {n_scan} on (0: at no n of the scan); at the "
    "paper scale's scan it holds from n >= 80 and fails at n <= 60. It is judged at the largest n run."
)
verdict.deviation(
    "Theorem 3.4's high-probability event includes 'the training set contains weak examples'; training sets "
    "are conditioned on it by rejection sampling (the fraction of draws without one is reported)."
)
verdict.deviation(
    f"Example 3.1's GD run uses sigma={sigma_gd} (well conditioned) instead of the theorem's sigma >= "
    f"20||u||sqrt(Pd) = {20 * u_norm * np.sqrt(P * d):g}: there, kappa = lambda_min/lambda_max^1.5 is "
    f"{good['kappa'].mean() / stiff['kappa'].mean():.2g} times smaller and the same GD does not converge in "
    f"{gd_steps} steps (measured above). The theorem-regime claim is checked on the exact solutions."
)
verdict.deviation(
    "The paper has no experiments for either example: the data are drawn exactly as defined, with u = e_0, "
    "v = alpha^2 e_1 (rotation invariance), ||u|| = 1, the paper's 'p in [n]' read as p in [P] and "
    "'sigma_0 = d^-1/2' as sigma; lr, initialization and steps of the GD runs are our choices."
)
verdict.deviation(
    "Example 3.1's test errors are sampled (fresh draws); Example 3.2's are the exact Gaussian-CDF formulas, "
    "evaluated for w in span(X), as Theorem 3.4 takes the classifiers (for GD: on P_X w)."
)
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
