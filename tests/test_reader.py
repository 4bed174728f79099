"""The reader's view: results/index.html written from the verdicts, MathJax shipped into results/mathjax/ and
linked by relative paths, and (where Chromium is installed) both pages loaded in a headless browser: every local
link resolves and the math is typeset."""

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
import yaml
from conftest import ROOT, copy_checkout, snakemake
from nbformat.v4 import new_markdown_cell, new_notebook

from bnrepro import claims, mathjax, page
from bnrepro.execute import render_html

CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)), None)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium: install it (Debian: `apt-get install chromium`; .ci/run does so as root) to run the browser test"
)


class _Links(HTMLParser):
    """Every href and src of a page, and every id."""

    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.links += [attrs[k] for k in ("href", "src") if attrs.get(k)]
        if attrs.get("id"):
            self.ids.add(attrs["id"])


def broken_links(html: str, page_path: Path, *, check_anchors: bool = True) -> list[str]:
    """The page's local links (not http(s), data: or javascript:) that do not resolve to a file, and its
    same-page anchors that name no element."""
    parser = _Links()
    parser.feed(html)
    broken = []
    for link in parser.links:
        url = urlsplit(link)
        if url.scheme in ("http", "https", "data", "javascript", "mailto"):
            continue
        if not url.path:
            if check_anchors and url.fragment and unquote(url.fragment) not in parser.ids:
                broken.append(link)
            continue
        if url.scheme or url.path.startswith("/") or not (page_path.parent / unquote(url.path)).is_file():
            broken.append(link)
    return broken


class _VisibleText(HTMLParser):
    """The text a reader sees: without scripts, styles and code (where a $ is literal)."""

    SKIP = {"script", "style", "code", "pre", "textarea"}

    def __init__(self):
        super().__init__()
        self.depth, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        self.depth += tag in self.SKIP

    def handle_endtag(self, tag):
        self.depth -= tag in self.SKIP and self.depth > 0

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def raw_math(html: str) -> list[str]:
    """TeX left untypeset in the visible text: $...$ spans (not a lone dollar sign)."""
    parser = _VisibleText()
    parser.feed(html)
    return re.findall(r"\$[^$\s][^$]*\$", " ".join(parser.parts))


def _verdict(cid, claims_dir, *, status_ok=True, figures=(), offset=0, **kw):
    v = claims.Verdict(id=cid, statement=f"statement of {cid}, with $\\|w\\|$", source="Theorem 1", evidence="abstract",
                       scale="quick", seeds=[0, 1], seed_offset=offset, **kw)
    v.check("the claim's measure", 1.0 if status_ok else 0.0, ">=", 0.5, kind="claim")
    v.check("an identity", 0.0, "<=", 1e-12, kind="sanity")
    for name in figures:
        path = claims.figures_dir(cid, offset) / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\x89PNG fake")
        v.figures.append(str(path))
    v.threads = 1
    return v.write(claims_dir / claims.verdict_path(cid).name)


