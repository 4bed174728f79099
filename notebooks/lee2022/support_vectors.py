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
# # lee2022/support-vectors: the implicit bias of a ReLU neuron is carried by its "support vectors"
#
# > "Specifically, we discover implicit bias in terms of support vectors in ReLU networks, which play a key role
# > in why and how ReLU networks generalize well." (Lee, Sim & Ye 2022, arXiv 2202.05510, **v1 abstract**)
#
# **Only the abstract could be read** (see `docs/papers/lee2022.md`): the paper's definition of a support vector and
# its theorem are unknown. We check the **abstract-level claim** in our own formulation: single neuron
# $\sigma(w^\top x)$, square loss $\frac1{2n}\sum_i(\sigma(w^\top x_i)-y_i)^2$, teacher labels, $d>n$, gradient flow
# $\dot w=-\frac1n\sum_{i\in A(w)}(w^\top x_i-y_i)x_i$ with $A(w)=\{i:w^\top x_i>0\}$. **Support vectors** = the final
# active set $S=A(w_T)$ (ours).
#
# ## Design (pre-registered; version 2 of this notebook)
#
# Version 1's three checks are identities of gradient descent (an inactive point has an exact zero gradient): (i)
# deleting never-active points changes nothing; (ii) $w_T-w_0\in\mathrm{span}\{x_i: i\text{ ever active}\}$; (iii) once the
# pattern is fixed from $\tau$ on, $w_T=w_\tau+X_S^+(y_S-X_Sw_\tau)$. They fail only on a bug: here they are **sanity**.
# What can fail:
#
# - part **`limit`**: *the support vectors determine the limit*. The characterization we test is
#   $$w_T = w_0 + X_S^+(y_S-X_Sw_0),$$
#   the least-squares solution on the support vectors closest to the init: what the gradient flow gives for linear
#   regression on $S$, predicted from $S$ and $w_0$ alone, without the path. It is **not** an identity: a point that is
#   active for a while and then leaves $S$ pushes $w$ along $x_i$, out of the span of $S$, and then the formula
#   misses $w_T$. It holds exactly when no point leaves. Among the runs whose activation pattern changes (the case
#   that matters: on a fixed pattern it is linear least squares), the claim check asks that the formula hold
#   (relative error $\le10^{-6}$) in $\ge99\%$ of runs (fraction, exact interval). Why $10^{-6}$: the identity (iii)
#   is checked at $10^{-8}$, so a converged $w_T$ is that close to its limit, and the pilot found the errors of the
#   runs where a point left to be $\ge10^{-5}$ (a gap of an order or more). Why $99\%$ and not 1: a universal
#   characterization fails on a worst case, but the pilot showed it holding in about 8 % of the runs, far from any
#   tolerance; a fraction with an interval says how far, and 1 % leaves room for runs where the tolerance is missed
#   by a slow last phase. **Positive control** (same part): the linear neuron, where every point is in the gradient
#   and so a support vector, must meet the same formula with $S$ = all points in $\ge99\%$ of runs (the measurement
#   can pass). The same formula with the *initial* active set (a prediction before training) is reported.
# - part **`reactivation`** (a third-party summary of the paper, AI-generated and of low reliability, says the ReLU
#   neuron "never reactivated a deactivated feature" while the linear one did): *the ReLU neuron reactivates less
#   often than the linear neuron*, per seed on the same data and init: the mean of the paired differences
#   $1[\text{no reactivation, ReLU}]-1[\text{no reactivation, linear}]$ must be $>0$ on its whole t interval.
# - part **`never-reactivates`** (the same summary's stronger statement, kept as version 1's contrary evidence):
#   among the runs where some point was deactivated, the fraction with no reactivation must be $\ge99\%$ (the same
#   tolerance as `limit`; a fraction against 1 could never pass). Version 1 saw 25 % of 20 seeds reactivate.
#
# A point is *reactivated* when it was active, then inactive, then active again, each state with
# $|z_i|/(\|w\|\|x_i\|)>10^{-10}$ (hysteresis, see `neuron.Flow`; label-0 points sit on the kink and flip sign at
# rounding level). With a hysteresis of $10^{-6}$ the count is reported too.
#
# **Step.** The pilot (seeds $\ge$ 5 000 000) found reactivation counts depend on the Euler step: 10.6 % at $\eta=0.05$
# (version 1's step), 8.2 %, 7.6 %, 7.2 %, 7.2 % at $\eta/2,\dots,\eta/16$. Euler overshoots the kink and creates spurious
# reactivations at large steps, so this version uses $\eta=0.0125$ (within 0.4 points of the limit); the last pattern
# change came by $t\le7$ in every pilot run, so $T=50$. Seeds: 2000. A pilot of this notebook at this size on seeds
# 5 000 000 + (0..1999) gave: the formula in 8.9 % of runs whose pattern changes, reactivation 8.5 % (ReLU) vs 47.6 %
# (linear), 78 s CPU: every check is decided with a few hundred seeds; 2000 keep it decided on seeds nobody has seen.
#
# **Regime**: some run has a never-active point (else the deletion identity is vacuous); the final pattern is reached by
# $T/2$ in every run, at $\eta$ and $\eta/2$ (else $S$ is not final).

