"""Dataset integrity and provisioning: every cached file md5-checked on each load, repaired from a verified
source or refused naming the file, atomic umask-respecting installs, one good copy under concurrent
provisioning, manifests, and the registry's `datasets`. Offline: urlopen is patched to fail."""

import gzip
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import yaml

from bnrepro import registry
from bnrepro.data import provision, real, standin

ROOT = Path(__file__).resolve().parents[1]
FASHION_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
CIFAR_NAMES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch", "batches.meta")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def blocked(*args, **kwargs):
        raise urllib.error.URLError("network blocked by test")

    monkeypatch.setattr(urllib.request, "urlopen", blocked)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture
def fashion(tmp_path, monkeypatch):
    """A 6-train / 4-test Fashion-MNIST as a fake Debian package dir, its md5s the library's (in this process)."""
    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte": np.arange(6, dtype=np.uint8),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte": np.arange(4, dtype=np.uint8)}
    deb = tmp_path / "debian"
    deb.mkdir()
    raw = {}
    for name, a in arrays.items():
        header = struct.pack(">IIII", 0x803, *a.shape) if a.ndim == 3 else struct.pack(">II", 0x801, len(a))
        raw[name] = header + a.tobytes()
        (deb / f"{name}.gz").write_bytes(gzip.compress(raw[name], mtime=0))
    raw_md5 = {n: md5(b) for n, b in raw.items()}
    monkeypatch.setattr(real, "FASHION_MNIST_RAW_MD5", raw_md5)
    monkeypatch.setattr(real, "DEBIAN_FASHION_MNIST", deb)  # the default Debian path, overridden
    return {"deb": deb, "raw": raw, "raw_md5": raw_md5, "root": tmp_path / "data", "arrays": arrays}


@pytest.fixture
def cifar(tmp_path, monkeypatch):
    """A small CIFAR-10-format stand-in and its verified tarball in a source folder; md5s pointed at it."""
    src = tmp_path / "cifar-src"
    files = standin.write_cifar10(src, n_train=30, n_test=10)
    tgz_md5 = standin.tarball(src, src / standin.TARBALL)
    monkeypatch.setenv(real.TEST_SOURCES_ENV, str(standin.write_sources(tmp_path / "sources.json", files, tgz_md5=tgz_md5)))
    return {"src": src, "files": files, "tgz_md5": tgz_md5, "root": tmp_path / "data"}


