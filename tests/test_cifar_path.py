"""The CIFAR-10 path end to end, on a CIFAR-10-format stand-in served from a loopback HTTP server: torchvision's
real download (download_url), verification (check_integrity, its per-file md5s) and extraction (extract_archive)
run, pointed at the stand-in by real.TEST_SOURCES_ENV; then the claims that load CIFAR-10 run at the quick scale on
it, through the workflow's data rule, in a copy of the checkout (never where real results go)."""

import functools
import hashlib
import json
import os
import re
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import yaml

from bnrepro.data import provision, real, standin
from conftest import copy_checkout, snakemake

ROOT = Path(__file__).resolve().parents[1]


class _Handler(SimpleHTTPRequestHandler):
    """Serves the folder quietly and records each file sent whole, except torchvision's redirect probe (a GET that
    carries the header `Method: HEAD`, whose body it never reads): not a download."""

    def log_message(self, *args):
        pass

    def copyfile(self, source, outputfile):
        try:
            super().copyfile(source, outputfile)
        except (BrokenPipeError, ConnectionResetError):
            return
        if self.headers.get("Method") != "HEAD":
            self.server.sent.append(self.path)


def serve(directory: Path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(directory)))
    server.sent = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def standin_server(tmp_path: Path, monkeypatch, n_train: int, n_test: int):
    """The stand-in's tarball on a loopback server; TEST_SOURCES_ENV points CIFAR10's url and md5s at it."""
    served = tmp_path / "served"
    files = standin.write_cifar10(served / "tree", n_train, n_test)
    tgz_md5 = standin.tarball(served / "tree", served / standin.TARBALL)
    server = serve(served)
    url = f"http://127.0.0.1:{server.server_address[1]}/{standin.TARBALL}"
    sources = standin.write_sources(tmp_path / "sources.json", files, url=url, tgz_md5=tgz_md5)
    monkeypatch.setenv(real.TEST_SOURCES_ENV, str(sources))
    return server, {"url": url, "sources": sources, "files": files, "tgz_md5": tgz_md5, "tree": served / "tree"}


@pytest.fixture
def loopback(tmp_path, monkeypatch):
    server, info = standin_server(tmp_path, monkeypatch, n_train=50, n_test=20)
    yield {**info, "server": server}
    server.shutdown()


def tarball_gets(server) -> int:
    """How many times the tarball was downloaded whole."""
    return server.sent.count(f"/{standin.TARBALL}")


def test_loopback_download_verifies_extracts_and_loads(loopback, tmp_path):
    root = tmp_path / "data"
    ds = real.load("cifar10", root=root, download=True, strict=True)
    assert ds.used == "cifar10" and not ds.substituted and ds.provisioned.source == "download"
    assert tarball_gets(loopback["server"]) == 1
    x, y = standin.images(50, 0)
    np.testing.assert_array_equal(ds.x_train, x.reshape(-1, 3, 32, 32) / np.float32(255))
    np.testing.assert_array_equal(ds.y_train, y)
    assert ds.x_test.shape == (20, 3, 32, 32) and ds.classes == standin.CLASSES
    # the verified tarball is kept (a source for repairs) and nothing temporary is left
    assert sorted(p.name for p in root.iterdir()) == [".cifar10.lock", standin.BASE_FOLDER, standin.TARBALL]
    assert hashlib.md5((root / standin.TARBALL).read_bytes()).hexdigest() == loopback["tgz_md5"]
    again = real.load("cifar10", root=root, download=True, strict=True)
    assert again.provisioned.source == "cache" and tarball_gets(loopback["server"]) == 1


def test_a_download_that_fails_its_md5_is_rejected_and_nothing_is_kept(loopback, tmp_path):
    sources = json.loads(loopback["sources"].read_text())
    sources["cifar10"]["tgz_md5"] = "0" * 32
    loopback["sources"].write_text(json.dumps(sources))
    root = tmp_path / "data"
    with pytest.raises(real.DataUnavailable, match="download failed: File not found or corrupted"):
        real.load("cifar10", root=root, download=True, strict=True)
    assert tarball_gets(loopback["server"]) >= 1
    assert sorted(p.name for p in root.iterdir()) == [".cifar10.lock"]


