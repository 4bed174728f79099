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
# > gradient flow." (Lee, Sim & Ye 2022, arXiv 2202.05510 **v1 abstract**; v2 drops "under some conditions")
#
# **Only the abstract could be read** (spec `shared/papers/lee2022.md`, "Source availability"): the theorem,
# its conditions, the loss normalization and the data are unknown. This notebook checks the **abstract-level
# claim** through the spec's derived formulation [D], not the paper's theorem:
# $f(x)=\sigma(w^\top x)$, $L=\frac1{2n}\sum_i(\sigma(w^\top x_i)-y_i)^2$, teacher labels $y=\sigma(v^\top x)$, $\|v\|=1$,
# $x\sim N(0,I_d)$, and the identity (derived, tested in `tests/test_lee2022.py`)
# $$\tfrac{d}{dt}\tfrac12\|w\|^2=\tfrac1n\sum_{i\in A(w)}(y_i-z_i)z_i,\qquad z_i=w^\top x_i,$$
# positive e.g. when $0<z_i<y_i$ on the active set, which small initialization with teacher labels suggests.
#
# **Gradient flow**: explicit Euler (= full-batch GD) with step $\eta$, all seeds at once; why Euler: see
# `bnrepro.lee2022.neuron`. Step halving is checked below.
#
# **Checks** (verdict version 2; the "conditions" are our stand-in: small init + teacher labels):
# - *claim, part `small-init`*: at $\|w_0\|=$ `small_scale` (random direction), $\|w\|$ grows at every step before
#   the loss reaches `loss_floor`, in $\ge95\%$ of the seeds, for each $d$ (fraction, exact binomial interval);
# - *claim, part `derived-condition`*: the same among the runs with $N(w_0)>0$, our derived condition;
# - *control*: at $\|w_0\|=$ `large_scale`, $\|w\|$ decreases at the start in $\ge90\%$ of runs (the measurement
#   must be able to see a decrease);
# - *sanity*: the measured $\Delta\|w\|$ has the sign of the derived expression (an identity of the Euler step, up
#   to $O(\eta)$ near zero); halving $\eta$ flips no per-seed outcome.

# %% tags=["parameters"]
claim_id = "lee2022/norm-increase"
scale = "paper"
seed_offset = 0
seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
threads = 1
n = 50
d_scan = [2, 5]
small_scale = 0.001
large_scale = 3.0
eta = 0.01
steps = 20000
loss_floor = 1e-16

# %%
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from bnrepro import claims
from bnrepro import lee2022, stats

verdict = claims.open(
    claim_id,
    statement=(
        "Checked against the abstract-level claim only (paper body unavailable): on the gradient flow of a "
        "single ReLU neuron with square loss and teacher labels, the weight norm strictly increases from a small "
        "initialization, not from a large one; the sign of the norm change follows the derived identity "
        "d/dt ||w||^2/2 = (1/n) sum_A (y_i - z_i) z_i."
    ),
    source="v1 abstract, last sentence (theorem not available)",
    evidence="abstract",
    stand_ins=[
        "model: relu(w^T x), no bias, square loss, Gaussian inputs, teacher labels (our formulation)",
        "the abstract's 'conditions': small initialization + teacher labels (ours); N(w0) > 0 (derived here)",
        "gradient flow: explicit Euler (full-batch GD) at a finite step",
    ],
    scale=scale, seeds=seeds, threads=threads, seed_offset=seed_offset,
)
S = len(seeds)
print(f"n={n}, d in {d_scan}, ||w0|| in ({small_scale}, {large_scale}), Euler eta={eta}, T={steps * eta:g}; numpy float64")

# %% [markdown]
# ## Run: small and large initialization, every $d$, at $\eta$ and at $\eta/2$
#
# Same data and same initial direction for both norms. The $\eta/2$ run records at the same times.

# %%
runs = {}
for d in d_scan:
    X, y, v = lee2022.teacher_data(seeds, n, d)
    w0 = np.concatenate([lee2022.init_weights(seeds, d, small_scale), lee2022.init_weights(seeds, d, large_scale)])
    XX, yy = np.concatenate([X, X]), np.concatenate([y, y])
    full = lee2022.flow(XX, yy, w0, eta=eta, steps=steps)
    half = lee2022.flow(XX, yy, w0, eta=eta / 2, steps=2 * steps, record_every=2)
    runs[d] = (full, half)
    print(f"d={d}: done; final loss max (small init) {full.loss[-1, :S].max():.2e}, (large) {full.loss[-1, S:].max():.2e}")