def flip_byte(path: Path, offset: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    i = len(data) // 2 if offset is None else offset
    data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


DAMAGE = {"flipped byte": flip_byte, "truncated": truncate}


# ------------------------------------------------------------------ Fashion-MNIST cache


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("name", FASHION_NAMES)
def test_damaged_fashion_cache_file_is_detected_and_named(fashion, name, damage):
    root = fashion["root"]
    real.load("fashion-mnist", root=root, download=False, strict=True)  # installs from the fake package
    bad = root / "FashionMNIST" / "raw" / name
    DAMAGE[damage](bad)
    found = md5(bad.read_bytes())
    for strict in (True, False):  # a corrupted cache is an error even where a substitution would be allowed
        with pytest.raises(real.DataCorrupted) as error:
            real.load("fashion-mnist", root=root, download=False, strict=strict, debian_dir=root / "no-package")
        message = str(error.value)
        assert f"{bad}: md5 {found}, expected {fashion['raw_md5'][name]}" in message
        assert f"to provide it: delete {root / 'FashionMNIST' / 'raw'}" in message and "dataset-fashion-mnist" in message
        assert [m[0] for m in error.value.mismatches] == [bad]


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_fashion_cache_is_provisioned_again_from_the_debian_package(fashion, damage):
    root = fashion["root"]
    real.load("fashion-mnist", root=root, download=False)
    bad = root / "FashionMNIST" / "raw" / "train-images-idx3-ubyte"
    DAMAGE[damage](bad)
    ds = real.load("fashion-mnist", root=root, download=False, strict=True)  # default Debian path: the fake one
    assert ds.provisioned.source == "debian" and ds.provisioned.repaired == ("FashionMNIST/raw/train-images-idx3-ubyte",)
    assert bad.read_bytes() == fashion["raw"]["train-images-idx3-ubyte"]
    np.testing.assert_array_equal(ds.x_train[:, 0], fashion["arrays"]["train-images-idx3-ubyte"] / np.float32(255))
    assert real.load("fashion-mnist", root=root, download=False).provisioned.source == "cache"


def test_a_missing_cache_file_is_provisioned_again(fashion):
    root = fashion["root"]
    real.load("fashion-mnist", root=root, download=False)
    (root / "FashionMNIST/raw/t10k-labels-idx1-ubyte").unlink()
    assert real.load("fashion-mnist", root=root, download=False).provisioned.repaired == ("FashionMNIST/raw/t10k-labels-idx1-ubyte",)


def test_without_the_debian_package_fashion_falls_back_loudly(tmp_path, monkeypatch):
    monkeypatch.setattr(real, "DEBIAN_FASHION_MNIST", tmp_path / "not-installed")
    with pytest.warns(UserWarning, match="using digits"):
        ds = real.load("fashion-mnist", root=tmp_path / "data", download=False)
    assert ds.used == "digits" and f"{tmp_path / 'not-installed'}: no such directory" in ds.reason
    with pytest.raises(real.DataUnavailable, match="strict: substitution not allowed"):
        real.load("fashion-mnist", root=tmp_path / "data", download=False, strict=True)


@pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist").is_dir(), reason="dataset-fashion-mnist not installed")
def test_the_real_debian_package_repairs_a_flipped_byte(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    assert real.load("fashion-mnist", root=tmp_path, download=False, strict=True).provisioned.source == "debian"
    good = (raw / "train-images-idx3-ubyte").read_bytes()
    flip_byte(raw / "train-images-idx3-ubyte", 1000)
    ds = real.load("fashion-mnist", root=tmp_path, download=False, strict=True)
    assert ds.provisioned.source == "debian" and (raw / "train-images-idx3-ubyte").read_bytes() == good
    assert ds.x_train.shape == (60000, 1, 28, 28)


# ------------------------------------------------------------------ CIFAR-10 cache


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("name", CIFAR_NAMES)
def test_damaged_cifar_cache_file_is_detected_named_and_repaired_from_the_tarball(cifar, name, damage):
    root = cifar["root"]
    root.mkdir()
    (root / standin.TARBALL).symlink_to(cifar["src"] / standin.TARBALL)
    assert real.load("cifar10", root=root, download=False, strict=True).provisioned.source == "tarball"
    bad = root / standin.BASE_FOLDER / name
    good = bad.read_bytes()
    DAMAGE[damage](bad)
    found = md5(bad.read_bytes())
    ds = real.load("cifar10", root=root, download=False, strict=True)  # the verified tarball repairs it
    assert ds.provisioned.source == "tarball" and ds.provisioned.repaired == (f"{standin.BASE_FOLDER}/{name}",)
    assert bad.read_bytes() == good and ds.x_train.shape == (30, 3, 32, 32)
    DAMAGE[damage](bad)
    (root / standin.TARBALL).unlink()  # no verified source left: stop, naming the file
    expected = dict([*cifar["files"]["train_list"], *cifar["files"]["test_list"], ["batches.meta", cifar["files"]["meta_md5"]]])
    with pytest.raises(real.DataCorrupted) as error:
        real.load("cifar10", root=root, download=False)
    assert f"{bad}: md5 {found}, expected {expected[name]}" in str(error.value)
    assert f"to provide it: delete {root / standin.BASE_FOLDER} and place cifar-10-python.tar.gz" in str(error.value)


def test_a_tarball_that_fails_its_md5_is_never_extracted(cifar):
    root = cifar["root"]
    root.mkdir()
    (root / standin.TARBALL).write_bytes((cifar["src"] / standin.TARBALL).read_bytes()[:-100])
    with pytest.raises(real.DataUnavailable, match=f"{standin.TARBALL}: md5 [0-9a-f]{{32}}, expected {cifar['tgz_md5']}"):
        real.load("cifar10", root=root, download=False, strict=True)
    assert sorted(p.name for p in root.iterdir()) == [".cifar10.lock", standin.TARBALL]  # nothing extracted


# ------------------------------------------------------------------ atomic, group-readable writes


def test_installs_respect_the_umask_so_a_group_can_read_the_cache(fashion, cifar):
    old = os.umask(0o022)
    try:
        root = fashion["root"]
        root.mkdir()
        (root / standin.TARBALL).write_bytes((cifar["src"] / standin.TARBALL).read_bytes())
        real.load("fashion-mnist", root=root, download=False, strict=True)
        real.load("cifar10", root=root, download=False, strict=True)
        os.umask(0o002)
        flip_byte(root / "FashionMNIST/raw/train-labels-idx1-ubyte")
        real.load("fashion-mnist", root=root, download=False, strict=True)
    finally:
        os.umask(old)
    modes = {str(p.relative_to(root)): p.stat().st_mode & 0o777 for p in root.rglob("*")}
    # the repair rewrote the package's four files under umask 002
    assert [modes.pop(f"FashionMNIST/raw/{n}") for n in FASHION_NAMES] == [0o664] * 4
    assert modes.pop(standin.BASE_FOLDER) == 0o755
    assert set(modes.values()) <= {0o644, 0o755}, modes


def test_an_interrupted_write_leaves_nothing_half_written(tmp_path, monkeypatch):
    target = tmp_path / "file"
    target.write_bytes(b"old")

    def killed(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(real.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        real.write_atomically(target, b"new content")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["file"]


def test_concurrent_provisioning_by_two_processes_gives_one_good_copy(fashion, tmp_path):
    sources = tmp_path / "fashion-sources.json"
    sources.write_text(json.dumps({"fashion-mnist": {"raw_md5": fashion["raw_md5"]}}))
    root = fashion["root"]
    env = {**os.environ, real.TEST_SOURCES_ENV: str(sources), "PYTHONPATH": str(ROOT / "src")}
    jobs = [subprocess.Popen([sys.executable, "-m", "bnrepro.data.provision", "fashion-mnist", "--root", str(root),
                              "--manifest", str(tmp_path / f"m{i}.json"), "--debian-dir", str(fashion["deb"]),
                              "--no-download", "--strict"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            for i in range(2)]
    outputs = [job.communicate(timeout=300)[0].decode() for job in jobs]
    assert [job.returncode for job in jobs] == [0, 0], outputs
    manifests = [json.loads((tmp_path / f"m{i}.json").read_text()) for i in range(2)]
    # the lock: one installed, the other waited and found that verified copy
    assert sorted(m["source"] for m in manifests) == ["cache", "debian"]
    assert manifests[0]["files"] == manifests[1]["files"] == {f"FashionMNIST/raw/{n}": fashion["raw_md5"][n] for n in sorted(FASHION_NAMES)}
    raw = root / "FashionMNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == sorted(FASHION_NAMES)  # no temporary file left
    assert all((raw / n).read_bytes() == fashion["raw"][n] for n in FASHION_NAMES)


# ------------------------------------------------------------------ manifests and the plan


def test_manifest_records_the_substitution_and_every_md5(fashion, tmp_path):
    root = fashion["root"]
    manifest = provision.provision("cifar10", root=root, download=False)
    assert {k: manifest[k] for k in ("requested", "used", "substituted", "source", "strict")} == {
        "requested": "cifar10", "used": "fashion-mnist", "substituted": True, "source": "debian", "strict": False}
    assert manifest["reason"].startswith("cifar10: not found or md5 mismatch")
    assert manifest["files"] == {f"FashionMNIST/raw/{n}": md5((root / "FashionMNIST/raw" / n).read_bytes()) for n in FASHION_NAMES}
    path = provision.write_manifest(manifest, tmp_path / "manifests" / "cifar10.json")
    assert json.loads(path.read_text()) == manifest and path.stat().st_mode & 0o044 == 0o044


def test_strict_provisioning_fails_and_writes_no_manifest(fashion, tmp_path, capsys):
    out = tmp_path / "m.json"
    code = provision.main(["cifar10", "--root", str(fashion["root"]), "--manifest", str(out), "--strict", "--no-download"])
    assert code == 1 and not out.exists()
    assert "cifar10 unavailable" in capsys.readouterr().err


def test_plan_says_what_will_be_fetched(fashion, cifar):
    root = fashion["root"]
    assert provision.plan("cifar10", root=root).startswith("DOWNLOAD http://127.0.0.1:9/unused/cifar-10-python.tar.gz")
    assert "download disabled" in provision.plan("cifar10", root=root, download=False)
    assert provision.plan("fashion-mnist", root=root) == f"install from the Debian package in {fashion['deb']} into {root}/FashionMNIST/raw"
    real.load("fashion-mnist", root=root)
    assert provision.plan("fashion-mnist", root=root).startswith("verify the cache")
    root.joinpath(standin.TARBALL).write_bytes(b"x")
    assert provision.plan("cifar10", root=root).startswith("extract the tarball")


def test_download_can_be_turned_off_by_the_environment(tmp_path, monkeypatch, fashion):
    monkeypatch.setenv(real.DOWNLOAD_ENV, "0")
    monkeypatch.setattr(real, "DEBIAN_FASHION_MNIST", tmp_path / "none")
    with pytest.warns(UserWarning):
        ds = real.load("cifar10", root=tmp_path / "data")
    assert "download disabled" in ds.reason and "network blocked" not in ds.reason


# ------------------------------------------------------------------ the registry's datasets


def test_every_dataset_a_notebook_loads_is_declared_in_the_registry():
    config = registry.load(ROOT / "config/config.yaml")
    for claim, entry in config["claims"].items():
        source = (ROOT / entry["notebook"]).read_text()
        loads = set(re.findall(r"\bload\(\"([a-z0-9-]+)\"", source))
        if "load(image_dataset" in source:
            declared = registry.notebook_parameters(ROOT / entry["notebook"])
            loads |= {p.get("image_dataset", declared["image_dataset"]) for p in entry["params"].values()}
        if "datasets.digits()" in source:  # bnrepro.balestriero2022.datasets.digits loads digits
            loads.add("digits")
        assert loads <= set(entry.get("datasets", [])), claim
    cifar = sorted(c for c, e in config["claims"].items() if "cifar10" in e.get("datasets", []))
    assert cifar == ["balestriero2022/fixed-affine", "balestriero2022/smart-init", "cao2023/deep-uniformity",
                     "ergen2022/convex-implicit-reg", "ergen2022/gd-implicit-bias", "luo2019/cnn-regularization"]


def test_an_unknown_dataset_is_rejected_naming_the_key():
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    config["claims"]["cao2023/deep-uniformity"]["datasets"] = ["imagenet"]
    with pytest.raises(registry.ConfigError, match="cao2023/deep-uniformity -> datasets -> 0: 'imagenet' is not one of"):
        registry.validate(config, root=ROOT)


@pytest.mark.parametrize(("given", "expected"), [("true", True), ("False", False), (True, True)])
def test_strict_data_from_the_command_line_is_a_boolean(given, expected):
    # `snakemake --config strict_data=true` passes the string "true"
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    config["strict_data"] = given
    assert registry.validate(config, root=ROOT)["strict_data"] is expected
