"""Provision one dataset for the workflow and write its manifest (the data rule, workflow/rules/data.smk).

    python -m bnrepro.data.provision cifar10 --root data --manifest data/manifests/cifar10.json [--strict]

The dataset is verified in the data root, or provisioned there (a verified tarball, the Debian package, a
download), along the fallback chain of bnrepro.data.real unless --strict. The manifest, a small JSON file the
claims that ask for the dataset depend on, says what was asked for and what is used, where it came from this time,
the md5 of every file, and any substitution with its reason. It holds no time stamp: the same data give the same
bytes. `plan` says, without reading any file whole, what provisioning will do (for `snakemake -n`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bnrepro.data import real

MANIFEST_VERSION = 1
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"  # torchvision's CIFAR10.url
FASHION_MIRROR = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"  # FashionMNIST.mirrors[0]


def provision(name: str, *, root: str | Path = "data", strict: bool = False, download: bool = True,
              debian_dir: str | Path | None = None) -> dict:
    """Verify or provision `name` (falling back loudly unless strict) and return its manifest."""
    used, provisioned, _, reason = real.resolve(name, root=root, strict=strict, download=download,
                                                debian_dir=debian_dir, read=False)
    return {"manifest_version": MANIFEST_VERSION, "requested": name, "used": used, "substituted": used != name,
            "reason": reason, "strict": strict, "root": str(root), "source": provisioned.source,
            "repaired": list(provisioned.repaired), "files": provisioned.files}


def write_manifest(manifest: dict, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    real.write_atomically(path, (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())
    return path


def plan(name: str, *, root: str | Path = "data", download: bool = True, debian_dir: str | Path | None = None) -> str:
    """One line: what provisioning `name` will do, from which files exist (md5s are checked when it runs)."""
    root = Path(root)
    if name == "digits":
        return "scikit-learn's load_digits (ships with it)"
    if name == "fashion-mnist":
        raw = root / "FashionMNIST" / "raw"
        debian = Path(debian_dir if debian_dir is not None else real.DEBIAN_FASHION_MNIST)
        if all((raw / f).is_file() for f in real.FASHION_MNIST_RAW_MD5):
            return f"verify the cache {raw}"
        if debian.is_dir():
            return f"install from the Debian package in {debian} into {raw}"
        return (f"DOWNLOAD from {FASHION_MIRROR} into {raw} (4 files, ~30 MB)" if download
                else "not available (download disabled): falls back to digits unless strict")
    # torchvision's CIFAR10.base_folder, .filename and .url, without importing torchvision (seconds) at DAG time
    base, tarball = root / "cifar-10-batches-py", root / "cifar-10-python.tar.gz"
    url = real._test_sources().get("cifar10", {}).get("url", CIFAR10_URL)
    if base.is_dir():
        return f"verify the cache {base}"
    if tarball.is_file():
        return f"extract the tarball {tarball} (md5-checked)"
    return (f"DOWNLOAD {url} (~163 MB) into {root}, else fall back to fashion-mnist unless strict" if download
            else "not available (download disabled): falls back to fashion-mnist unless strict")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=real.FALLBACK_CHAIN)
    parser.add_argument("--root", type=Path, default=Path("data"))
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--strict", action="store_true", help="a substitution is an error (strict_data=true)")
    parser.add_argument("--no-download", action="store_true")
    parser.add_argument("--debian-dir", type=Path)
    args = parser.parse_args(argv)
    print(f"bnrepro.data.provision: {args.dataset}: "
          f"{plan(args.dataset, root=args.root, download=not args.no_download, debian_dir=args.debian_dir)}", flush=True)
    try:
        manifest = provision(args.dataset, root=args.root, strict=args.strict, download=not args.no_download,
                             debian_dir=args.debian_dir)
    except real.DataUnavailable as error:
        print(f"bnrepro.data.provision: {error}", file=sys.stderr)
        return 1
    write_manifest(manifest, args.manifest)
    print(f"bnrepro.data.provision: {args.dataset}: used {manifest['used']} from {manifest['source']}"
          + (f" (SUBSTITUTED: {manifest['reason']})" if manifest["substituted"] else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
