"""The house style and the one way figures are saved.

Importing this module applies the style (seaborn's "ticks" theme plus
house.mplstyle). `save` writes PNG and PDF (SVG on request) with dates and
software versions stripped, so the same figure gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import seaborn as sns

STYLE = Path(__file__).with_name("house.mplstyle")
FORMATS = ("png", "pdf")
_NO_METADATA = {
    "png": {"Software": None},
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
    "svg": {"Creator": None, "Date": None},
}


def use_style() -> None:
    sns.set_theme(context="notebook", style="ticks", palette="colorblind")
    plt.style.use(STYLE)


def save(fig, name: str, *, out_dir: str | Path, verdict=None, formats=FORMATS, measured_time=False) -> list[Path]:
    """Save `fig` as out_dir/name.<fmt> for each format; register the PNG with `verdict`.

    The figure stays open so that the notebook still shows it inline.
    `measured_time=True` marks a figure drawn from measured wall times, which
    cannot be byte-identical between runs: it is saved as name.run.<fmt>
    (like the run record, outside the determinism guarantee) and closed, so
    that the rendered notebook stays deterministic; show its path instead.
    """
    if measured_time:
        name = f"{name}.run"
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        if fmt not in _NO_METADATA:
            raise ValueError(f"unsupported figure format {fmt!r}; use some of {sorted(_NO_METADATA)}")
        path = out_dir / f"{name}.{fmt}"
        fig.savefig(path, format=fmt, metadata=_NO_METADATA[fmt])
        paths.append(path)
    if verdict is not None:
        verdict.figures.append(str(paths[0]))
    if measured_time:
        plt.close(fig)
    return paths


use_style()