# %% tags=["parameters"]
claim_id = "lee2022/support-vectors"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3, 4, 5, 6, 7]  # the registry gives 2000 at paper scale
threads = 1
n = 10
d = 50
w0_scale = 0.1
eta = 0.0125
steps = 4000
limit_tolerance = 1e-6
strict_tol = 1e-6

# %%
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from bnrepro import claims, stats
from bnrepro.lee2022 import support

verdict = claims.open(
    claim_id,
    statement=(
        "Checked against the abstract-level claim only (paper body unavailable): on the gradient flow of a single ReLU "
        "neuron (square loss, teacher labels, d > n), the support vectors (the final active set) determine the limit: "
        "w_T is the least-squares solution on them closest to the init. Reactivation: the ReLU neuron reactivates a "
        "deactivated point less often than a linear neuron, and (third-party summary) never."
    ),
    source="v1 abstract ('implicit bias in terms of support vectors'); definitions not available; reactivation: a "
           "third-party AI summary of the paper (low reliability)",
    evidence="abstract",
    stand_ins=[
        "model: relu(w^T x), no bias, square loss, Gaussian inputs, teacher labels, n = 10, d = 50 (our formulation)",
        "definition: support vectors = the final active set (ours); the limit characterization w0 + X_S^+(y_S - X_S w0) (ours)",
        "reactivation book-kept with a 1e-10 hysteresis on z_i / (||w|| ||x_i||) (ours)",
        "control: the linear neuron w^T x on the same data and init (ours)",
        "gradient flow: explicit Euler (full-batch GD) at a finite step",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
record = max(steps // 100, 1)
print(f"n={n}, d={d}, ||w0||={w0_scale}, Euler eta={eta}, T={steps * eta:g}, {len(seeds)} seeds; numpy float64")

# %% [markdown]
# ## Run: the ReLU neuron; the same with never-active points deleted; at $\eta/2$; the linear neuron; the ReLU neuron book-kept with a $10^{-6}$ hysteresis
#
# Deleting point $i$ = replacing it with the null point $(0,0)$ (zero loss and gradient, the seeds stay batched, the
# $1/n$ keeps the original $n$).

# %%
runs = support.support_vector_runs(seeds, n, d, w0_scale, eta=eta, steps=steps, record_every=record, strict_tol=strict_tol)
relu, linear = runs.relu, runs.linear
changed = runs.changed
print(f"pattern changes in {changed.sum()}/{len(seeds)} runs; some point deactivated in {runs.deactivated.sum()}; "
      f"never-active points in {np.sum((~relu.ever_active).any(axis=1))} runs")
print("final active set size: quantiles", np.quantile(relu.final_active.sum(axis=1), [0, 0.5, 1]),
      "| final loss quantiles", np.array2string(np.quantile(relu.loss[-1], [0, 0.5, 1]), precision=3))

# %% [markdown]
# ## Sanity: the three identities (worst case over runs), and the regime

# %%
verdict.check("some run has a never-active point (max over runs of the indicator)", (~relu.ever_active).any(axis=1), ">=", 1,
              kind="regime", aggregate="max")
for tag, f in [("", relu), ("eta/2: ", runs.half)]:
    verdict.check(f"{tag}max over runs of t_tau / T (final pattern reached by T/2)", f.last_change * f.eta / (steps * eta),
                  "<=", 0.5, kind="regime", aggregate="max")
verdict.check("(i) max over runs and t of ||w_deleted(t) - w(t)||", runs.deletion, "<=", 1e-12, kind="sanity", aggregate="max")
verdict.check("(ii) max over runs of ||(I - P_ever active)(w_T - w_0)|| / ||w_T - w_0||", runs.span, "<=", 1e-10, kind="sanity",
              aggregate="max")
verdict.check("(iii) max over runs of ||w_T - [w_tau + X_S^+(y_S - X_S w_tau)]|| / ||w_T||", runs.error_tau, "<=", 1e-8,
              kind="sanity", aggregate="max")

# %% [markdown]
# ## Part `limit`: do the support vectors determine the limit from the init?

# %%
left = np.any(relu.ever_active & ~relu.final_active, axis=1)
holds = runs.error_support <= limit_tolerance
print(f"formula holds in {holds[changed].sum()}/{changed.sum()} runs whose pattern changes; "
      f"a point left S in {left.sum()} runs; formula holds <=> no point left: {np.all(holds == ~left)}")
print("relative error quantiles (runs whose pattern changes):",
      np.array2string(np.quantile(runs.error_support[changed], [0, 0.25, 0.5, 0.75, 1]), precision=3))
verdict.check(f"fraction of runs whose pattern changes with w_T = w0 + X_S^+(y_S - X_S w0) (rel. error <= {limit_tolerance:g})",
              holds[changed], ">=", 0.99, kind="claim", part="limit", aggregate="fraction")
verdict.check(f"linear neuron: fraction of runs with w_T = w0 + X^+(y - X w0) (rel. error <= {limit_tolerance:g})",
              runs.error_linear <= limit_tolerance, ">=", 0.99, kind="control", part="limit", aggregate="fraction")
verdict.measure("median relative error of the support-vector formula (runs whose pattern changes)", np.median(runs.error_support[changed]))
verdict.measure("smallest relative error of the formula among runs where a point left S",
                runs.error_support[left].min() if left.any() else np.nan)
verdict.measure("largest relative error of the formula among runs where no point left S",
                runs.error_support[~left].max() if (~left).any() else np.nan)
verdict.measure("fraction of runs whose pattern changes where the formula on the initial active set holds (prediction before training)",
                np.mean(runs.error_initial[changed] <= limit_tolerance))

# %% [markdown]
# ## Parts `reactivation` and `never-reactivates`

# %%
re_relu, re_lin = relu.reactivated.any(axis=1), linear.reactivated.any(axis=1)
re_half, re_strict = runs.half.reactivated.any(axis=1), runs.relu_strict.reactivated.any(axis=1)
print(f"runs with a reactivated point: ReLU {re_relu.sum()}, ReLU at eta/2 {re_half.sum()}, ReLU with hysteresis "
      f"{strict_tol:g} {re_strict.sum()}, linear {re_lin.sum()} (of {len(seeds)})")
verdict.check("no-reactivation rate, ReLU minus linear neuron (mean of per-seed paired differences)",
              (~re_relu).astype(float) - (~re_lin).astype(float), ">", 0, kind="claim", part="reactivation", aggregate="mean")
verdict.check("fraction of runs with a deactivated point where the ReLU neuron never reactivates one",
              ~re_relu[runs.deactivated], ">=", 0.99, kind="claim", part="never-reactivates", aggregate="fraction")
verdict.measure("fraction of runs with a reactivated point, ReLU", re_relu.mean())
verdict.measure("fraction of runs with a reactivated point, ReLU at eta/2", re_half.mean())
verdict.measure(f"fraction of runs with a reactivated point, ReLU, hysteresis {strict_tol:g}", re_strict.mean())
verdict.measure("fraction of runs with a reactivated point, linear neuron", re_lin.mean())
verdict.measure("number of runs whose final active set changes when eta is halved",
                np.sum(np.any(runs.half.final_active != relu.final_active, axis=1)))
gap_lin = np.linalg.norm(relu.final_w - linear.final_w, axis=1) / np.linalg.norm(linear.final_w, axis=1)
verdict.measure("median over runs of ||w_T(ReLU) - w_T(linear)|| / ||w_T(linear)||", np.median(gap_lin))
low, high = stats.binomial_interval(int(re_relu.sum()), re_relu.size)
print(f"ReLU reactivation rate {re_relu.mean():.4f}, 95% interval [{low:.4f}, {high:.4f}]")

# %% [markdown]
# ## Figure: the normalized outputs $z_i/\|x_i\|$ of one run where a point leaves, and the formula's error per run

# %%
shown = int(np.flatnonzero(left & re_relu)[0]) if (left & re_relu).any() else int(np.argmax(left))
fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
for ax, f, title in [(axes[0], relu, "ReLU"), (axes[1], linear, "linear neuron")]:
    z = np.einsum("nd,rd->rn", runs.X[shown], f.w[:, shown]) / np.linalg.norm(runs.X[shown], axis=1)
    colours = sns.color_palette("husl", n)
    for i in range(n):
        ax.plot(f.t[1:], z[1:, i], color=colours[i], ls="-" if relu.final_active[shown, i] else "--", lw=1)
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.axhline(0, color="k", lw=0.8)
    ax.set(xlabel="t", ylabel=r"$w^\top x_i/\|x_i\|$", title=f"seed {seeds[shown]}, {title} (dashed: not a ReLU support vector)")
floor = 1e-18
bins = np.logspace(-18, 0, 37)
axes[2].hist(np.maximum(runs.error_support, floor), bins=bins, alpha=0.6, label="ReLU, support-vector formula")
axes[2].hist(np.maximum(runs.error_tau, floor), bins=bins, alpha=0.6, label="ReLU, from w_tau (identity)")
axes[2].hist(np.maximum(runs.error_linear, floor), bins=bins, alpha=0.6, label="linear neuron, all points")
axes[2].axvline(limit_tolerance, color="k", ls=":")
axes[2].set_xscale("log")
axes[2].set(xlabel="relative error of the limit formula (0 shown at 1e-18)", ylabel="runs", title="limit formulas, per run")
axes[2].legend(fontsize=8)
verdict.figure(fig, "support-vectors")
plt.show()

# %% [markdown]
# ## Deviations

# %%
verdict.deviation(
    "Paper body unavailable: this checks the v1 abstract's sentence through our derived model (relu(w^T x), no bias, "
    "loss (1/2n) sum (f - y)^2, teacher labels, Gaussian inputs); 'support vectors' = the final active set and the limit "
    "characterization are our reading, not the paper's definitions."
)
verdict.deviation(
    "Redesigned (version 2 of this notebook, pre-registered before its paper-scale run): version 1's identities are "
    "sanity checks; the claim parts are the support-vector characterization of the limit, reactivation against the "
    "linear neuron, and 'never reactivates'. The step went from eta = 0.05 to 0.0125 and T from 2000 to 50 after a pilot "
    "on seeds >= 5 000 000 (reactivation counts depend on the step; every pattern was final by t = 7)."
)
verdict.deviation(
    "Deleting a point = replacing it by the null point (0, 0) with the 1/n normalization at the original n "
    "(vectorizes over seeds; deleting rows and renormalizing would only rescale time)."
)
verdict.deviation(
    "The activation pattern is book-kept with a hysteresis of 1e-10 on z_i / (||w|| ||x_i||): label-0 points are "
    "pulled onto the kink z_i = 0 and then flip sign at rounding level every step. The dynamics uses the strict z_i > 0."
)
verdict.deviation(f"Gradient flow approximated by explicit Euler with eta = {eta}, T = {steps * eta:g}; step halving reported.")
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
