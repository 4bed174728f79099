"""CIFAR-10-format stand-ins for tests and benchmarks: never for results.

`write_cifar10` writes the real `cifar-10-batches-py` layout (five pickled training batches, `test_batch`,
`batches.meta` with CIFAR's class names; 3 x 32 x 32 uint8 rows of 3072 bytes, channel-major) filled with
learnable synthetic images: each class a smooth colour pattern of its own plus per-image noise. `tarball`
packs it as `cifar-10-python.tar.gz`, and `write_sources` writes the JSON that `real.TEST_SOURCES_ENV` names,
pointing torchvision's CIFAR10 url, tarball md5 and per-file md5s at the stand-in (in this process and in the
notebook kernels it starts), so the real download, verification and extraction code runs on it.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import tarfile
from pathlib import Path

import numpy as np

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
BASE_FOLDER = "cifar-10-batches-py"
TARBALL = "cifar-10-python.tar.gz"


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` uint8 rows of 3072 (CIFAR's channel-major 3 x 32 x 32) and balanced labels 0..9."""
    rng = np.random.default_rng(seed)
    templates = np.random.default_rng(12345).normal(size=(10, 3, 4, 4))  # the same classes in every split
    templates = np.kron(templates, np.ones((1, 1, 8, 8)))  # (10, 3, 32, 32), smooth blocks
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    x = np.empty((n, 3072), dtype=np.uint8)
    for start in range(0, n, 5000):  # in chunks: a 60 000-image float array would need 1.5 GB
        y = labels[start:start + 5000]
        pixels = 128 + 40 * templates[y] + 45 * rng.normal(size=(len(y), 3, 32, 32))
        x[start:start + 5000] = np.clip(np.rint(pixels), 0, 255).astype(np.uint8).reshape(len(y), 3072)
    return x, labels


def write_cifar10(root: str | Path, n_train: int = 50, n_test: int = 20, seed: int = 0) -> dict:
    """Write `root`/cifar-10-batches-py (n_train split over 5 batches); return its per-file md5 lists."""
    base = Path(root) / BASE_FOLDER
    base.mkdir(parents=True, exist_ok=True)
    x, y = images(n_train, seed)
    bounds = np.linspace(0, n_train, 6).astype(int)
    train_list, test_list = [], []
    for i in range(5):
        lo, hi = bounds[i], bounds[i + 1]
        name = f"data_batch_{i + 1}"
        batch = {"batch_label": f"training batch {i + 1} of 5", "labels": y[lo:hi].tolist(), "data": x[lo:hi],
                 "filenames": [f"standin_{j:05d}.png" for j in range(lo, hi)]}
        (base / name).write_bytes(pickle.dumps(batch, protocol=2))
        train_list.append([name, _md5(base / name)])
    xt, yt = images(n_test, seed + 1)
    test = {"batch_label": "testing batch 1 of 1", "labels": yt.tolist(), "data": xt,
            "filenames": [f"standin_test_{j:05d}.png" for j in range(n_test)]}
    (base / "test_batch").write_bytes(pickle.dumps(test, protocol=2))
    test_list.append(["test_batch", _md5(base / "test_batch")])
    meta = {"num_cases_per_batch": int(bounds[1]), "label_names": list(CLASSES), "num_vis": 3072}
    (base / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return {"train_list": train_list, "test_list": test_list, "meta_md5": _md5(base / "batches.meta")}


def tarball(root: str | Path, dest: str | Path) -> str:
    """Pack `root`/cifar-10-batches-py as the tarball `dest` (CIFAR's own layout); return its md5."""
    dest = Path(dest)
    with tarfile.open(dest, "w:gz", compresslevel=1) as tar:
        tar.add(Path(root) / BASE_FOLDER, arcname=BASE_FOLDER)
    return _md5(dest)


def write_sources(path: str | Path, files: dict, url: str = "http://127.0.0.1:9/unused/" + TARBALL,
                  tgz_md5: str = "0" * 32) -> Path:
    """The JSON for real.TEST_SOURCES_ENV: CIFAR10's url, tarball md5 and file md5s pointed at the stand-in."""
    path = Path(path)
    path.write_text(json.dumps({"cifar10": {"url": url, "tgz_md5": tgz_md5, **files}}, indent=1))
    return path
