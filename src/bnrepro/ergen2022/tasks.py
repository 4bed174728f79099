"""Image tasks for the GD-bias and CIFAR claims (spec sections 3 and 6).

A seeded, class-balanced draw of training, validation and test images from a
`bnrepro.data.real.Dataset`, flattened to float64 pixels in [0, 1] (BN and the
whitening centre the data themselves). Targets are +-1: for two classes +1 on
the first named class, for more classes one column per class (one-vs-all,
+1 on the class, -1 elsewhere), predicted by the largest output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bnrepro.data.subsets import flatten

from . import convex

__all__ = ["DEFAULT_PAIRS", "Task", "TruncatedFit", "accuracy", "fit_truncated", "image_task", "targets"]

# The class pair per data set when a claim asks for "a pair" (names as in Dataset.classes).
# CIFAR-10: a pair of distinct vehicle classes, learnable from a few hundred images; the paper's
# own choice is unknown. Fashion-MNIST: the spec's offline default (Pullover vs Coat).
DEFAULT_PAIRS = {"cifar10": ("airplane", "automobile"), "fashion-mnist": ("Pullover", "Coat"), "digits": ("3", "8")}


@dataclass(frozen=True)
class Task:
    """Rows X (N, d) float64 and labels (N,) indexing `classes`, for train / validation / test."""

    classes: tuple[str, ...]
    X_train: np.ndarray
    labels_train: np.ndarray
    X_val: np.ndarray
    labels_val: np.ndarray
    X_test: np.ndarray
    labels_test: np.ndarray

    @property
    def y_train(self) -> np.ndarray:
        return targets(self.labels_train, len(self.classes))

    @property
    def y_val(self) -> np.ndarray:
        return targets(self.labels_val, len(self.classes))


def targets(labels, n_classes: int) -> np.ndarray:
    """+-1 targets: (N,) with +1 on class 0 for two classes, else (N, C) one-vs-all."""
    labels = np.asarray(labels)
    if n_classes == 2:
        return np.where(labels == 0, 1.0, -1.0)
    return np.where(labels[:, None] == np.arange(n_classes), 1.0, -1.0)


def accuracy(outputs, labels) -> float:
    """Accuracy of outputs (N,) or (N, 1) read by sign (two classes), (N, C) read by argmax."""
    outputs = np.asarray(outputs)
    outputs = outputs[:, 0] if outputs.ndim == 2 and outputs.shape[1] == 1 else outputs
    predicted = np.where(outputs >= 0, 0, 1) if outputs.ndim == 1 else outputs.argmax(axis=-1)
    return float(np.mean(predicted == np.asarray(labels)))


def image_task(ds, classes, train_per_class: int, val_per_class: int, test_per_class: int, seed: int) -> Task:
    """A seeded draw of `classes` (names in ds.classes; None = all): train and validation rows
    disjoint from ds's training split, test rows from its test split.

    Raises ValueError naming the class when a name is unknown or a class has too few images.
    """
    names = tuple(ds.classes) if classes is None else tuple(classes)
    unknown = [c for c in names if c not in ds.classes]
    if unknown:
        raise ValueError(f"classes {unknown} not in {ds.used}'s classes {list(ds.classes)}")
    index = [list(ds.classes).index(c) for c in names]
    rng = np.random.default_rng(seed)

    def draw(y, counts):
        parts = [[] for _ in counts]
        for label, c in enumerate(index):
            rows = np.flatnonzero(y == c)
            if len(rows) < sum(counts):
                raise ValueError(f"class {names[label]!r} of {ds.used} has {len(rows)} images, fewer than {sum(counts)}")
            picked = rng.choice(rows, sum(counts), replace=False)
            for part, chunk in zip(parts, np.split(picked, np.cumsum(counts)[:-1]), strict=True):
                part.append((np.sort(chunk), label))
        return [(np.concatenate([r for r, _ in p]), np.concatenate([np.full(len(r), lab) for r, lab in p])) for p in parts]

    (tr, ltr), (va, lva) = draw(ds.y_train, [train_per_class, val_per_class])
    ((te, lte),) = draw(ds.y_test, [test_per_class])
    return Task(names, flatten(ds.x_train[tr]), ltr, flatten(ds.x_train[va]), lva, flatten(ds.x_test[te]), lte)


@dataclass(frozen=True)
class TruncatedFit:
    """The truncated convex program of one (seed, k): outputs on each evaluation block (N_b, C),
    the number of sampled patterns, and each output column's solve time (s)."""

    outputs: list[np.ndarray]
    sampled: int
    solve_seconds: list[float]


def fit_truncated(whitening, k: int, Y, samples: int, pattern_seed, X_eval, beta: float, **solver_options) -> TruncatedFit:
    """The convex BN program on the top-k whitening U'_k (spec section 3: GD's bias made explicit).

    One scalar program per column of Y (n, C), sharing `samples` Gaussian patterns drawn from
    `np.random.default_rng(pattern_seed)`, each with its own label patterns; outputs on the rows of
    every block in X_eval through BN with the training statistics. Self-contained (no shared state),
    so (seed, k) jobs can run in separate processes.
    """
    wk = whitening.truncate(k)
    sampled = convex.arrangements_sampled(wk.Up, samples, np.random.default_rng(pattern_seed))
    features = [wk.features(X) for X in X_eval]
    outputs, seconds = [[] for _ in X_eval], []
    for y in np.asarray(Y).T:
        sol = convex.solve_convex(wk.Up, y, beta, convex.unique_patterns(sampled, convex.sign_patterns(y)),
                                  **solver_options)
        seconds.append(sol.solve_time)
        for out, F in zip(outputs, features, strict=True):
            out.append(convex.relu_predict(F, sol.Q, sol.Qp))
    return TruncatedFit([np.stack(o, axis=1) for o in outputs], len(sampled), seconds)
