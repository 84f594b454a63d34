"""The two charts of gold, as PNG files and one self-contained HTML page.

1. Releases per year, a stacked bar per year split by media type.
2. Releases per media type over the years, a line per type.

Series are counted in their start year (gold's ``release_year``).
"""

from __future__ import annotations

import base64
import html
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# The Figure API, not pyplot: files only, no display and no global figure state.
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

GOLD_COLUMNS = ("release_year", "media_type", "total_releases")  # what the charts read
MEDIA_TYPE_ORDER = ("movie", "series", "episode", "game")
COLORS = {"movie": "#1f77b4", "series": "#ff7f0e", "episode": "#2ca02c", "game": "#9467bd"}
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


def _series(rows: Sequence[tuple[int, str, int]]) -> tuple[list[int], dict[str, list[int]]]:
    """Years (every year in range, gaps as zero) and each media type's count per year."""
    counts: dict[str, dict[int, int]] = defaultdict(dict)
    for year, media_type, total in rows:
        counts[media_type][int(year)] = int(total)
    if not counts:
        return [], {}
    all_years = [y for per_type in counts.values() for y in per_type]
    years = list(range(min(all_years), max(all_years) + 1))
    order = [t for t in MEDIA_TYPE_ORDER if t in counts] + sorted(
        set(counts) - set(MEDIA_TYPE_ORDER)
    )
    return years, {t: [counts[t].get(y, 0) for y in years] for t in order}


def _stacked_bars(years: list[int], series: dict[str, list[int]], path: Path) -> None:
    fig = Figure(figsize=SIZE_INCHES, dpi=DPI)
    ax = fig.subplots()
    bottom = [0] * len(years)
    for media_type, values in series.items():
        ax.bar(
            years, values, bottom=bottom, label=media_type, color=COLORS.get(media_type), width=0.8
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    _finish(ax, "Releases per year by media type", "Release year", "Titles released")
    fig.savefig(path, dpi=DPI)


def _lines(years: list[int], series: dict[str, list[int]], path: Path) -> None:
    fig = Figure(figsize=SIZE_INCHES, dpi=DPI)
    ax = fig.subplots()
    for media_type, values in series.items():
        ax.plot(
            years, values, marker="o", markersize=3, label=media_type, color=COLORS.get(media_type)
        )
    _finish(ax, "Release trend per media type", "Release year", "Titles released")
    fig.savefig(path, dpi=DPI)


def _finish(ax, title: str, xlabel: str, ylabel: str) -> None:
    ax.set_title(title, fontsize=14)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=20))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(title="media type", loc="upper left")
    else:
        ax.text(0.5, 0.5, "no data in gold yet", ha="center", va="center", transform=ax.transAxes)
    ax.figure.subplots_adjust(**MARGINS)


def render_report(rows: Sequence[tuple[int, str, int]], out_dir: str | Path) -> ReportFiles:
    """Render both charts of (release_year, media_type, total_releases) rows into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    years, series = _series(rows)
    files = ReportFiles(
        out / "releases_by_year.png", out / "releases_trend.png", out / "report.html"
    )
    _stacked_bars(years, series, files.stacked_bars_png)
    _lines(years, series, files.lines_png)
    files.html.write_text(_html(years, series, files), encoding="utf-8")
    return files


def _html(years: list[int], series: dict[str, list[int]], files: ReportFiles) -> str:
    def image(path: Path, alt: str) -> str:
        data = base64.b64encode(path.read_bytes()).decode()
        return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'

    data = {"years": years, "series": series}
    header = "".join(f"<th>{html.escape(t)}</th>" for t in series)
    body = "".join(
        f"<tr><td>{year}</td>"
        + "".join(f"<td>{values[i]}</td>" for values in series.values())
        + f"<td>{sum(values[i] for values in series.values())}</td></tr>"
        for i, year in enumerate(years)
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OMDb releases</title>
<style>body{{font-family:sans-serif;margin:2em}}img{{max-width:100%}}
table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}</style>
</head><body>
<h1>OMDb releases (gold)</h1>
<h2>Releases per year by media type</h2>
{image(files.stacked_bars_png, "Stacked bars of releases per year by media type")}
<h2>Release trend per media type</h2>
{image(files.lines_png, "Lines of releases per media type over the years")}
<h2>Data</h2>
<table><tr><th>year</th>{header}<th>total</th></tr>{body}</table>
<script type="application/json" id="release-data">{json.dumps(data)}</script>
</body></html>
"""
