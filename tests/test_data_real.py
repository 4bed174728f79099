"""bnrepro.data.real: loaders, checksum verification and the loud fallback policy.

Everything runs offline on tiny fixtures written to tmp_path; urlopen is
patched to fail so no test can reach (or wait for) the network.
"""

import gzip
import hashlib
import pickle
import struct
import sys
import tarfile
import urllib.error
import urllib.request
import warnings

import numpy as np
import pytest

from bnrepro.data import real

FASHION_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def blocked(*args, **kwargs):
        raise urllib.error.URLError("network blocked by test")

    monkeypatch.setattr(urllib.request, "urlopen", blocked)


@pytest.fixture
def tv():
    return real.import_torchvision()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def idx_images(a: np.ndarray) -> bytes:
    return struct.pack(">IIII", 0x803, *a.shape) + a.tobytes()


def idx_labels(a: np.ndarray) -> bytes:
    return struct.pack(">II", 0x801, len(a)) + a.tobytes()


@pytest.fixture
def fake_fashion(tmp_path):
    """A 5-train / 3-test Fashion-MNIST as gzipped IDX files in a fake Debian dir."""
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": np.array([9, 0, 3, 3, 7], dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": np.array([1, 8, 2], dtype=np.uint8),
    }
    deb = tmp_path / "debian-fashion-mnist"
    deb.mkdir()
    raw, gz = {}, {}
    for name, a in arrays.items():
        raw[name] = idx_images(a) if a.ndim == 3 else idx_labels(a)
        gz[name] = gzip.compress(raw[name], mtime=0)
        (deb / f"{name}.gz").write_bytes(gz[name])
    return {"dir": deb, "arrays": arrays, "raw_md5": {n: md5(b) for n, b in raw.items()},
            "gz_md5": [(f"{n}.gz", md5(gz[n])) for n in FASHION_NAMES]}


def check_fashion(ds, arrays):
    a = arrays
    assert ds.used == "fashion-mnist"
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.x_train.shape == (5, 1, 28, 28) and ds.x_test.shape == (3, 1, 28, 28)
    np.testing.assert_array_equal(ds.x_train, a["train-images-idx3-ubyte"][:, None] / np.float32(255))
    np.testing.assert_array_equal(ds.x_test, a["t10k-images-idx3-ubyte"][:, None] / np.float32(255))
    np.testing.assert_array_equal(ds.y_train, [9, 0, 3, 3, 7])
    np.testing.assert_array_equal(ds.y_test, [1, 8, 2])
    assert ds.classes[0] == "T-shirt/top" and ds.classes[9] == "Ankle boot"


def test_digits_offline_shapes_values_and_provenance(capsys):
    from sklearn.datasets import load_digits

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = real.load("digits", download=False)
    ref = load_digits()
    assert ds.x_train.shape == (1437, 1, 8, 8) and ds.x_test.shape == (360, 1, 8, 8)
    assert ds.x_train.dtype == np.float32 and ds.y_test.dtype == np.int64
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0
    np.testing.assert_array_equal(ds.x_test[:, 0], (ref.images[1437:] / 16).astype(np.float32))
    np.testing.assert_array_equal(ds.y_train, ref.target[:1437])
    assert ds.classes == tuple("0123456789")
    assert not ds.substituted
    assert ds.provenance() == {"requested": "digits", "used": "digits",
                               "substituted": False, "reason": None}
    assert capsys.readouterr().out == ""


def test_fashion_from_debian_dir_with_torchvision_gz_md5s(tmp_path, fake_fashion, tv, monkeypatch):
    # a .gz whose md5 is torchvision's still has its content checked: the cache is verified by content md5
    monkeypatch.setattr(tv.datasets.FashionMNIST, "resources", fake_fashion["gz_md5"])
    monkeypatch.setattr(real, "FASHION_MNIST_RAW_MD5", fake_fashion["raw_md5"])
    root = tmp_path / "data"
    ds = real.load("fashion-mnist", root=root, download=False, strict=True,
                   debian_dir=fake_fashion["dir"])
    check_fashion(ds, fake_fashion["arrays"])
    assert not ds.substituted
    # left where torchvision's own download would put them, so the next load is a cache hit
    assert sorted(p.name for p in (root / "FashionMNIST" / "raw").iterdir()) == sorted(FASHION_NAMES)
    check_fashion(real.load("fashion-mnist", root=root, download=False, strict=True,
                            debian_dir=tmp_path / "gone"), fake_fashion["arrays"])


def test_fashion_regzipped_files_accepted_by_content_md5(tmp_path, fake_fashion, monkeypatch):
    # the real Debian package re-gzips the files: .gz md5s differ from torchvision's
    # (left unpatched here), the decompressed content still matches upstream
    monkeypatch.setattr(real, "FASHION_MNIST_RAW_MD5", fake_fashion["raw_md5"])
    ds = real.load("fashion-mnist", root=tmp_path / "data", download=False, strict=True,
                   debian_dir=fake_fashion["dir"])
    check_fashion(ds, fake_fashion["arrays"])


