"""Math that renders offline: MathJax 2.7 copied once into results/mathjax/, linked by relative paths.

    python -m bnrepro.mathjax results/mathjax

The rendered notebooks (results/notebooks/*.html) and the reader's page (results/index.html) load MathJax
from this copy, not from a CDN, so that an archived or offline copy of results/ still shows its formulas.
MathJax comes from the PyPI package `jupyter-server-mathjax` (pinned in constraints.txt), which ships MathJax's
combined TeX configuration with the HTML-CSS output and the STIX-Web fonts only; only what the pages use is
copied (about 8 MB).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
from pathlib import Path

from bnrepro import claims

CONFIG_NAME = "local/bnrepro"
COMBINED = "TeX-AMS-MML_HTMLorMML-full"  # TeX input and the HTML-CSS output in one file
# Our configuration, loaded after the combined one: TeX in $...$ and $$...$$ (as Jupyter writes it), drawn with
# the STIX-Web web fonts (the only fonts the package ships; no image fonts, no locally installed fonts, so that
# every machine draws the same). MathJax runs a config file as a script and waits for loadComplete.
CONFIG = """\
MathJax.Hub.Config({
  extensions: ["Safe.js"],
  tex2jax: {inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]], displayMath: [["$$", "$$"], ["\\\\[", "\\\\]"]],
            processEscapes: true, processEnvironments: true},
  "HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null,
               linebreaks: {automatic: true}},
  messageStyle: "none",
  showMathMenu: false
});
MathJax.Ajax.loadComplete("[MathJax]/config/local/bnrepro.js");
"""
# what the pages need, relative to the package's static/ folder
PARTS = ("MathJax.js", "LICENSE", f"config/{COMBINED}.js", "extensions", "jax/element", "jax/input", "jax/output/HTML-CSS",
         "fonts/HTML-CSS/STIX-Web/woff")


def default_dir() -> Path:
    """Where the pipeline puts MathJax: results/mathjax/ (shared by the main run and every replicate)."""
    return claims.results_root(0) / "mathjax"


def source_dir() -> Path:
    """MathJax's files as installed by the jupyter-server-mathjax package. The package is found, not imported:
    importing it loads Jupyter Server, which `make setup` does not install (only the static files are used)."""
    spec = importlib.util.find_spec("jupyter_server_mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            "bnrepro.mathjax: the package jupyter-server-mathjax is missing (it ships MathJax for offline math). "
            "Install it: `pip install --no-deps -c constraints.txt jupyter-server-mathjax` (or `make setup`)."
        )
    static = Path(spec.submodule_search_locations[0]) / "static"
    if not (static / "MathJax.js").is_file():
        raise SystemExit(f"bnrepro.mathjax: no MathJax.js under {static}; reinstall jupyter-server-mathjax")
    return static


def install(dest: str | Path | None = None) -> Path:
    """Copy MathJax and our configuration into `dest` (results/mathjax/ by default); return `dest`."""
    dest = Path(dest) if dest is not None else default_dir()
    static = source_dir()
    tmp = dest.with_name(f".{dest.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for part in PARTS:
        src = static / part
        if src.is_dir():
            shutil.copytree(src, tmp / part)
        else:
            (tmp / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, tmp / part)
    config = tmp / "config" / f"{CONFIG_NAME}.js"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(CONFIG)
    shutil.rmtree(dest, ignore_errors=True)
    os.replace(tmp, dest)
    return dest


def url(page_dir: str | Path, mathjax_dir: str | Path | None = None) -> str:
    """The relative URL, from a page in `page_dir`, of MathJax with our configuration (forward slashes, so it
    works from file:// and from a web server alike)."""
    mathjax_dir = Path(mathjax_dir) if mathjax_dir is not None else default_dir()
    relative = Path(os.path.relpath(Path(mathjax_dir).absolute() / "MathJax.js", Path(page_dir).absolute())).as_posix()
    return f"{relative}?config={COMBINED},{CONFIG_NAME}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", nargs="?", type=Path, default=None, help="default: results/mathjax")
    print(install(parser.parse_args(argv).dest))


if __name__ == "__main__":
    main()
