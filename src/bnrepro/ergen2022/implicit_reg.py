"""GD's implicit bias encoded in the convex BN program: the truncated and weighted families
(claim ergen2022/convex-implicit-reg).

Ergen, Sahiner, Ozturkler, Pauly, Mardani & Pilanci (ICLR 2022), abstract: the explicit regularization
"mimics and substantially improves" standard BN networks. The paper's encoding could not be read; the family
tested here is derived in docs/papers/ergen2022.md, section 3: the convex program of `convex.solve_convex` on the
top-k whitening U'_k = [U_k, 1/sqrt(n)] (truncation), optionally with the weighted penalty ||Lambda q_i||,
Lambda = diag((sigma_1/sigma_j)^p for j <= k, 1) (p = 0: plain truncation; k = r and all patterns: the whitened
optimum, given here by the closed form of section 2).

`compare` runs, on every seed of one image task, the GD-trained BN network (with its accuracy at half and at
the full step budget, a convergence check), the whitened optimum and every member of the family, and selects
one member per seed on a validation split.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from joblib import Parallel, delayed

from . import convex, tasks, training

__all__ = ["FamilyFit", "GDBaseline", "Member", "compare", "fit_member", "gd_baseline", "member_weights", "select"]


@dataclass(frozen=True)
class Member:
    """One convex encoding: the top-k whitened directions, penalty weights (sigma_1/sigma_j)^power on them."""

    k: int
    power: float = 0.0

    @property
    def label(self) -> str:
        return f"k={self.k}" if self.power == 0 else f"k={self.k}, p={self.power:g}"


def member_weights(sigma, power: float) -> np.ndarray:
    """Lambda's diagonal for the columns of U'_k: (sigma_1/sigma_j)^power for the k directions, then 1 (the
    constant column, BN's shift alpha, is not a data direction): (k + 1,)."""
    sigma = np.asarray(sigma, dtype=float)
    return np.append((sigma[0] / sigma) ** power, 1.0)


@dataclass(frozen=True)
class FamilyFit:
    """One member's convex program on one seed: outputs (N_b,) on each evaluation block, the convex value,
    the number of sampled patterns and the solve time (s)."""

    outputs: list[np.ndarray]
    value: float
    sampled: int
    solve_seconds: float


def fit_member(whitening, member: Member, y, samples: int, pattern_seed, X_eval, beta: float, **solver_options) -> FamilyFit:
    """The convex BN program of `member` on (whitening, y): `samples` Gaussian patterns of U'_k from
    `np.random.default_rng(pattern_seed)` plus the label patterns; outputs on every block of X_eval through BN
    with the training statistics. With power 0 and the same pattern seed this is `tasks.fit_truncated`.
    Self-contained, so members run as independent jobs."""
    wk = whitening.truncate(member.k)
    weights = None if member.power == 0 else member_weights(wk.sigma, member.power)
    sampled = convex.arrangements_sampled(wk.Up, samples, np.random.default_rng(pattern_seed))
    patterns = convex.unique_patterns(sampled, convex.sign_patterns(y))
    sol = convex.solve_convex(wk.Up, y, beta, patterns, weights=weights, **solver_options)
    outputs = [convex.relu_predict(wk.features(X), sol.Q, sol.Qp) for X in X_eval]
    return FamilyFit(outputs, sol.value, len(sampled), sol.solve_time)


@dataclass(frozen=True)
class GDBaseline:
    """GD-trained BN network on one task: test accuracy after half and after all steps, training accuracy
    and objective after all steps."""

    test_half: float
    test: float
    train: float
    objective: float


def gd_baseline(task, beta: float, *, width: int, lr: float, steps: int, seed: int, device="cpu") -> GDBaseline:
    """Full-batch GD on the BN network of `training` (PyTorch default init from `seed`): steps // 2 steps,
    a test evaluation, then the remaining steps. Plain GD has no optimizer state, so the two legs are the
    same iteration as one run of `steps` (up to float rounding)."""
    X, y = task.X_train, task.y_train
    net, _ = training.train(X, y, beta, width=width, seeds=[seed], optimizer="gd", lr=lr, steps=steps // 2,
                            device=device, progress=False)
    half = tasks.accuracy(tasks.gd_predict(net, task.X_test, X, device), task.labels_test)
    net, trace = training.train(X, y, beta, optimizer="gd", lr=lr, steps=steps - steps // 2, device=device,
                                progress=False, net=net)
    return GDBaseline(test_half=half, test=tasks.accuracy(tasks.gd_predict(net, task.X_test, X, device), task.labels_test),
                      train=tasks.accuracy(tasks.gd_predict(net, X, X, device), task.labels_train),
                      objective=float(trace.objective[0, -1]))


def select(val) -> np.ndarray:
    """Per row of validation accuracies (S, M), the index of the best candidate (ties: the first)."""
    return np.argmax(np.asarray(val), axis=1)


def compare(ds, classes, per_class, task_seeds, members, samples, *, beta, width, gd_lr, gd_steps, solver_options,
            threads=1, device="cpu", timing=None) -> dict:
    """GD-BN, the whitened optimum and every convex `members` on every seed of one image task.

    Candidates, in order (the order breaks validation ties): `members`, then the whitened optimum (k = r,
    closed form, labelled "whitened"). Returns `labels` (candidates) and per-seed arrays: `val`, `test`
    (S, candidates), `selected` (index over all candidates), `encoded` (its test accuracy), `selected_trunc`,
    `trunc` (the same over the truncations and the whitened optimum only), `gd`, `gd_half`, `gd_train`,
    `gd_obj`, `white`, `p_star`, `rank`. The (seed, member) programs run as independent jobs, `threads` at a
    time in separate processes; member (k, p) draws its patterns from the generator seeded by (seed, k), so
    the members with the same k share their patterns.
    """
    timing = timing or (lambda *_: None)
    res = {key: [] for key in ("gd", "gd_half", "gd_train", "gd_obj", "white", "white_val", "p_star", "rank")}
    draws = []
    for seed in task_seeds:
        task = tasks.image_task(ds, classes, *per_class, seed=seed)
        start = time.perf_counter()
        gd = gd_baseline(task, beta, width=width, lr=gd_lr, steps=gd_steps, seed=seed, device=device)
        timing(f"seed {seed}: GD-BN ({gd_steps} steps)", time.perf_counter() - start)
        wh = convex.whiten(task.X_train)
        Y = task.y_train.reshape(len(task.X_train), -1)
        white_val, _ = tasks.whitened_outputs(wh, task.X_train, Y, task.X_val, beta)
        white_test, p_star = tasks.whitened_outputs(wh, task.X_train, Y, task.X_test, beta)
        for key, value in [("gd", gd.test), ("gd_half", gd.test_half), ("gd_train", gd.train), ("gd_obj", gd.objective),
                           ("white", tasks.accuracy(white_test, task.labels_test)),
                           ("white_val", tasks.accuracy(white_val, task.labels_val)), ("p_star", p_star),
                           ("rank", wh.rank)]:
            res[key].append(value)
        draws.append((seed, task, wh))
        print(f"seed {seed}: GD-BN test {gd.test:.4f} (at half the steps {gd.test_half:.4f}; train {gd.train:.4f}, "
              f"objective {gd.objective:.3g}, p* {p_star:.3g}), whitened {res['white'][-1]:.4f}", flush=True)
    start = time.perf_counter()
    jobs = [(seed, task, wh, m) for seed, task, wh in draws for m in members]
    print(f"{len(jobs)} convex programs (seeds x members), {threads} at a time ...", flush=True)
    fits = Parallel(n_jobs=threads)(
        delayed(fit_member)(wh, m, task.y_train, samples, [seed, m.k], [task.X_val, task.X_test], beta, **solver_options)
        for seed, task, wh, m in jobs)
    timing(f"all convex programs ({len(jobs)} jobs, {threads} processes)", time.perf_counter() - start)
    for (seed, _, _, m), fit in zip(jobs, fits, strict=True):
        timing(f"seed {seed} {m.label}: convex solve", fit.solve_seconds)
    val, test = [], []
    for i, (_, task, _) in enumerate(draws):
        mine = fits[i * len(members):(i + 1) * len(members)]
        val.append([tasks.accuracy(f.outputs[0], task.labels_val) for f in mine] + [res["white_val"][i]])
        test.append([tasks.accuracy(f.outputs[1], task.labels_test) for f in mine] + [res["white"][i]])
    out = {key: np.array(v) for key, v in res.items()}
    out["val"], out["test"] = np.array(val), np.array(test)
    out["labels"] = [m.label for m in members] + ["whitened"]
    rows = np.arange(len(draws))
    out["selected"] = select(out["val"])
    out["encoded"] = out["test"][rows, out["selected"]]
    trunc_cols = np.array([i for i, m in enumerate(members) if m.power == 0] + [len(members)])
    out["selected_trunc"] = trunc_cols[select(out["val"][:, trunc_cols])]
    out["trunc"] = out["test"][rows, out["selected_trunc"]]
    for i, (seed, _, _) in enumerate(draws):
        print(f"seed {seed}: selected {out['labels'][out['selected'][i]]} test {out['encoded'][i]:.4f}; truncation only "
              f"{out['labels'][out['selected_trunc'][i]]} {out['trunc'][i]:.4f}; val {np.round(out['val'][i], 3).tolist()}",
              flush=True)
    return out
