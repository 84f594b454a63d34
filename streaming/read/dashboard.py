"""Gold's dashboard, defined once: the Lakeview dashboard on Databricks, ``serve``'s live
page and ``report``'s charts are drawn from these datasets and widgets, so they cannot
drift apart.

A dataset is SQL over gold (named as the pipeline names it); a widget is a counter, or a
chart of a dataset with its x, y and colour encodings. ``python -m
streaming.read.dashboard`` prints the Lakeview JSON that ``resources/`` deploys.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

GOLD_TABLE = "omdb_releases_gold"  # the bundle's dashboard names it bare, in its schema
GOLD_COLUMNS = ("release_year", "media_type", "total_releases")
MEDIA_TYPE_ORDER = ("movie", "series", "episode", "game")
# Colour and, for a reader who cannot tell colours apart, a pattern (bars) and a dash (lines).
COLORS = {"movie": "#1f77b4", "series": "#ff7f0e", "episode": "#2ca02c", "game": "#9467bd"}
PATTERNS = {"movie": "", "series": "/", "episode": "x", "game": "."}
DASHES = {"movie": "solid", "series": "dash", "episode": "dot", "game": "dashdot"}
NO_DATA = "no data in gold yet"


@dataclass(frozen=True)
class Dataset:
    name: str
    display_name: str
    sql: str  # ``{gold}`` stands for the gold table's name


@dataclass(frozen=True)
class Field:
    name: str  # a column of the dataset
    display_name: str
    scale: str | None = None  # "categorical" or "quantitative"; a counter's value has none


@dataclass(frozen=True)
class Widget:
    name: str
    kind: str  # "counter", "bar" (stacked by colour) or "line" (one per colour)
    title: str
    dataset: str
    value: Field | None = None  # a counter's
    x: Field | None = None
    y: Field | None = None
    color: Field | None = None
    position: tuple[int, int, int, int] = (0, 0, 6, 6)  # x, y, width, height on a 6-wide grid


DATASETS = (
    Dataset(
        "releases",
        "Releases per year and media type",
        "SELECT release_year, media_type, total_releases\nFROM {gold}\n"
        "WHERE release_year IS NOT NULL\n",
    ),
    Dataset(
        "titles",
        "Total titles",
        "SELECT SUM(total_releases) AS total_titles FROM {gold}\n",
    ),
)


def _by_year_and_type(
    name: str, kind: str, title: str, year_scale: str, position: tuple[int, int, int, int]
) -> Widget:
    """A chart of the releases dataset: titles per release year, one series per type."""
    return Widget(
        name,
        kind,
        title,
        "releases",
        x=Field("release_year", "Release year", year_scale),
        y=Field("total_releases", "Titles released", "quantitative"),
        color=Field("media_type", "Media type", "categorical"),
        position=position,
    )


WIDGETS = (
    Widget(
        "total_titles",
        "counter",
        "Titles in gold",
        "titles",
        value=Field("total_titles", "Titles"),
        position=(0, 0, 2, 3),
    ),
    _by_year_and_type(
        "releases_by_year", "bar", "Releases per year by media type", "categorical", (2, 0, 4, 7)
    ),
    _by_year_and_type(
        "release_trend", "line", "Release trend per media type", "quantitative", (0, 7, 6, 7)
    ),
)


def widget(name: str) -> Widget:
    return next(w for w in WIDGETS if w.name == name)


def dataset_sql(dataset: Dataset, gold: str = GOLD_TABLE) -> str:
    return dataset.sql.format(gold=gold)


def series(rows: Sequence[tuple[Any, str, int]]) -> tuple[list[int], dict[str, list[int]]]:
    """Every year in range (gaps as zero) and each media type's count per year, from
    (release_year, media_type, total_releases) rows; rows without a year are left out, as
    the releases dataset leaves them out. Media types in ``MEDIA_TYPE_ORDER``, others after."""
    counts: dict[str, dict[int, int]] = defaultdict(dict)
    for year, media_type, total in rows:
        if year is not None:
            counts[media_type][int(year)] = counts[media_type].get(int(year), 0) + int(total)
    if not counts:
        return [], {}
    all_years = [y for per_type in counts.values() for y in per_type]
    years = list(range(min(all_years), max(all_years) + 1))
    order = [t for t in MEDIA_TYPE_ORDER if t in counts] + sorted(
        set(counts) - set(MEDIA_TYPE_ORDER)
    )
    return years, {t: [counts[t].get(y, 0) for y in years] for t in order}


def styles() -> dict[str, dict[str, str]]:
    """Each media type's colour, bar pattern and line dash."""
    return {t: {"color": COLORS[t], "pattern": PATTERNS[t], "dash": DASHES[t]} for t in COLORS}


