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
# # lee2022/norm-increase: the norm of a single ReLU neuron's weight strictly increases on the gradient flow
#
# > "Lastly, under some conditions, we prove that the norm of the learned weight strictly increases on the
# > gradient flow." (Lee, Sim & Ye 2022, arXiv 2202.05510, **v1 abstract**)
# >
# > v2 (June 2022): "... show that the norm of the learned weight strictly increases through the gradient flow"
# > (the qualifier "under some conditions" is gone).
#
# **Only the abstracts could be read** (see `docs/papers/lee2022.md`): the theorem, its conditions, the loss
# normalization and the data are unknown. We check the **abstract-level claim** in our own formulation:
# $f(x)=\sigma(w^\top x)$, $L=\frac1{2n}\sum_i(\sigma(w^\top x_i)-y_i)^2$, teacher labels $y=\sigma(v^\top x)$,
# $\|v\|=1$, $x\sim N(0,I_d)$, and the derived identity (tested in `tests/test_lee2022.py`)
# $$\tfrac{d}{dt}\tfrac12\|w\|^2=N(w):=\tfrac1n\sum_{i\in A(w)}(y_i-z_i)z_i,\qquad z_i=w^\top x_i .$$
# For a small init $N(w_0)\approx\frac1n\sum_{A(w_0)}y_iz_i\ge0$, and $N(w_0)\le0$ exactly when no initially active
# point has a positive label (the init points away from the teacher).
#
# **Gradient flow**: explicit Euler (= full-batch GD) with step $\eta$, thousands of seeds at once, keeping per seed
# only what the checks need; runs whose loss is below $10^{-16}$ (nothing left to judge) leave the batch
# (`bnrepro.lee2022.monotone`).
#
# ## Design (pre-registered; version 2 of this notebook)
#
# Version 1 asked for strict increase in $\ge95\%$ of 20 seeds at $d=2$: the true rate there is about 0.92 (every
# failure has $N(w_0)\le0$), so 20 seeds passed or failed by one seed. This version separates two statements, each
# per $d\in\{2,5\}$, each on `len(seeds)` = 2000 seeds at paper scale:
#
# - part **`derived-condition`** (v1's "under some conditions", with a condition we derived, a stand-in): *the norm
#   strictly increases whenever $N(w_0)>0$*;
# - part **`unconditional`** (v2's wording, for a small init in any direction): *the norm strictly increases*.
#
# "Strictly increases" = $\|w_{k+1}\|>\|w_k\|$ at every Euler step taken while the loss is $\ge$ `loss_floor`; for the
# unconditional part a run also needs $N(w_0)>0$, because $N(w_0)<0$ means the **flow's** norm decreases at $t=0$
# exactly, while Euler's extra $+\eta^2\|\nabla L\|^2/2$ can hide a decrease of size $O(\|w_0\|^2)$ (a pilot saw this).
#
# **Thresholds.** Both statements say *always*. A fraction compared with 1 can never pass (an exact binomial interval
# never lies above 1), and a tolerance such as "$\ge99\%$" would decide a universal statement by our choice of 1 %:
# the pilot (below) found rates of 0.992-0.995 at $d=5$, which 2000 seeds cannot separate from 0.99. So each claim
# check is the **worst case** over the runs (`aggregate="min"` of the per-run indicator, $\ge1$): it passes when no run
# of the 2000 is a counterexample and fails on one resolved counterexample. It can pass (a pilot: 0 counterexamples in
# about 2200 runs with $N(w_0)>0$ at $d=2$) and fail (one counterexample suffices). A pass is bounded, not proved: the
# rate of counterexamples is then below the exact 95 % upper bound $1-0.025^{1/m}$ for $m$ runs (reported). The
# fraction and its exact binomial interval are reported beside each worst case (measurements), so the rate is visible.
#
# **`loss_floor` = 1e-12.** Near the limit the norm can approach $\|v\|$ from above: the pilot saw, at $d=5$, runs
# with $N(w_0)>0$ whose norm overshoots $\|v\|$ by $\sim10^{-6}$ at loss $\sim10^{-11}$ and comes back. Below 1e-12 the
# iterate is within $\sim10^{-6}$ of $v$ and what remains is the approach to the limit, not training; such late
# decreases (loss in $[10^{-16},10^{-12})$) are counted and reported, not judged. Above the floor they are judged.
# The floor was chosen after the pilot (seeds $\ge$ 5 000 000) and is part of this pre-registration.
#
# **Pilot** (this notebook at paper size on seeds 5 000 000 + (0..1999), 56 s CPU): unconditional 0.9175 ($d=2$) and
# 0.9925 ($d=5$); with $N(w_0)>0$, 1835/1835 ($d=2$) and 1985/1995 ($d=5$, first decreases at $t$ between 30 and 118, after
# the escape from the small init). So we expect the worst cases to fail at $d=5$ for both parts and at $d=2$ for the
# unconditional one, and the derived condition to hold at $d=2$ (its failure rate is then below the reported bound).
#
# **Controls and sanity.**
# - *control* (both parts): from $\|w_0\|=$ `large_scale` $=3\|v\|$ the norm decreases at the first step in $\ge90\%$
#   of runs: the measurement sees a decrease where one is expected (fraction, exact interval).
# - *control* (part `derived-condition`): how the derived-condition check could fail. $N(w_0)>0$ only says the norm
#   grows at $t=0$; from $\|w_0\|=$ `mid_scale` $=0.5$ the pilot saw about 17 % of runs with $N(w_0)>0$ decrease later.
#   The control asks that the fraction of such runs that strictly increase is $<0.99$ (on `control_seeds`): the same
#   measurement does see a violation of the derived condition's conclusion where it is not expected to hold.
# - *sanity*: sign$(\Delta\|w\|)$ = sign$(N(w_k))$ in $\ge99.9\%$ of steps (Euler adds $\eta^2\|\nabla L\|^2/2$, so only
#   steps with $N$ within $O(\eta)$ of 0 may disagree); step halving on `halving_seeds`: no run with $N(w_0)>0$ changes
#   its outcome at $\eta/2$ (runs with $N(w_0)\le0$ may: that is the Euler artefact above).

