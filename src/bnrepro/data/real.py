"""Real datasets with a loud fallback policy and an integrity check on every load.

``load("cifar10")`` tries CIFAR-10, then Fashion-MNIST, then scikit-learn's
8x8 digits (always available offline). Any substitution prints a banner to
stdout and warns; ``strict=True`` turns it into ``DataUnavailable``. The
returned ``Dataset.provenance()`` records what was asked for and what was used.

Every file of a cached dataset is checked against its known md5 before use. A
file that does not match is provisioned again from a verified source (a verified
CIFAR-10 tarball, the Debian Fashion-MNIST package, or a download when allowed);
when there is none, ``DataCorrupted`` names the file, the expected and the found
md5 and how to fix it. Installs are written under temporary names and renamed
into place (nothing half-written is ever read), with umask-respecting modes, under
a per-dataset file lock in the data root, so that jobs provisioning at once leave
one good copy. torchvision is imported lazily, inside the loaders.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import json
import os
import secrets
import shutil
import sys
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


# Tests only: a JSON file that points the CIFAR-10 source (url, tgz_md5, per-file md5s) and the Fashion-MNIST md5s
# at a stand-in, so that notebooks run in their own kernels use it too. Never set it for real results.
TEST_SOURCES_ENV = "BNREPRO_TEST_DATA_SOURCES"
# "0" forbids downloads in load() when its caller leaves `download` unset: the workflow's claim jobs read what the
# data rule provisioned (one download per dataset, in one job), never fetch themselves.
DOWNLOAD_ENV = "BNREPRO_DATA_DOWNLOAD"


class DataUnavailable(RuntimeError):
    """A dataset could not be loaded; the message names it, where we looked and how to provide it."""

    def __init__(self, dataset: str, reason: str, looked=(), how: str | None = None):
        self.dataset, self.reason, self.looked, self.how = dataset, reason, tuple(looked), how
        lines = [f"{dataset} unavailable: {reason}"]
        lines += [f"  looked in: {p}" for p in looked]
        if how:
            lines.append(f"  to provide it: {how}")
        super().__init__("\n".join(lines))


class DataCorrupted(DataUnavailable):
    """A cached file does not match its md5 and no verified source could replace it. Never a reason to
    fall back to another dataset: the cache must be repaired (the message says how)."""

    def __init__(self, dataset: str, mismatches, problems=(), how: str | None = None):
        self.mismatches = tuple(mismatches)  # (path, expected md5, found md5 or a word)
        reason = "; ".join(f"{path}: md5 {found}, expected {expected}" for path, expected, found in self.mismatches)
        if problems:
            reason += " (no verified source to provision it again: " + "; ".join(problems) + ")"
        super().__init__(dataset, f"corrupted cache: {reason}", [m[0] for m in self.mismatches], how)


@dataclass(frozen=True)
class Provisioned:
    """A dataset verified in the data root: where it came from this time and the md5 of each file."""
    dataset: str
    source: str  # cache | tarball | debian | download | scikit-learn
    files: dict  # path relative to the root -> md5
    repaired: tuple = ()  # files that were corrupt or missing and were provisioned again


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
    provisioned: Provisioned | None = field(default=None, repr=False)  # the files verified for this load

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


def file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _scaled(images: np.ndarray, scale: float) -> np.ndarray:
    return np.asarray(images, dtype=np.float32) / np.float32(scale)


def _test_sources() -> dict:
    path = os.environ.get(TEST_SOURCES_ENV)
    return json.loads(Path(path).read_text()) if path else {}


def _token() -> str:
    return f"{os.getpid()}.{secrets.token_hex(4)}"


def _new_dir(parent: Path, name: str) -> Path:
    """A fresh directory of this process's own, with the umask's mode (mkdtemp would make it 0700)."""
    path = parent / f".{name}.{_token()}"
    path.mkdir(mode=0o777)
    return path


def write_atomically(path: Path, data: bytes) -> None:
    """Write under a temporary name of this process's own, then rename: a reader sees the old file or the whole
    new one. The mode respects the umask (0644 under the usual 022), so a group can share the cache."""
    tmp = path.parent / f".{path.name}.{_token()}.partial"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def locked(root: Path, dataset: str):
    """Hold the data root's lock for one dataset (fcntl.flock on root/.<dataset>.lock): jobs that verify or
    provision the same dataset at once take turns, so one provisions and the others find its verified copy. A root
    that cannot take a lock file (read-only) is locked on the directory itself, when it exists."""
    fd = None
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root / f".{dataset}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        with contextlib.suppress(OSError):
            fd = os.open(root, os.O_RDONLY)
    try:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        if fd is not None:
            os.close(fd)  # releases the lock


def _mismatches(expected: dict[Path, str]) -> list[tuple[Path, str, str]]:
    """(path, expected md5, found md5 / 'missing') for every file that does not match."""
    bad = []
    for path, md5 in expected.items():
        found = file_md5(path) if path.is_file() else "missing"
        if found != md5:
            bad.append((path, md5, found))
    return bad


def _relative(root: Path, expected: dict[Path, str]) -> dict[str, str]:
    return {str(path.relative_to(root)): md5 for path, md5 in sorted(expected.items())}


def _umask_modes(tree: Path) -> None:
    """Give an extracted tree the umask's modes (a tarball carries its packer's modes, 0600 or 0664 alike)."""
    umask = os.umask(0)
    os.umask(umask)
    for path in [tree, *tree.rglob("*")]:
        if not path.is_symlink():
            path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def _swap_in(new: Path, dest: Path) -> None:
    """Put the verified directory `new` at `dest` (callers hold the dataset's lock)."""
    old = None
    if dest.exists():
        old = dest.parent / f".{dest.name}.old.{_token()}"
        os.rename(dest, old)
    os.rename(new, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ---------------------------------------------------------------- CIFAR-10

def cifar10_class():
    """torchvision's CIFAR10, or (tests only, TEST_SOURCES_ENV) a subclass whose url and md5s point at a stand-in."""
    CIFAR10 = import_torchvision().datasets.CIFAR10
    override = _test_sources().get("cifar10")
    if not override:
        return CIFAR10
    attrs = {"url": override["url"], "tgz_md5": override["tgz_md5"],
             "train_list": [list(f) for f in override["train_list"]],
             "test_list": [list(f) for f in override["test_list"]],
             "meta": {**CIFAR10.meta, "md5": override["meta_md5"]}}
    return type("CIFAR10StandIn", (CIFAR10,), attrs)


def _cifar_expected(C, base: Path) -> dict[Path, str]:
    files = [*C.train_list, *C.test_list, [C.meta["filename"], C.meta["md5"]]]
    return {base / name: md5 for name, md5 in files}


def _repaired(root: Path, bad) -> tuple[str, ...]:
    """The damaged files a re-provisioning replaces, relative to the data root (for the manifest)."""
    return tuple(str(path.relative_to(root)) for path, _, _ in bad)


def _ensure_cifar10(root: Path, download: bool, debian_dir: Path) -> Provisioned:
    C = cifar10_class()
    from torchvision.datasets.utils import check_integrity, download_url, extract_archive

    base = root / C.base_folder
    expected = _cifar_expected(C, base)
    bad = _mismatches(expected)
    if not bad:
        return Provisioned("cifar10", "cache", _relative(root, expected))
    present = base.exists()
    repaired = _repaired(root, bad) if present else ()
    tarball = root / C.filename
    how = _HOW["cifar10"].format(root=root)
    problems = []

    def install(source: str) -> Provisioned:
        work = _new_dir(root, "cifar10")
        try:
            if source == "download":
                download_url(C.url, work, C.filename, C.tgz_md5)  # checks the tarball's md5
                os.replace(work / C.filename, tarball)  # kept: a verified source for later repairs
            extract_archive(tarball, work)
            fresh = work / C.base_folder
            _umask_modes(fresh)
            wrong = _mismatches(_cifar_expected(C, fresh))
            if wrong:
                raise ValueError("; ".join(f"{p.name} in the tarball: md5 {f}, expected {e}" for p, e, f in wrong))
            _swap_in(fresh, base)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return Provisioned("cifar10", source, _relative(root, expected), repaired)

    if tarball.is_file():
        if check_integrity(tarball, C.tgz_md5):
            try:
                return install("tarball")
            except Exception as e:
                problems.append(f"{tarball}: {e}")
        else:
            problems.append(f"{tarball}: md5 {file_md5(tarball)}, expected {C.tgz_md5}")
    if download:
        try:
            return install("download")
        except Exception as e:
            problems.append(f"download failed: {e}")
    else:
        problems.append("download disabled")
    if present:
        raise DataCorrupted("cifar10", bad, problems, f"delete {base} and {how}")
    reason = problems[-1] if download else f"not found or md5 mismatch under {root}, download disabled"
    looked = [base, tarball] + ([C.url] if download else [])
    raise DataUnavailable("cifar10", "; ".join([reason, *problems[:-1]]), looked, how)


def _read_cifar10(root: Path):
    C = cifar10_class()
    try:
        train, test = (C(root, train=t, download=False) for t in (True, False))
    except Exception as e:
        raise DataUnavailable("cifar10", f"{root / C.base_folder}: {e}", [root / C.base_folder]) from e
    x = [np.ascontiguousarray(d.data.transpose(0, 3, 1, 2)) for d in (train, test)]
    y = [np.asarray(d.targets, dtype=np.int64) for d in (train, test)]
    return _scaled(x[0], 255), y[0], _scaled(x[1], 255), y[1], tuple(train.classes)


# ---------------------------------------------------------------- Fashion-MNIST

def fashion_raw_md5() -> dict[str, str]:
    return _test_sources().get("fashion-mnist", {}).get("raw_md5") or FASHION_MNIST_RAW_MD5


def _install_debian_fashion(resources, debian_dir: Path, raw_dir: Path) -> None:
    """Verify the Debian .gz files (their decompressed content against FASHION_MNIST_RAW_MD5: the package
    re-gzipped them, so only a .gz md5 of torchvision's says nothing new) and gunzip them where torchvision's
    download puts them, each written atomically, only after all four verify."""
    raw_md5 = fashion_raw_md5()
    contents = {}
    for gz_name, gz_md5 in resources:
        src = debian_dir / gz_name
        if not src.is_file():
            raise FileNotFoundError(f"{src} missing")
        packed = src.read_bytes()
        name = gz_name.removesuffix(".gz")
        try:
            data = gzip.decompress(packed)
        except (OSError, EOFError) as e:
            raise ValueError(f"{src}: md5 mismatch (.gz {_md5(packed)} != {gz_md5}, not a gzip file: {e})") from e
        if _md5(data) != raw_md5[name]:
            raise ValueError(f"{src}: md5 mismatch (.gz {_md5(packed)} != {gz_md5} and "
                             f"content {_md5(data)} != {raw_md5[name]})")
        contents[name] = data
    raw_dir.mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        write_atomically(raw_dir / name, data)


def _download_fashion(FashionMNIST, root: Path, raw_dir: Path) -> None:
    """torchvision's download (each .gz md5-checked) into a folder of our own, then verify and move in."""
    work = _new_dir(root, "fashion-mnist")
    try:
        FashionMNIST(work, train=True, download=True)
        fetched = work / "FashionMNIST" / "raw"
        raw_md5 = fashion_raw_md5()
        wrong = _mismatches({fetched / name: md5 for name, md5 in raw_md5.items()})
        if wrong:
            raise ValueError("; ".join(f"downloaded {p.name}: md5 {f}, expected {e}" for p, e, f in wrong))
        raw_dir.mkdir(parents=True, exist_ok=True)
        for name in raw_md5:
            os.replace(fetched / name, raw_dir / name)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _ensure_fashion_mnist(root: Path, download: bool, debian_dir: Path) -> Provisioned:
    FashionMNIST = import_torchvision().datasets.FashionMNIST
    raw_dir = root / "FashionMNIST" / "raw"
    expected = {raw_dir / name: md5 for name, md5 in fashion_raw_md5().items()}
    bad = _mismatches(expected)
    if not bad:
        return Provisioned("fashion-mnist", "cache", _relative(root, expected))
    present = any(p.exists() for p in expected)
    repaired = _repaired(root, bad) if present else ()
    problems = [f"{raw_dir}: {'md5 mismatch' if present else 'IDX files not there'}"]
    how = _HOW["fashion-mnist"].format(root=root)
    if debian_dir.is_dir():
        try:
            _install_debian_fashion(FashionMNIST.resources, debian_dir, raw_dir)
            return Provisioned("fashion-mnist", "debian", _relative(root, expected), repaired)
        except Exception as e:
            problems.append(f"{debian_dir}: {e}")
    else:
        problems.append(f"{debian_dir}: no such directory")
    if download:
        try:
            _download_fashion(FashionMNIST, root, raw_dir)
            return Provisioned("fashion-mnist", "download", _relative(root, expected), repaired)
        except Exception as e:
            problems.append(f"download: {e}")
    else:
        problems.append("download disabled")
    if present:
        raise DataCorrupted("fashion-mnist", bad, problems[1:], f"delete {raw_dir} and {how}")
    raise DataUnavailable("fashion-mnist", "; ".join(problems), [raw_dir, debian_dir], how)


def _read_fashion_mnist(root: Path):
    FashionMNIST = import_torchvision().datasets.FashionMNIST
    try:
        sets = [FashionMNIST(root, train=t, download=False) for t in (True, False)]
    except Exception as e:
        raise DataUnavailable("fashion-mnist", f"{root}: {e}", [root / "FashionMNIST" / "raw"]) from e
    x = [_scaled(d.data.numpy()[:, None], 255) for d in sets]
    y = [d.targets.numpy().astype(np.int64) for d in sets]
    return x[0], y[0], x[1], y[1], tuple(FashionMNIST.classes)


# ---------------------------------------------------------------- digits

def _digits_bunch():
    from sklearn.datasets import load_digits

    try:
        return load_digits()
    except Exception as e:
        raise DataUnavailable("digits", str(e), ["sklearn.datasets.load_digits"], _HOW["digits"]) from e


def _ensure_digits(root: Path, download: bool, debian_dir: Path) -> Provisioned:
    import sklearn.datasets

    _digits_bunch()
    csv = Path(sklearn.datasets.__file__).parent / "data" / "digits.csv.gz"
    return Provisioned("digits", "scikit-learn", {f"sklearn/datasets/data/{csv.name}": file_md5(csv)} if csv.is_file() else {})


def _read_digits(root: Path):
    bunch = _digits_bunch()
    x = _scaled(bunch.images[:, None], 16)
    y = bunch.target.astype(np.int64)
    n = DIGITS_N_TRAIN
    return x[:n], y[:n], x[n:], y[n:], tuple(str(c) for c in bunch.target_names)


_ENSURE = {"cifar10": _ensure_cifar10, "fashion-mnist": _ensure_fashion_mnist, "digits": _ensure_digits}
_READ = {"cifar10": _read_cifar10, "fashion-mnist": _read_fashion_mnist, "digits": _read_digits}
_LOADERS = _ENSURE  # the names load() accepts
_ON_DISK = ("cifar10", "fashion-mnist")  # the datasets kept in the data root (digits ships with scikit-learn)


def ensure(name: str, root: Path, download: bool, debian_dir: Path, read: bool = False):
    """Verify (and provision if needed) one dataset under its lock; with `read`, also read its arrays there."""
    with locked(root, name) if name in _ON_DISK else contextlib.nullcontext():
        provisioned = _ENSURE[name](root, download, debian_dir)
        return provisioned, (_READ[name](root) if read else None)

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


def download_default() -> bool:
    """load()'s `download` when left unset: allowed, unless the environment says BNREPRO_DATA_DOWNLOAD=0."""
    return os.environ.get(DOWNLOAD_ENV, "1").strip().lower() not in ("0", "false", "no")


def resolve(name: str, *, root: str | Path = "data", strict: bool = False, download: bool | None = None,
            debian_dir: str | Path | None = None, read: bool = True):
    """Walk FALLBACK_CHAIN from `name`: (the dataset used, its Provisioned record, its arrays or None, the reason
    for a substitution or None). A corrupted cache that cannot be repaired stops the walk (DataCorrupted)."""
    if name not in _LOADERS:
        raise ValueError(f"unknown dataset {name!r}; valid: {', '.join(FALLBACK_CHAIN)}")
    root = Path(root)
    debian_dir = Path(debian_dir if debian_dir is not None else DEBIAN_FASHION_MNIST)
    download = download_default() if download is None else download
    failures: list[DataUnavailable] = []
    for candidate in FALLBACK_CHAIN[FALLBACK_CHAIN.index(name):]:
        try:
            provisioned, arrays = ensure(candidate, root, download, debian_dir, read=read)
        except DataCorrupted:
            raise
        except DataUnavailable as e:
            if strict:
                raise DataUnavailable(e.dataset, f"{e.reason} (strict: substitution not allowed)",
                                      e.looked, e.how) from e
            failures.append(e)
            continue
        reason = _announce(name, candidate, failures) if failures else None
        return candidate, provisioned, arrays, reason
    raise DataUnavailable(name, "nothing in the fallback chain could be loaded:\n"
                          + "\n".join(str(f) for f in failures))


def load(name: str, *, root: str | Path = "data", strict: bool = False, download: bool | None = None,
         debian_dir: str | Path | None = None) -> Dataset:
    """Load `name`, falling back along FALLBACK_CHAIN (loudly) unless strict; every file md5-checked first.
    `download` left unset is allowed unless BNREPRO_DATA_DOWNLOAD=0 (the workflow's claim jobs)."""
    used, provisioned, arrays, reason = resolve(name, root=root, strict=strict, download=download,
                                                debian_dir=debian_dir)
    return Dataset(name, used, reason, *arrays, provisioned=provisioned)
