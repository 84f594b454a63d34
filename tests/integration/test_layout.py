"""The tables' layout: a small batch reads and merges only the silver files that can hold
its titles; the merged tables have deletion vectors; the append-only tables log no
per-column statistics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from deltalake import DeltaTable

from streaming.pipeline.runner import run_available_now
from streaming.pipeline.tables import read_table
from streaming.pipeline.writers import batch_keys, key_filter
from tests.pages import item

pytestmark = pytest.mark.spark


def land_range(landing, first: int, count: int, minutes: float, kind: str = "movie") -> list[str]:
    """One page of ``count`` titles with neighbouring ids from ``first``; their ids."""
    ids = [f"tt{n:07d}" for n in range(first, first + count)]
    landing.page(
        [item(i, f"Title {i}", "2001", kind) for i in ids], term=f"range {first}", minutes=minutes
    )
    return ids


def logged_stats(table_path: str) -> list[dict]:
    """The statistics of every file added in the table's commits, read from its log."""
    stats = []
    for commit in sorted(Path(table_path, "_delta_log").glob("*.json")):
        for line in commit.read_text().splitlines():
            add = json.loads(line).get("add")
            if add:
                stats.append(json.loads(add["stats"]))
    return stats


def test_silver_is_clustered_by_title_and_the_appended_tables_log_only_row_counts(
    spark, config, landing
):
    land_range(landing, 100, 3, 0)
    landing.raw("{not json")  # a quarantined page, so that every table gets a file
    run_available_now(spark, config)

    detail = spark.sql(f"DESCRIBE DETAIL {config.table('silver').sql_name}").first()
    assert list(detail["clusteringColumns"]) == ["imdb_id"]
    # The merged tables are ready for Databricks' row-level concurrency (a MERGE beside
    # predictive optimization's OPTIMIZE): deletion vectors, no partition.
    for key in ("silver", "gold"):
        detail = spark.sql(f"DESCRIBE DETAIL {config.table(key).sql_name}").first()
        assert "deletionVectors" in detail["tableFeatures"], key
        assert list(detail["partitionColumns"]) == [], key
    for key in ("bronze", "quarantine", "dq_metrics"):
        stats = logged_stats(config.table(key).path)
        assert stats and all(set(s) == {"numRecords"} for s in stats), (key, stats)
        # The live files' row counts still add up to the table's rows.
        live = DeltaTable(config.table(key).path).get_add_actions(flatten=True)
        assert sum(live.column("num_records").to_pylist()) == (
            read_table(spark, config.table(key)).count()
        )
    # Silver keeps its bounds: they are what lets a MERGE skip files.
    assert all("minValues" in s for s in logged_stats(config.table("silver").path))


def test_a_small_batch_never_opens_a_silver_file_that_cannot_hold_its_titles(
    spark, config, landing
):
    # Three runs, each inserting a narrow range of ids: silver's files do not overlap.
    for n, first in enumerate((1_000_000, 2_000_000, 3_000_000)):
        land_range(landing, first, 10, n)
        run_available_now(spark, config)
    silver = config.table("silver")
    files = set(read_table(spark, silver).inputFiles())
    middle = set(read_table(spark, silver).where(key_filter("imdb_id", ["tt2000004"])).inputFiles())
    assert middle and len(middle) < len(files)

    # Take every file that cannot hold the next page's titles off the disk: a batch that
    # opened one would fail.
    for uri in files - middle:
        Path(uri.removeprefix("file:")).unlink()
    updated = land_range(landing, 2_000_004, 3, 60, kind="series")  # newer observations
    run_available_now(spark, config)

    rows = (
        read_table(spark, silver)
        .where(key_filter("imdb_id", updated))
        .select("imdb_id", "media_type")
        .collect()
    )
    assert sorted((r["imdb_id"], r["media_type"]) for r in rows) == [(i, "series") for i in updated]


def test_batch_keys_are_the_distinct_ids_or_none_past_the_limit(spark):
    titles_df = spark.createDataFrame([("tt2",), ("tt1",), ("tt2",)], "imdb_id string")
    assert batch_keys(titles_df, at_most=2) == ["tt1", "tt2"]
    assert batch_keys(titles_df, at_most=1) is None
    assert batch_keys(titles_df.limit(0)) == []