def test_two_processes_provisioning_at_once_download_once(loopback, tmp_path):
    root = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    jobs = [subprocess.Popen([sys.executable, "-m", "bnrepro.data.provision", "cifar10", "--root", str(root),
                              "--manifest", str(tmp_path / f"m{i}.json"), "--strict"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for i in range(2)]
    outputs = [job.communicate(timeout=300)[0].decode() for job in jobs]
    assert [job.returncode for job in jobs] == [0, 0], outputs
    manifests = [json.loads((tmp_path / f"m{i}.json").read_text()) for i in range(2)]
    assert sorted(m["source"] for m in manifests) == ["cache", "download"]
    assert tarball_gets(loopback["server"]) == 1
    assert manifests[0]["files"] == manifests[1]["files"] and len(manifests[0]["files"]) == 7


# Every claim whose notebook loads CIFAR-10 (the registry's `datasets`), and luo2019/learning-rate, which asks
# for Fashion-MNIST but takes cifar10 as its image_dataset parameter (set so in the copy's registry).
LEARNING_RATE = "luo2019/learning-rate"


@pytest.mark.slow
def test_the_cifar_claims_run_at_quick_scale_on_the_standin(tmp_path, monkeypatch):
    # 300 train / 500 test images per class: the largest quick-scale subsets the notebooks draw
    server, info = standin_server(tmp_path, monkeypatch, n_train=3000, n_test=5000)
    try:
        checkout = copy_checkout(tmp_path / "checkout")
        config_path = checkout / "config/config.yaml"
        config = yaml.safe_load(config_path.read_text())
        claims = sorted(c for c, e in config["claims"].items() if "cifar10" in e.get("datasets", [])) + [LEARNING_RATE]
        config["claims"][LEARNING_RATE]["params"]["quick"]["image_dataset"] = "cifar10"
        # what it then loads; not fashion-mnist, whose strict data job would fail where its Debian package is absent
        config["claims"][LEARNING_RATE]["datasets"] = ["digits", "cifar10"]
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        verdicts = [f"results/claims/{c.replace('/', '-')}.json" for c in claims]
        args = ["--cores", "2", "--config", "scale=quick", "strict_data=true", "--"]
        dry = snakemake(checkout, "--dry-run", *args, *verdicts)
        assert dry.returncode == 0, dry.stderr[-3000:]
        assert f"dataset cifar10: DOWNLOAD {info['url']}" in dry.stdout + dry.stderr
        run = snakemake(checkout, *args, *verdicts, timeout=1500)
        assert run.returncode == 0, (run.stdout + run.stderr)[-5000:]
    finally:
        server.shutdown()
    assert tarball_gets(server) == 1  # one download, by the data rule; the claims never fetch
    manifest = json.loads((checkout / "data/manifests/cifar10.json").read_text())
    assert (manifest["used"], manifest["source"], manifest["substituted"], manifest["strict"]) == ("cifar10", "download", False, True)
    assert manifest["files"] == provision.provision("cifar10", root=checkout / "data", strict=True)["files"]
    for claim, verdict_file in zip(claims, verdicts, strict=True):
        verdict = json.loads((checkout / verdict_file).read_text())
        assert verdict["status"] != "error", (claim, verdict["reason"])
        assert verdict["scale"] == "quick" and re.search(r"\bcifar10\b", verdict["dataset"]["used"]), (claim, verdict["dataset"])
    # the stand-in's verdicts stay in the copy: none of them names the checkout this test runs from
    assert checkout.is_relative_to(tmp_path) and not any(str(ROOT) in (checkout / v).read_text() for v in verdicts)