def test_concurrent_debian_installs_never_share_a_temporary_file(tmp_path, fake_fashion, monkeypatch):
    # claims run side by side and may install at the same moment; a shared temporary name made one
    # job's rename fail and that claim fall back to digits (seen in a full fresh-clone run)
    monkeypatch.setattr(real, "FASHION_MNIST_RAW_MD5", fake_fashion["raw_md5"])
    moved = []
    replace = real.os.replace
    monkeypatch.setattr(real.os, "replace", lambda src, dst: moved.append(str(src)) or replace(src, dst))
    raw = tmp_path / "raw"
    for _ in range(2):
        real._install_debian_fashion(fake_fashion["gz_md5"], fake_fashion["dir"], raw)
    assert len(moved) == 2 * len(FASHION_NAMES) and len(set(moved)) == len(moved)
    assert sorted(p.name for p in raw.iterdir()) == sorted(FASHION_NAMES)  # nothing partial left behind


def test_fashion_corrupted_file_is_rejected_naming_it(tmp_path, fake_fashion, tv, monkeypatch):
    monkeypatch.setattr(tv.datasets.FashionMNIST, "resources", fake_fashion["gz_md5"])
    monkeypatch.setattr(real, "FASHION_MNIST_RAW_MD5", fake_fashion["raw_md5"])
    bad = fake_fashion["dir"] / "train-labels-idx1-ubyte.gz"
    bad.write_bytes(gzip.compress(idx_labels(np.array([9, 0, 3, 3, 6], dtype=np.uint8))))
    root = tmp_path / "data"
    with pytest.raises(real.DataUnavailable, match="train-labels-idx1-ubyte.gz: md5 mismatch"):
        real.load("fashion-mnist", root=root, download=False, strict=True,
                  debian_dir=fake_fashion["dir"])
    assert not (root / "FashionMNIST" / "raw").exists()  # nothing half-installed
    with pytest.warns(UserWarning, match="using digits"):
        ds = real.load("fashion-mnist", root=root, download=False, debian_dir=fake_fashion["dir"])
    assert ds.used == "digits" and str(bad) in ds.reason


@pytest.mark.skipif(not real.DEBIAN_FASHION_MNIST.is_dir(), reason="dataset-fashion-mnist not installed")
def test_real_debian_package(tmp_path):
    ds = real.load("fashion-mnist", root=tmp_path, download=False, strict=True)
    assert ds.x_train.shape == (60000, 1, 28, 28) and ds.x_test.shape == (10000, 1, 28, 28)
    assert np.bincount(ds.y_train).tolist() == [6000] * 10