def test_page_shows_each_papers_figures_in_its_order_then_every_claim_with_relative_links(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the pipeline's layout: results/, figures/, docs/ under the working directory
    claims_dir = Path("results/claims")
    _verdict("cao2023/uniform-margin", claims_dir, figures=["margin-discrepancy", "figure1-replica"])
    _verdict("cao2023/deep-uniformity", claims_dir, status_ok=False, figures=["training-curves", "uniformity-over-epochs"],
             stand_ins=["network: a small CNN <b>for</b> VGG-16"],
             dataset={"requested": "cifar10", "used": "digits", "substituted": True, "reason": "offline"})
    _verdict("ergen2022/closed-form", claims_dir, figures=["predictions"])
    _verdict("cao2023/uniform-margin", Path("results/replicates/1000/claims"), status_ok=False, offset=1000)
    Path("results/notebooks").mkdir(parents=True)
    Path("results/notebooks/cao2023-uniform-margin.html").write_text("<html></html>")
    Path("docs/papers").mkdir(parents=True)
    Path("docs/papers/cao2023.md").write_text("# cao2023\n")
    mathjax.install()
    order = ["cao2023/deep-uniformity", "cao2023/uniform-margin", "ergen2022/closed-form", "lee2022/missing"]
    out = page.write(order, replicate_offsets=[1000])
    html = out.read_text()

    assert broken_links(html, out) == []
    cao = html[html.index('<section id="cao2023">'):html.index('<section id="ergen2022">')]
    # the paper's figures in the paper's order, whatever the claims' order, each naming its claim
    fig1, fig2 = cao.index("<b>Figure 1.</b>"), cao.index("<b>Figure 2.</b>")
    assert fig1 < fig2 < cao.index("<h3>Claims</h3>")
    assert '<img src="../figures/cao2023/uniform-margin/figure1-replica.png"' in cao[:fig1]
    assert '<img src="../figures/cao2023/deep-uniformity/uniformity-over-epochs.png"' in cao[fig1:fig2]
    assert "⚠ This run used digits instead of cifar10." in cao[fig1:fig2] and "This run used" not in cao[:fig1]
    assert '<a href="#cao2023-uniform-margin"><code>cao2023/uniform-margin</code></a>' in cao[fig1:fig2]
    assert cao.index('id="cao2023-deep-uniformity"') < cao.index('id="cao2023-uniform-margin"')  # claims in the given order
    assert '<a href="../docs/papers/cao2023.md">' in cao
    # the thumbnail is the claim's paper figure, not merely its first figure
    deep = cao[cao.index('id="cao2023-deep-uniformity"'):cao.index('id="cao2023-uniform-margin"')]
    assert 'class="thumb" href="../figures/cao2023/deep-uniformity/uniformity-over-epochs.png"' in deep
    assert 'class="badge not-reproduced">not-reproduced' in deep and "abstract only" in deep
    assert "⚠ digits instead of cifar10</span>: offline" in deep
    assert "network: a small CNN &lt;b&gt;for&lt;/b&gt; VGG-16" in deep  # verdict text is escaped
    uniform = cao[cao.index('id="cao2023-uniform-margin"'):]
    assert 'href="notebooks/cao2023-uniform-margin.html">rendered notebook' in uniform
    assert 'href="claims/cao2023-uniform-margin.json">verdict (JSON)' in uniform
    assert 'seeds +1000: <span class="badge not-reproduced">not-reproduced</span><span class="warn">differs' in uniform
    assert re.search(r"<dt>runtime</dt><dd>\d+ s on 1 thread</dd>", uniform)
    ergen = html[html.index('<section id="ergen2022">'):html.index('<section id="lee2022">')]
    assert "Not regenerated: only the abstract" in ergen and "no rendered notebook" in ergen
    lee = html[html.index('<section id="lee2022">'):]
    assert 'class="badge error">error' in lee and "no verdict" in lee
    assert '<script src="mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,local/bnrepro">' in html
    assert '<span class="badge reproduced">2 reproduced</span><span class="badge not-reproduced">1 not-reproduced</span>' in html


def test_link_and_math_checks_catch_a_broken_page(tmp_path):
    page_path = tmp_path / "index.html"
    (tmp_path / "here.html").write_text("")
    html = ('<a href="here.html#x">ok</a> <a href="missing.html">gone</a> <img src="../figures/none.png"> '
            '<a href="https://example.org">web</a> <a href="#nowhere">anchor</a> <p id="top">the norm $\\|w\\|$, 5 $</p>'
            "<code>$not math$</code>")
    assert broken_links(html, page_path) == ["missing.html", "../figures/none.png", "#nowhere"]
    assert raw_math(html) == ["$\\|w\\|$"]


def test_mathjax_is_copied_with_our_configuration_and_linked_relatively(tmp_path):
    dest = mathjax.install(tmp_path / "results" / "mathjax")
    for part in ["MathJax.js", f"config/{mathjax.COMBINED}.js", f"config/{mathjax.CONFIG_NAME}.js", "extensions/Safe.js",
                 "jax/input/TeX/config.js", "jax/output/HTML-CSS/fonts/STIX-Web/fontdata.js",
                 "fonts/HTML-CSS/STIX-Web/woff/STIXMathJax_Main-Regular.woff"]:
        assert (dest / part).is_file(), part
    assert 'loadComplete("[MathJax]/config/local/bnrepro.js")' in (dest / "config/local/bnrepro.js").read_text()
    query = "?config=TeX-AMS-MML_HTMLorMML-full,local/bnrepro"
    assert mathjax.url(tmp_path / "results/notebooks", dest) == "../mathjax/MathJax.js" + query
    assert mathjax.url(tmp_path / "results/replicates/1000/notebooks", dest) == "../../../mathjax/MathJax.js" + query
    assert mathjax.url(tmp_path / "results", dest) == "mathjax/MathJax.js" + query


def test_rendered_notebook_loads_the_local_mathjax_and_is_byte_identical(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    nb = new_notebook(cells=[new_markdown_cell("The margin $y_i\\langle w, x_i\\rangle$ is uniform.")])
    first = render_html(nb, Path("results/notebooks"))
    assert '<script src="../mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,local/bnrepro">' in first
    assert "libs/mathjax" not in first  # not from the CDN (require.js still is: it only serves widgets, which no claim uses)
    assert render_html(nbformat.from_dict(json.loads(json.dumps(nb))), Path("results/notebooks")) == first


def _dom(path: Path, profile: Path) -> str:
    """The page's DOM after its scripts ran (MathJax typesets within the virtual time budget)."""
    result = subprocess.run(
        [CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", f"--user-data-dir={profile}", "--virtual-time-budget=20000",
         "--dump-dom", path.resolve().as_uri()],
        capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


READER_CLAIMS = ["cao2023/uniform-margin", "ergen2022/closed-form"]  # cheap at quick scale; cao2023 regenerates Figure 1


@pytest.mark.slow
@needs_chromium
def test_index_and_a_notebook_in_headless_chromium_links_resolve_and_math_is_typeset(tmp_path):
    root = copy_checkout(tmp_path / "checkout")
    config = yaml.safe_load((root / "config/config.yaml").read_text())
    config["claims"] = {c: config["claims"][c] for c in READER_CLAIMS}
    (root / "config/config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    run = snakemake(root, "--cores", "2", "--config", "scale=quick", timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    index, notebook = root / "results/index.html", root / "results/notebooks/cao2023-uniform-margin.html"
    for path in (index, notebook):
        dom = _dom(path, tmp_path / "profile")
        assert broken_links(dom, path, check_anchors=path == index) == [], path
        typeset, sources = len(re.findall(r'class="MathJax"', dom)), len(re.findall(r'<script type="math/tex', dom))
        assert typeset == sources and (typeset > 0 or path == index), (path, typeset, sources)  # the notebook has math
        assert 'class="MathJax_Error"' not in dom and "Math Processing Error" not in dom
        assert raw_math(dom) == [], (path, raw_math(dom)[:5])
    assert '<img src="../figures/cao2023/uniform-margin/figure1-replica.png"' in index.read_text()
    report = snakemake(root, "--config", "scale=quick", "--report", "results/report.html")
    assert report.returncode == 0, report.stderr[-3000:]
    bundled = (root / "results/report.html").read_text()  # the page is a Summary result of the report, with its caption
    assert '"results/index.html": {"name": "index.html"' in bundled and "inside this report they do not resolve" in bundled


def test_every_paper_has_its_notes_in_docs_listing_exactly_its_registered_claims():
    registry = yaml.safe_load((ROOT / "config/config.yaml").read_text())["claims"]
    for paper in {claims.split_id(c)[0] for c in registry}:
        listed = set(re.findall(rf"`({paper}/[a-z0-9-]+)`", (ROOT / f"docs/papers/{paper}.md").read_text()))
        assert listed == {c for c in registry if c.startswith(f"{paper}/")}, paper