# --- Lakeview (Databricks AI/BI dashboards' serialized format) ---------------------------


def _lakeview_field(field: Field, aggregate: bool) -> dict[str, str]:
    if aggregate:
        return {"name": f"sum({field.name})", "expression": f"SUM(`{field.name}`)"}
    return {"name": field.name, "expression": f"`{field.name}`"}


def _lakeview_widget(w: Widget) -> dict[str, Any]:
    if w.kind == "counter":
        assert w.value is not None
        fields = [_lakeview_field(w.value, aggregate=False)]
        spec: dict[str, Any] = {
            "version": 2,
            "widgetType": "counter",
            "encodings": {
                "value": {"fieldName": w.value.name, "displayName": w.value.display_name}
            },
        }
        disaggregated = True
    else:
        assert w.x and w.y and w.color
        fields = [
            _lakeview_field(w.x, False),
            _lakeview_field(w.color, False),
            _lakeview_field(w.y, True),
        ]
        spec = {
            "version": 3,
            "widgetType": w.kind,
            "encodings": {
                axis: {
                    "fieldName": field["name"],
                    "scale": {"type": encoded.scale},
                    "displayName": encoded.display_name,
                }
                for axis, encoded, field in (
                    ("x", w.x, fields[0]),
                    ("y", w.y, fields[2]),
                    ("color", w.color, fields[1]),
                )
            },
        }
        disaggregated = False
    spec["frame"] = {"showTitle": True, "title": w.title}
    x, y, width, height = w.position
    return {
        "widget": {
            "name": w.name,
            "queries": [
                {
                    "name": "main_query",
                    "query": {
                        "datasetName": w.dataset,
                        "fields": fields,
                        "disaggregated": disaggregated,
                    },
                }
            ],
            "spec": spec,
        },
        "position": {"x": x, "y": y, "width": width, "height": height},
    }


def lakeview(gold: str = GOLD_TABLE) -> dict[str, Any]:
    """The Lakeview dashboard (``.lvdash.json``) of these datasets and widgets."""
    return {
        "datasets": [
            {
                "name": d.name,
                "displayName": d.display_name,
                "queryLines": dataset_sql(d, gold).splitlines(keepends=True),
            }
            for d in DATASETS
        ],
        "pages": [
            {
                "name": "overview",
                "displayName": "Releases",
                "pageType": "PAGE_TYPE_CANVAS",
                "layout": [_lakeview_widget(w) for w in WIDGETS],
            }
        ],
    }


def page_spec() -> dict[str, Any]:
    """What the live page draws: the widgets, in order, and each media type's style."""
    return {
        "widgets": [
            {
                "name": w.name,
                "kind": w.kind,
                "title": w.title,
                "dataset": w.dataset,
                **{
                    axis: {"name": f.name, "label": f.display_name, "scale": f.scale}
                    for axis, f in (("value", w.value), ("x", w.x), ("y", w.y), ("color", w.color))
                    if f is not None
                },
            }
            for w in WIDGETS
        ],
        "order": list(MEDIA_TYPE_ORDER),
        "styles": styles(),
        "no_data": NO_DATA,
    }


if __name__ == "__main__":
    print(json.dumps(lakeview(), indent=2))
