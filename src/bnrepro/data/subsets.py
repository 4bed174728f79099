"""Class-balanced, seeded subsets of the image data sets of `bnrepro.data.real`, flattened to vectors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Split:
    """Train/test arrays: x float64 (N, d) or (M, N, d) with a model axis; y int64 (N,) or (M, N)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    note: str = ""  # how the subset differs from what was asked (a deviation for the verdict), if it does


def flatten(images: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N, C*H*W) float64."""
    images = np.asarray(images, dtype=np.float64)
    return images.reshape(len(images), int(np.prod(images.shape[1:])))  # also for zero rows


def balanced_indices(y: np.ndarray, per_class: int, seed: int, classes=None) -> np.ndarray:
    """`per_class` rows of each class (all classes if `classes` is None), drawn without replacement, sorted."""
    rng = np.random.default_rng(seed)
    classes = np.unique(y) if classes is None else np.asarray(classes)
    picks = []
    for c in classes:
        rows = np.flatnonzero(y == c)
        if len(rows) < per_class:
            raise ValueError(f"class {c} has {len(rows)} rows, fewer than per_class={per_class}")
        picks.append(rng.choice(rows, per_class, replace=False))
    return np.sort(np.concatenate(picks))


def per_class_counts(ds, train_counts: tuple[int, ...], test_count: int) -> tuple[tuple[int, ...], int, str]:
    """Per-class counts a data set can supply. When its smallest class has fewer training images than
    `train_counts` sum to (e.g. training and validation rows drawn from the training split), they are scaled down
    together, in proportion; when it has fewer test images than `test_count`, that is cut to what there is. The
    note says what changed ('' when nothing did): a notebook states it as a deviation (the digits fallback is small).
    """
    have_train, have_test = int(np.bincount(ds.y_train).min()), int(np.bincount(ds.y_test).min())
    train = tuple(int(c) for c in train_counts)
    if sum(train) > have_train:
        train = tuple(c * have_train // sum(train) for c in train)
    test = min(int(test_count), have_test)
    if train == tuple(train_counts) and test == test_count:
        return train, test, ""
    return train, test, (f"{getattr(ds, 'used', 'the data set')} has too few images per class for {list(train_counts)} "
                         f"training-split / {test_count} test images: used {list(train)} / {test}")


def image_subset(ds, train_per_class: int, test_per_class: int, seed: int, *, standardize: bool = False) -> Split:
    """A class-balanced subset of an image `Dataset`, flattened to float64 vectors.

    Where a class has fewer images than asked (a small fallback data set), every class gets as many as
    the smallest has, and `note` says so. Pixels stay in [0, 1] (uncentred) by default. `standardize=True` centres and scales every pixel with
    the subset's training mean and standard deviation (constant pixels are left centred, unscaled).
    """
    (train_n,), test_n, shortfall = per_class_counts(ds, (train_per_class,), test_per_class)
    note = ""
    if shortfall:  # e.g. the digits fallback is small
        note = (f"{getattr(ds, 'used', 'the data set')} has too few images for {train_per_class} training / "
                f"{test_per_class} test images per class: used {train_n} / {test_n} per class")
        print(note)
    tr = balanced_indices(ds.y_train, train_n, seed)
    te = balanced_indices(ds.y_test, test_n, seed + 1)
    x_tr, x_te = flatten(ds.x_train[tr]), flatten(ds.x_test[te])
    if standardize:
        mean, std = x_tr.mean(axis=0), x_tr.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        x_tr, x_te = (x_tr - mean) / std, (x_te - mean) / std
    return Split(x_tr, ds.y_train[tr].astype(np.int64), x_te, ds.y_test[te].astype(np.int64), note)
