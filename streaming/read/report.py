"""The two charts of gold, as PNG files and one self-contained HTML page.

1. Releases per year, a stacked bar per year split by media type.
2. Releases per media type over the years, a line per type.

Series are counted in their start year (gold's ``release_year``). Titles, labels, colours
and patterns are the dashboard's (``streaming.read.dashboard``), as on the live page.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# The Figure API, not pyplot: files only, no display and no global figure state.
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from streaming.read.dashboard import COLORS, DASHES, NO_DATA, PATTERNS, series, widget

LINE_STYLES = {"solid": "-", "dash": "--", "dot": ":", "dashdot": "-."}
SIZE_INCHES = (12, 6)
DPI = 100
# Fixed margins fit the titles, labels and four-digit years at this size; matplotlib's
# tight layout would draw each figure once more to measure them.
MARGINS = {"left": 0.07, "right": 0.98, "bottom": 0.1, "top": 0.92}


@dataclass(frozen=True)
class ReportFiles:
    stacked_bars_png: Path
    lines_png: Path
    html: Path


def _stacked_bars(years: list[int], counts: dict[str, list[int]], path: Path) -> None:
    fig = Figure(figsize=SIZE_INCHES, dpi=DPI)
    ax = fig.subplots()
    bottom = [0] * len(years)
    for media_type, values in counts.items():
        ax.bar(
            years,
            values,
            bottom=bottom,
            label=media_type,
            color=COLORS.get(media_type),
            hatch=PATTERNS.get(media_type) or None,
            edgecolor="white",
            width=0.8,
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    _finish(ax, "releases_by_year")
    fig.savefig(path, dpi=DPI)


def _lines(years: list[int], counts: dict[str, list[int]], path: Path) -> None:
    fig = Figure(figsize=SIZE_INCHES, dpi=DPI)
    ax = fig.subplots()
    for media_type, values in counts.items():
        ax.plot(
            years,
            values,
            marker="o",
            markersize=3,
            label=media_type,
            color=COLORS.get(media_type),
            linestyle=LINE_STYLES[DASHES.get(media_type, "solid")],
        )
    _finish(ax, "release_trend")
    fig.savefig(path, dpi=DPI)


def _finish(ax, name: str) -> None:
    shown = widget(name)
    assert shown.x and shown.y and shown.color
    ax.set_title(shown.title, fontsize=14)
    ax.set_xlabel(shown.x.display_name)
    ax.set_ylabel(shown.y.display_name)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=20))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(title=shown.color.display_name, loc="upper left")
    else:
        ax.text(0.5, 0.5, NO_DATA, ha="center", va="center", transform=ax.transAxes)
    ax.figure.subplots_adjust(**MARGINS)


def render_report(rows: Sequence[tuple[int, str, int]], out_dir: str | Path) -> ReportFiles:
    """Render both charts of (release_year, media_type, total_releases) rows into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    years, counts = series(rows)
    files = ReportFiles(
        out / "releases_by_year.png", out / "releases_trend.png", out / "report.html"
    )
    _stacked_bars(years, counts, files.stacked_bars_png)
    _lines(years, counts, files.lines_png)
    files.html.write_text(_html(years, counts, files), encoding="utf-8")
    return files


def _html(years: list[int], counts: dict[str, list[int]], files: ReportFiles) -> str:
    def image(path: Path, alt: str) -> str:
        data = base64.b64encode(path.read_bytes()).decode()
        return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'

    bars, trend = widget("releases_by_year"), widget("release_trend")
    data = {"years": years, "series": counts}
    header = "".join(f"<th>{html.escape(t)}</th>" for t in counts)
    body = "".join(
        f"<tr><td>{year}</td>"
        + "".join(f"<td>{values[i]}</td>" for values in counts.values())
        + f"<td>{sum(values[i] for values in counts.values())}</td></tr>"
        for i, year in enumerate(years)
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OMDb releases</title>
<style>body{{font-family:sans-serif;margin:2em}}img{{max-width:100%}}
table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}</style>
</head><body>
<h1>OMDb releases (gold)</h1>
<h2>{html.escape(bars.title)}</h2>
{image(files.stacked_bars_png, "Stacked bars: " + bars.title)}
<h2>{html.escape(trend.title)}</h2>
{image(files.lines_png, "Lines: " + trend.title)}
<h2>Data</h2>
<table><tr><th>year</th>{header}<th>total</th></tr>{body}</table>
<script type="application/json" id="release-data">{json.dumps(data)}</script>
</body></html>
"""
