"""Gold's dashboard, defined once: the Lakeview JSON that the bundle deploys is the one
the definitions make, and the datasets' SQL answers what the charts draw."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from streaming.read.dashboard import (
    DATASETS,
    GOLD_TABLE,
    WIDGETS,
    dataset_sql,
    lakeview,
    page_spec,
    series,
)
from streaming.read.delta_rs_tables import select

RESOURCES = Path(__file__).parents[2] / "resources"
ROWS = [
    (1999, "movie", 3),
    (1999, "series", 1),
    (2001, "movie", 2),
    (2003, "game", 1),
    (None, "movie", 4),  # a title OMDb gives no year: counted, not charted
]


def test_the_deployed_lakeview_dashboard_is_the_one_the_definitions_make():
    deployed = json.loads((RESOURCES / "omdb_gold.lvdash.json").read_text(encoding="utf-8"))
    assert deployed == lakeview(), (
        "resources/omdb_gold.lvdash.json drifted: python -m streaming.read.dashboard > "
        "resources/omdb_gold.lvdash.json"
    )


def test_every_widget_reads_a_defined_dataset_and_the_page_gets_each():
    names = {d.name for d in DATASETS}
    assert all(w.dataset in names for w in WIDGETS)
    assert [w["name"] for w in page_spec()["widgets"]] == [w.name for w in WIDGETS]


def test_the_datasets_sql_answers_what_the_charts_draw(tmp_path):
    gold = tmp_path / GOLD_TABLE
    columns = list(zip(*ROWS, strict=True))
    table = pa.table(
        {
            "release_year": pa.array(columns[0], pa.int32()),
            "media_type": pa.array(columns[1]),
            "total_releases": pa.array(columns[2], pa.int64()),
        }
    )
    write_deltalake(str(gold), table)

    def answer(name: str) -> list[tuple]:
        dataset = next(d for d in DATASETS if d.name == name)
        return select(DeltaTable(str(gold)), dataset_sql(dataset), name=GOLD_TABLE)

    assert answer("titles") == [(sum(r[2] for r in ROWS),)]
    releases = answer("releases")
    assert sorted(releases) == sorted(r for r in ROWS if r[0] is not None)
    years, counts = series(releases)
    assert years == [1999, 2000, 2001, 2002, 2003]  # gaps drawn as zero
    assert counts == {"movie": [3, 0, 2, 0, 0], "series": [1, 0, 0, 0, 0], "game": [0, 0, 0, 0, 1]}
    assert series(ROWS) == (years, counts)  # a year-less row is left out, as the SQL does