# %% [markdown]
# ## Claim, part `small-init`: strict increase from small initialization
#
# Per $d$: the fraction of seeds whose $\|w\|$ grows at every step while the loss is $\ge$ `loss_floor` (below it
# $w$ sits on the teacher to rounding). 95% is the spec's threshold: at most one seed in twenty may fail, a
# tolerance for rare initial directions, not for a systematic exception. One check per $d$: each $d$ is a different
# data distribution, and the claim is stated for any. Each is decided on the exact binomial interval over the seeds:
# with 20 seeds even 20/20 gives [0.83, 1], which cannot decide a 95% threshold (a finding, not a failure).

# %%
inc = {d: lee2022.strictly_increasing(f.norm[:, :S], f.loss[:, :S], loss_floor) for d, (f, _) in runs.items()}
for d in d_scan:
    print(f"d={d}: norm strictly increasing in {inc[d].sum()}/{S} seeds; failing seeds: {np.asarray(seeds)[~inc[d]].tolist()}")
for d in d_scan:
    verdict.check(f"d={d}: fraction of seeds with ||w|| strictly increasing (small init)", inc[d], ">=", 0.95,
                  kind="claim", part="small-init", aggregate="fraction")

# %% [markdown]
# ## Sanity: the measured norm change follows the derived expression
#
# Euler gives $\Delta\tfrac12\|w\|^2=\eta\,N(w)+\tfrac12\eta^2\|\nabla L\|^2$ with $N$ the derived expression, so the
# signs can disagree only where $|N|$ is within $O(\eta)$ of zero; 99.9% of steps (both initializations, all $d$,
# steps with loss $\ge$ `loss_floor`) allows that and nothing systematic.

# %%
agree, total = 0, 0
for f, _ in runs.values():
    valid = f.loss[:-1] >= loss_floor
    agree += np.sum((np.sign(np.diff(f.norm, axis=0)) == np.sign(f.norm_rate[:-1])) & valid)
    total += valid.sum()
verdict.check("fraction of steps where sign(Delta ||w||) = sign of (1/n) sum_A (y-z) z", agree / total, ">=", 0.999,
              kind="sanity")

# %% [markdown]
# ## Control: large initialization
#
# From $\|w_0\|=3\|v\|$ most active points have $z_i>y_i$, and the derived expression predicts a decrease. 90% is the
# spec's threshold.

# %%
decrease = np.concatenate([f.norm[1, S:] < f.norm[0, S:] for f, _ in runs.values()])
verdict.check(f"fraction of (seed, d) where ||w|| decreases at the start from ||w0|| = {large_scale}", decrease, ">=", 0.9,
              kind="control", aggregate="fraction")
verdict.measure("fraction of (seed, d) with ||w|| strictly increasing from the large init",
                np.mean(np.concatenate([lee2022.strictly_increasing(f.norm[:, S:], f.loss[:, S:], loss_floor) for f, _ in runs.values()])))

# %% [markdown]
# ## What separates the failing seeds: the sign of the derived rate at $t=0$
#
# Its own part (a condition we derived, so a stand-in): where small init fails, is it because the initial direction is
# such that the active points carry (almost) no teacher signal, $N(w_0)<0$? We test the derived condition
# "$N(w_0)>0$" as the missing "condition": among seeds that satisfy it, the same 95% threshold as part `small-init`.

# %%
rate0 = {d: f.norm_rate[0, :S] for d, (f, _) in runs.items()}
for d in d_scan:
    bad = ~inc[d]
    print(f"d={d}: N(w0) > 0 in {np.sum(rate0[d] > 0)}/{S} seeds; failing seeds have N(w0) = "
          f"{np.array2string(rate0[d][bad], precision=2)}, cos(w0, v) = "
          f"{np.array2string(stats.cosine(runs[d][0].w[0, :S][bad], lee2022.teacher_data(seeds, n, d)[2][bad]), precision=3)}")
conditioned = np.concatenate([inc[d][rate0[d] > 0] for d in d_scan])
verdict.check("fraction of (seed, d) with N(w0) > 0 whose ||w|| strictly increases (small init)",
              conditioned, ">=", 0.95, kind="claim", part="derived-condition", aggregate="fraction")