# %% tags=["parameters"]
claim_id = "lee2022/norm-increase"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3, 4, 5, 6, 7]  # the registry gives 2000 at paper scale
control_seeds = [0, 1, 2, 3]  # 1000 at paper scale
halving_seeds = [0, 1]  # 250 at paper scale
threads = 1
n = 50
d_scan = [2, 5]
small_scale = 0.001
mid_scale = 0.5
large_scale = 3.0
eta = 0.01
steps = 20000
loss_floor = 1e-12
rounding_floor = 1e-16

# %%
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from bnrepro import claims, stats
from bnrepro.lee2022 import monotone

verdict = claims.open(
    claim_id,
    statement=(
        "Checked against the abstract-level claim only (paper body unavailable): on the gradient flow of a single ReLU "
        "neuron with square loss and teacher labels, from a small initialization, the weight norm strictly increases "
        "(v2: unconditionally; v1: under some conditions, here the derived condition N(w0) > 0)."
    ),
    source="v1 abstract, last sentence; v2 abstract (without 'under some conditions'); theorem not available",
    evidence="abstract",
    stand_ins=[
        "model: relu(w^T x), no bias, square loss (1/2n) sum (f - y)^2, Gaussian inputs, teacher labels, n = 50 (ours)",
        "the abstract's 'conditions': small initialization (||w0|| = 1e-3 ||v||, random direction) + teacher labels (ours)",
        "derived condition N(w0) = (1/n) sum_A (y_i - z_i) z_i > 0 at t = 0 (derived here)",
        "'strictly increases': at every Euler step while the loss is >= 1e-12 (ours); 'always': worst case over 2000 runs",
        "gradient flow: explicit Euler (full-batch GD) at a finite step",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
print(f"n={n}, d in {d_scan}, ||w0|| in ({small_scale}, {mid_scale}, {large_scale}), Euler eta={eta}, T={steps * eta:g}, "
      f"{len(seeds)} seeds (control {len(control_seeds)}, step halving {len(halving_seeds)}); numpy float64")

# %% [markdown]
# ## Runs
#
# Per $d$: the small init on every seed; the same at $\eta/2$ on `halving_seeds`; the middle init on `control_seeds`;
# the large init for one step (the control only looks at the start). Same data and direction for every norm.

# %%
small, cos0, halved, mid, large = {}, {}, {}, {}, {}
for d in d_scan:
    small[d], cos0[d] = monotone.norm_increase_runs(seeds, n, d, small_scale, eta=eta, steps=steps, loss_floor=loss_floor,
                                                    rounding_floor=rounding_floor)
    halved[d], _ = monotone.norm_increase_runs(halving_seeds, n, d, small_scale, eta=eta / 2, steps=2 * steps,
                                               loss_floor=loss_floor, rounding_floor=rounding_floor)
    mid[d], _ = monotone.norm_increase_runs(control_seeds, n, d, mid_scale, eta=eta, steps=steps, loss_floor=loss_floor,
                                            rounding_floor=rounding_floor)
    large[d], _ = monotone.norm_increase_runs(seeds, n, d, large_scale, eta=eta, steps=1)
    r = small[d]
    print(f"d={d}: N(w0) > 0 in {np.sum(r.rate0 > 0)}/{len(seeds)}; Euler-increasing {r.increasing.sum()}; "
          f"late decreases {r.late_decrease.sum()}; max final loss {r.final_loss.max():.2e}")

# %% [markdown]
# ## Part `unconditional` (v2's wording): every small-init run's norm strictly increases
#
# Per run: Euler-increasing above the floor and $N(w_0)>0$. Worst case over the runs (see the design above).

# %%
flow_increasing = {d: small[d].increasing & (small[d].rate0 > 0) for d in d_scan}
for d in d_scan:
    ok = flow_increasing[d]
    low, high = stats.binomial_interval(int(ok.sum()), ok.size)
    print(f"d={d}: {ok.sum()}/{ok.size} strictly increase, fraction {ok.mean():.4f}, 95% interval [{low:.4f}, {high:.4f}]; "
          f"N(w0) <= 0 in {np.sum(small[d].rate0 <= 0)} runs (exact counterexamples of the flow at t = 0), "
          f"decrease with N(w0) > 0 in {np.sum(~small[d].increasing & (small[d].rate0 > 0))}")
    verdict.measure(f"d={d}: fraction of small-init runs whose norm strictly increases", ok.mean())
    verdict.measure(f"d={d}: its exact 95% interval, low", low)
    verdict.measure(f"d={d}: its exact 95% interval, high", high)
    verdict.measure(f"d={d}: fraction of small-init runs with N(w0) <= 0 (the flow's norm decreases at t = 0)",
                    np.mean(small[d].rate0 <= 0))
    verdict.check(f"d={d}: every small-init run's norm strictly increases (worst case over runs)", ok, ">=", 1,
                  kind="claim", part="unconditional", aggregate="min")

# %% [markdown]
# ## Part `derived-condition` (v1's "under some conditions"): strict increase whenever $N(w_0)>0$

# %%
for d in d_scan:
    r = small[d]
    ok = r.increasing[r.rate0 > 0]
    low, high = stats.binomial_interval(int(ok.sum()), ok.size)
    failing = np.flatnonzero((r.rate0 > 0) & ~r.increasing)
    print(f"d={d}: {ok.sum()}/{ok.size} runs with N(w0) > 0 strictly increase, interval [{low:.4f}, {high:.4f}]; "
          f"failing seeds {np.asarray(seeds)[failing][:10].tolist()} first decrease at t = {r.first_decrease[failing][:10]}; "
          f"cos(w0, v) there {np.array2string(cos0[d][failing][:10], precision=2)}")
    verdict.measure(f"d={d}: fraction of runs with N(w0) > 0 whose norm strictly increases", ok.mean())
    verdict.measure(f"d={d}, N(w0) > 0: exact 95% interval of that fraction, low", low)
    verdict.measure(f"d={d}, N(w0) > 0: exact 95% interval of that fraction, high", high)
    verdict.measure(f"d={d}: fraction of runs with N(w0) > 0 whose norm decreases only below the floor (late, loss < 1e-12)",
                    np.mean(r.late_decrease[r.rate0 > 0] & r.increasing[r.rate0 > 0]))
    if failing.size:
        verdict.measure(f"d={d}: largest drop of ||w|| from its peak among runs with N(w0) > 0 that fail (peak - final)",
                        np.max(r.peak_norm[failing] - r.final_norm[failing]))
    verdict.check(f"d={d}: every run with N(w0) > 0 has a strictly increasing norm (worst case over runs)", ok, ">=", 1,
                  kind="claim", part="derived-condition", aggregate="min")

# %% [markdown]
# ## Controls: the measurement sees a decrease where one is expected

# %%
decrease = np.concatenate([large[d].initial_decrease for d in d_scan])
verdict.check(f"fraction of (seed, d) whose norm decreases at the first step from ||w0|| = {large_scale}", decrease, ">=", 0.9,
              kind="control", aggregate="fraction")
mid_ok = np.concatenate([mid[d].increasing[mid[d].rate0 > 0] for d in d_scan])
verdict.check(f"fraction of (seed, d) with N(w0) > 0 from ||w0|| = {mid_scale} whose norm strictly increases", mid_ok, "<", 0.99,
              kind="control", part="derived-condition", aggregate="fraction")

# %% [markdown]
# ## Sanity: sign agreement with the derived identity, and step halving

# %%
agree = sum(small[d].sign_agree + mid[d].sign_agree for d in d_scan)
total = sum(small[d].sign_total + mid[d].sign_total for d in d_scan)
verdict.check("fraction of steps where sign(Delta ||w||) = sign(N(w_k)) (small and middle init, all d)", agree / total, ">=", 0.999,
              kind="sanity")
k = len(halving_seeds)
flips = sum(int(np.sum((small[d].increasing[:k] != halved[d].increasing) & (small[d].rate0[:k] > 0))) for d in d_scan)
verdict.check("number of runs with N(w0) > 0 whose outcome changes when eta is halved", flips, "<=", 0, kind="sanity")
verdict.measure("number of runs with N(w0) <= 0 whose Euler outcome changes when eta is halved",
                sum(int(np.sum((small[d].increasing[:k] != halved[d].increasing) & (small[d].rate0[:k] <= 0))) for d in d_scan))

# %% [markdown]
# ## Figure: where the counterexamples sit
#
# Left: $N(w_0)/\|w_0\|$ against $\cos(w_0,v)$ per run; red = the norm does not strictly increase. Right: the time of
# the first decrease for the runs that fail.

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
colours = sns.color_palette(n_colors=4)
for j, d in enumerate(d_scan):
    ok = flow_increasing[d]
    axes[0].scatter(cos0[d][ok], small[d].rate0[ok] / small_scale, s=3, color=colours[j], alpha=0.4, label=f"d={d}, increases")
    axes[0].scatter(cos0[d][~ok], small[d].rate0[~ok] / small_scale, s=12, color=colours[3] if j == 0 else colours[2],
                    marker="x", label=f"d={d}, does not ({np.sum(~ok)})")
    t_fail = small[d].first_decrease[np.isfinite(small[d].first_decrease)]
    axes[1].hist(t_fail, bins=np.logspace(-2, np.log10(steps * eta), 30), color=colours[j], alpha=0.6, label=f"d={d}")
axes[0].axhline(0, color="k", lw=0.8)
axes[0].set_yscale("symlog", linthresh=1e-3)
axes[0].set(xlabel=r"$\cos(w_0, v)$", ylabel=r"$N(w_0)/\|w_0\|$", title=f"small init, {len(seeds)} seeds per d")
axes[0].legend(fontsize=8)
axes[1].set_xscale("log")
axes[1].set(xlabel="t of the first decrease (loss >= 1e-12)", ylabel="runs", title="runs whose norm decreases")
axes[1].legend()
verdict.figure(fig, "norm-increase-counterexamples")
plt.show()

# %% [markdown]
# ## Deviations

# %%
verdict.deviation(
    "Paper body unavailable: this checks the abstracts' sentence through our derived model (relu(w^T x), no bias, "
    "loss (1/2n) sum (f - y)^2, teacher labels, Gaussian inputs), not the paper's theorem, conditions or experiments."
)
verdict.deviation(
    "Redesigned (version 2 of this notebook, pre-registered before its paper-scale run): two parts, "
    "'unconditional' (v2's wording) and 'derived-condition' (N(w0) > 0), each a worst case over 2000 runs per d; "
    "version 1 asked for >= 95% of 20 seeds. loss_floor raised from 1e-16 to 1e-12 after a pilot on seeds >= 5 000 000 "
    "(late overshoots of ||v|| by ~1e-6 are reported, not judged)."
)
verdict.deviation(
    f"Gradient flow approximated by explicit Euler with eta = {eta} (full-batch GD), T = {steps * eta:g}; step halving "
    f"on {len(halving_seeds)} seeds (sanity)."
)
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