@pytest.fixture
def fake_cifar(tmp_path, tv, monkeypatch):
    """Tiny cifar-10-batches-py (2 images per batch) with torchvision's md5 lists patched."""
    rng = np.random.default_rng(1)
    base = tmp_path / "data" / "cifar-10-batches-py"
    base.mkdir(parents=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    batches, md5s = {}, {}
    for i, name in enumerate(names):
        batches[name] = {"data": rng.integers(0, 256, (2, 3072), dtype=np.uint8),
                         "labels": [i, 9 - i]}
        (base / name).write_bytes(pickle.dumps(batches[name]))
        md5s[name] = md5((base / name).read_bytes())
    labels = ["airplane", "automobile", "bird", "cat", "deer",
              "dog", "frog", "horse", "ship", "truck"]
    (base / "batches.meta").write_bytes(pickle.dumps({"label_names": labels}))
    C = tv.datasets.CIFAR10
    monkeypatch.setattr(C, "train_list", [[n, md5s[n]] for n in names[:5]])
    monkeypatch.setattr(C, "test_list", [["test_batch", md5s["test_batch"]]])
    monkeypatch.setattr(C, "meta", {**C.meta, "md5": md5((base / "batches.meta").read_bytes())})
    return {"root": tmp_path / "data", "batches": batches, "names": names, "labels": labels}


def check_cifar(ds, fake):
    b, names = fake["batches"], fake["names"]
    train = np.concatenate([b[n]["data"] for n in names[:5]]).reshape(-1, 3, 32, 32)
    assert ds.used == "cifar10" and not ds.substituted
    assert ds.x_train.shape == (10, 3, 32, 32) and ds.x_test.shape == (2, 3, 32, 32)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    np.testing.assert_array_equal(ds.x_train, train / np.float32(255))
    np.testing.assert_array_equal(ds.x_test, b["test_batch"]["data"].reshape(-1, 3, 32, 32) / np.float32(255))
    np.testing.assert_array_equal(ds.y_train, [0, 9, 1, 8, 2, 7, 3, 6, 4, 5])
    np.testing.assert_array_equal(ds.y_test, [5, 4])
    assert ds.classes == tuple(fake["labels"])


def test_cifar_batches_layout_and_values(fake_cifar):
    check_cifar(real.load("cifar10", root=fake_cifar["root"], download=False, strict=True), fake_cifar)


def test_cifar_verified_tarball_is_extracted_offline(tmp_path, fake_cifar, tv, monkeypatch):
    root = tmp_path / "tarroot"
    root.mkdir()
    tarball = root / "cifar-10-python.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(fake_cifar["root"] / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    monkeypatch.setattr(tv.datasets.CIFAR10, "tgz_md5", md5(tarball.read_bytes()))
    check_cifar(real.load("cifar10", root=root, download=False, strict=True), fake_cifar)


def test_fallback_is_loud_and_strict_refuses(tmp_path, capsys):
    empty_root, empty_deb = tmp_path / "data", tmp_path / "deb"
    empty_deb.mkdir()
    with pytest.warns(UserWarning, match="DATA SUBSTITUTION: requested cifar10, using digits"):
        ds = real.load("cifar10", root=empty_root, download=False, debian_dir=empty_deb)
    assert (ds.requested, ds.used, ds.substituted) == ("cifar10", "digits", True)
    assert ds.reason.startswith("cifar10: ") and "; fashion-mnist: " in ds.reason
    assert ds.provenance() == {"requested": "cifar10", "used": "digits",
                               "substituted": True, "reason": ds.reason}
    assert ds.x_train.shape == (1437, 1, 8, 8)
    out = capsys.readouterr().out
    assert out.startswith("=" * 78 + "\nDATA SUBSTITUTION: requested cifar10, using digits (cifar10: ")
    assert str(empty_deb) in out and "apt-get install dataset-fashion-mnist" in out

    with pytest.raises(real.DataUnavailable) as err:
        real.load("cifar10", root=empty_root, download=False, strict=True, debian_dir=empty_deb)
    msg = str(err.value)
    assert msg.startswith("cifar10 unavailable")
    assert str(empty_root / "cifar-10-batches-py") in msg
    assert "cifar-10-python.tar.gz" in msg and "allow download" in msg
    assert capsys.readouterr().out == ""


def test_fallback_stops_at_fashion_mnist(tmp_path, fake_fashion, monkeypatch, capsys):
    monkeypatch.setattr(real, "FASHION_MNIST_RAW_MD5", fake_fashion["raw_md5"])
    with pytest.warns(UserWarning):
        ds = real.load("cifar10", root=tmp_path / "data", download=False, debian_dir=fake_fashion["dir"])
    check_fashion(ds, fake_fashion["arrays"])
    assert ds.substituted and ds.reason.startswith("cifar10: ") and "fashion-mnist:" not in ds.reason
    assert "DATA SUBSTITUTION: requested cifar10, using fashion-mnist" in capsys.readouterr().out


def test_failed_download_reason_is_reported(tmp_path):
    empty_deb = tmp_path / "deb"
    empty_deb.mkdir()
    with pytest.warns(UserWarning):
        ds = real.load("fashion-mnist", root=tmp_path / "data", download=True, debian_dir=empty_deb)
    assert ds.used == "digits" and "network blocked by test" in ds.reason


def test_last_resort_failure_raises(tmp_path, monkeypatch):
    import sklearn.datasets

    def broken():
        raise OSError("digits gone")

    monkeypatch.setattr(sklearn.datasets, "load_digits", broken)
    with pytest.raises(real.DataUnavailable, match="(?s)cifar10 unavailable.*fashion-mnist unavailable"
                                                   ".*digits unavailable: digits gone"):
        real.load("cifar10", root=tmp_path, download=False, debian_dir=tmp_path / "none")


def test_unknown_name():
    with pytest.raises(ValueError, match=r"'mnist'.*cifar10, fashion-mnist, digits"):
        real.load("mnist")


def test_import_torchvision_works_and_is_idempotent():
    first = real.import_torchvision()
    schemas = real._TV_SCHEMAS
    second = real.import_torchvision()
    assert first is second is sys.modules["torchvision"]
    assert real._TV_SCHEMAS is schemas
    assert first.datasets.CIFAR10.base_folder == "cifar-10-batches-py"


def test_per_class_counts_shrink_to_what_a_small_data_set_has():
    from types import SimpleNamespace

    from bnrepro.data import subsets

    ds = SimpleNamespace(used="digits", y_train=np.repeat(np.arange(3), [40, 37, 50]), y_test=np.repeat(np.arange(3), 9))
    assert subsets.per_class_counts(ds, (20, 10), 5) == ((20, 10), 5, "")
    train, test, note = subsets.per_class_counts(ds, (100, 100), 1000)
    assert train == (18, 18) and sum(train) <= 37 and test == 9
    assert "digits" in note and "[100, 100]" in note and "[18, 18] / 9" in note