# %% [markdown]
# ## Sanity: step halving
#
# The integrator is faithful for this claim if $\eta/2$ gives the same per-seed outcome of part `small-init` (no
# seed flips) and the same sign agreement (sanity checks). The trajectories themselves: first order predicts a
# change $O(\eta)$; we report the largest change of $\|w(t)\|$ on the common time grid in units of $\|v\|=1$ as a
# measurement (version 1 asked, non-essentially, for under 1%: it is not evidence about the claim). A relative measure is not used: where
# $\|w\|$ dips to $10^{-4}$ and escapes, a shift of the escape time by one step is a large relative change.

# %%
flips, agree_h, total_h = 0, 0, 0
for d, (_, h) in runs.items():
    flips += int(np.sum(inc[d] != lee2022.strictly_increasing(h.norm[:, :S], h.loss[:, :S], loss_floor)))
    valid = h.loss[:-1] >= loss_floor
    agree_h += np.sum((np.sign(np.diff(h.norm, axis=0)) == np.sign(h.norm_rate[:-1])) & valid)
    total_h += valid.sum()
gap = max(np.max(np.abs(h.norm - f.norm)) for f, h in runs.values())
verdict.check("number of (seed, d) whose strict-increase outcome changes when eta is halved", flips, "<=", 0, kind="sanity")
verdict.check("sign agreement at eta/2", agree_h / total_h, ">=", 0.999, kind="sanity")
verdict.measure("max over t, seeds, d of | ||w(t)||_eta - ||w(t)||_eta/2 | / ||v||", gap)
verdict.measure("max relative change of ||w(t)|| when eta is halved",
                max(np.max(np.abs(h.norm - f.norm) / f.norm) for f, h in runs.values()))

# %% [markdown]
# ## Figure: $\|w(t)\|$ from small and large initialization, and the measured change against the identity

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
colours = sns.color_palette(n_colors=3)
for ax, d in zip(axes[:2], d_scan):
    f = runs[d][0]
    for s in range(S):
        ax.loglog(f.t[1:], f.norm[1:, s], color=colours[0] if inc[d][s] else colours[2], lw=0.8,
                  label=None if s else f"||w0||={small_scale}")
        ax.loglog(f.t[1:], f.norm[1:, S + s], color=colours[1], lw=0.8, label=None if s else f"||w0||={large_scale}")
    ax.axhline(1.0, color="k", ls=":", lw=1)
    ax.set(xlabel="t", ylabel="||w(t)||", title=f"d={d}: red = small init whose norm dips ({np.sum(~inc[d])}/{S})")
    ax.legend()
f = runs[d_scan[0]][0]
valid = f.loss[:-1] >= loss_floor
dn = np.diff(f.norm ** 2 / 2, axis=0)[valid]
pred = eta * f.norm_rate[:-1][valid]
keep = np.linspace(0, dn.size - 1, 4000).astype(int)
axes[2].scatter(np.sign(pred[keep]) * np.abs(pred[keep]) ** (1 / 3), np.sign(dn[keep]) * np.abs(dn[keep]) ** (1 / 3), s=3)
axes[2].axline((0, 0), slope=1, color="k", lw=0.8)
axes[2].set(xlabel=r"$(\eta N(w_t))^{1/3}$ (derived)", ylabel=r"$(\Delta\|w\|^2/2)^{1/3}$ (measured)",
            title=f"d={d_scan[0]}, both inits, every step (cube-root axes)")
verdict.figure(fig, "norm-trajectories")
plt.show()

# %% [markdown]
# ## Deviations

# %%
verdict.deviation(
    "Paper body unavailable: this checks the v1 abstract's sentence through the spec's derived model "
    "(relu(w^T x), no bias, loss (1/2n) sum (f - y)^2, teacher labels, Gaussian inputs), not the paper's theorem, "
    "conditions or experiments."
)
verdict.deviation(
    "The 'conditions' are unknown; the spec's stand-in is small init + teacher labels. A derived condition, "
    "N(w0) = (1/n) sum_A (y - z) z > 0 at t = 0, is reported as a non-essential check."
)
verdict.deviation(
    f"Gradient flow approximated by explicit Euler with eta = {eta} (full-batch GD), T = {steps * eta:g}; "
    "step halving checked (sanity checks)."
)
for text in verdict.deviations:
    print("-", text)

# %% [markdown]
# ## Verdict

# %%
verdict.finish()
