"""Real datasets with a loud fallback policy.

``load("cifar10")`` tries CIFAR-10, then Fashion-MNIST, then scikit-learn's
8x8 digits (always available offline). Any substitution prints a banner to
stdout and warns; ``strict=True`` turns it into ``DataUnavailable``. The
returned ``Dataset.provenance()`` records what was asked for and what was used.
torchvision is imported lazily, inside the loaders.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FALLBACK_CHAIN = ("cifar10", "fashion-mnist", "digits")
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")  # package dataset-fashion-mnist

# md5 of the *decompressed* upstream Fashion-MNIST IDX files. torchvision only
# lists md5s of the .gz files, and the Debian package re-gzips them (new gzip
# header), so its .gz md5s never match torchvision's; the content does match these.
FASHION_MNIST_RAW_MD5 = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}
DIGITS_N_TRAIN = 1437  # load_digits(): first 1437 samples train, last 360 test (80/20, no shuffle)

_HOW = {
    "cifar10": "place cifar-10-python.tar.gz or the extracted cifar-10-batches-py/ in {root}, "
    "or allow download (download=True, needs network)",
    "fashion-mnist": "apt-get install dataset-fashion-mnist, or put the 4 IDX .gz files "
    "(train-images-idx3-ubyte.gz, ...) gunzipped into {root}/FashionMNIST/raw/, "
    "or allow download (download=True, needs network)",
    "digits": "reinstall scikit-learn (load_digits ships with it)",
}


class DataUnavailable(RuntimeError):
    """A dataset could not be loaded; the message names it, where we looked and how to provide it."""

    def __init__(self, dataset: str, reason: str, looked=(), how: str | None = None):
        self.dataset, self.reason, self.looked, self.how = dataset, reason, tuple(looked), how
        lines = [f"{dataset} unavailable: {reason}"]
        lines += [f"  looked in: {p}" for p in looked]
        if how:
            lines.append(f"  to provide it: {how}")
        super().__init__("\n".join(lines))


@dataclass(frozen=True, eq=False)
class Dataset:
    requested: str
    used: str
    reason: str | None
    x_train: np.ndarray = field(repr=False)  # float32 (N, C, H, W) in [0, 1]
    y_train: np.ndarray = field(repr=False)  # int64
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    classes: tuple[str, ...]

    @property
    def substituted(self) -> bool:
        return self.used != self.requested

    def provenance(self) -> dict:
        return {"requested": self.requested, "used": self.used,
                "substituted": self.substituted, "reason": self.reason}


# The torch here is a CPU build while torchvision is a CUDA build whose compiled
# ops (_C) cannot load, so `import torchvision` dies registering a fake kernel for
# the undefined operator torchvision::nms. Defining the two schemas it checks
# (no kernels: the datasets never call them) lets the pure-Python parts import.
_TV_SCHEMAS = None  # the Library must stay alive, and must be defined only once


def import_torchvision():
    """Import torchvision, working around a CPU torch / CUDA torchvision mismatch."""
    global _TV_SCHEMAS
    try:
        import torchvision
        return torchvision
    except RuntimeError as e:
        if "operator torchvision::nms does not exist" not in str(e) or _TV_SCHEMAS is not None:
            raise
    for mod in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[mod]  # drop the half-initialised modules of the failed import
    import torch

    _TV_SCHEMAS = torch.library.Library("torchvision", "DEF")
    _TV_SCHEMAS.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _TV_SCHEMAS.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    import torchvision
    return torchvision


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _scaled(images: np.ndarray, scale: float) -> np.ndarray:
    return np.asarray(images, dtype=np.float32) / np.float32(scale)


def _load_cifar10(root: Path, download: bool, debian_dir: Path):
    CIFAR10 = import_torchvision().datasets.CIFAR10
    from torchvision.datasets.utils import check_integrity

    # a verified tarball in root is only extracted by CIFAR10's "download", never fetched
    tarball = root / CIFAR10.filename
    fetch = download or check_integrity(tarball, CIFAR10.tgz_md5)
    try:
        train, test = (CIFAR10(root, train=t, download=fetch) for t in (True, False))
    except Exception as e:
        looked = [root / CIFAR10.base_folder, tarball] + ([CIFAR10.url] if download else [])
        reason = (f"download failed: {e}" if download else
                  f"not found or md5 mismatch under {root}, download disabled")
        raise DataUnavailable("cifar10", reason, looked, _HOW["cifar10"].format(root=root)) from e
    x = [np.ascontiguousarray(d.data.transpose(0, 3, 1, 2)) for d in (train, test)]
    y = [np.asarray(d.targets, dtype=np.int64) for d in (train, test)]
    return _scaled(x[0], 255), y[0], _scaled(x[1], 255), y[1], tuple(train.classes)


def _install_debian_fashion(resources, debian_dir: Path, raw_dir: Path) -> None:
    """Verify the Debian .gz files and gunzip them where torchvision's download puts them."""
    contents = {}
    for gz_name, gz_md5 in resources:
        src = debian_dir / gz_name
        if not src.is_file():
            raise FileNotFoundError(f"{src} missing")
        packed = src.read_bytes()
        name = gz_name.removesuffix(".gz")
        data = gzip.decompress(packed)
        if _md5(packed) != gz_md5 and _md5(data) != FASHION_MNIST_RAW_MD5[name]:
            raise ValueError(f"{src}: md5 mismatch (.gz {_md5(packed)} != {gz_md5} and "
                             f"content {_md5(data)} != {FASHION_MNIST_RAW_MD5[name]})")
        contents[name] = data
    raw_dir.mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        # torchvision's _check_exists only tests that the file exists: write atomically, to a
        # temporary name of this process's own (claims running side by side install at once)
        fd, tmp = tempfile.mkstemp(dir=raw_dir, prefix=f"{name}.", suffix=".partial")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, raw_dir / name)


def _load_fashion_mnist(root: Path, download: bool, debian_dir: Path):
    FashionMNIST = import_torchvision().datasets.FashionMNIST
    raw_dir = root / "FashionMNIST" / "raw"
    problems = []

    def attempt(where, prepare=None, fetch=False):
        try:
            if prepare:
                prepare()
            return [FashionMNIST(root, train=t, download=fetch) for t in (True, False)]
        except Exception as e:
            problems.append(f"{where}: {e}")

    sets = None
    if all((raw_dir / gz.removesuffix(".gz")).is_file() for gz, _ in FashionMNIST.resources):
        sets = attempt(raw_dir)
    else:
        problems.append(f"{raw_dir}: IDX files not there")
    if sets is None and debian_dir.is_dir():
        sets = attempt(debian_dir, lambda: _install_debian_fashion(FashionMNIST.resources,
                                                                  debian_dir, raw_dir))
    elif sets is None:
        problems.append(f"{debian_dir}: no such directory")
    if sets is None and download:
        sets = attempt("download", fetch=True)
    if sets is None:
        if not download:
            problems.append("download disabled")
        raise DataUnavailable("fashion-mnist", "; ".join(problems), [raw_dir, debian_dir],
                              _HOW["fashion-mnist"].format(root=root))
    x = [_scaled(d.data.numpy()[:, None], 255) for d in sets]
    y = [d.targets.numpy().astype(np.int64) for d in sets]
    return x[0], y[0], x[1], y[1], tuple(FashionMNIST.classes)


def _load_digits(root: Path, download: bool, debian_dir: Path):
    from sklearn.datasets import load_digits

    try:
        bunch = load_digits()
    except Exception as e:
        raise DataUnavailable("digits", str(e), ["sklearn.datasets.load_digits"], _HOW["digits"]) from e
    x = _scaled(bunch.images[:, None], 16)
    y = bunch.target.astype(np.int64)
    n = DIGITS_N_TRAIN
    return x[:n], y[:n], x[n:], y[n:], tuple(str(c) for c in bunch.target_names)


_LOADERS = {"cifar10": _load_cifar10, "fashion-mnist": _load_fashion_mnist, "digits": _load_digits}


def _announce(requested: str, used: str, failures: list[DataUnavailable]) -> str:
    reason = "; ".join(f"{f.dataset}: {f.reason}" for f in failures)
    bar = "=" * 78
    banner = "\n".join([bar, f"DATA SUBSTITUTION: requested {requested}, using {used} ({reason})",
                        *(str(f) for f in failures),
                        f"Results below are on {used}, NOT {requested}. "
                        "Set strict_data=true (strict=True) to fail instead.", bar])
    print(banner, flush=True)
    warnings.warn(f"DATA SUBSTITUTION: requested {requested}, using {used} ({reason})", stacklevel=3)
    return reason


def load(name: str, *, root: str | Path = "data", strict: bool = False, download: bool = True,
         debian_dir: str | Path | None = None) -> Dataset:
    """Load `name`, falling back along FALLBACK_CHAIN (loudly) unless strict."""
    if name not in _LOADERS:
        raise ValueError(f"unknown dataset {name!r}; valid: {', '.join(FALLBACK_CHAIN)}")
    root = Path(root)
    debian_dir = Path(debian_dir if debian_dir is not None else DEBIAN_FASHION_MNIST)
    failures: list[DataUnavailable] = []
    for candidate in FALLBACK_CHAIN[FALLBACK_CHAIN.index(name):]:
        try:
            arrays = _LOADERS[candidate](root, download, debian_dir)
        except DataUnavailable as e:
            if strict:
                raise DataUnavailable(e.dataset, f"{e.reason} (strict: substitution not allowed)",
                                      e.looked, e.how) from e
            failures.append(e)
            continue
        reason = _announce(name, candidate, failures) if failures else None
        return Dataset(name, candidate, reason, *arrays)
    raise DataUnavailable(name, "nothing in the fallback chain could be loaded:\n"
                          + "\n".join(str(f) for f in failures))
