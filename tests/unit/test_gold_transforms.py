"""Gold's change-feed arithmetic."""

from __future__ import annotations

import pytest
from chispa import assert_df_equality

from streaming.pipeline.transforms import gold

pytestmark = pytest.mark.spark


def changes(spark, rows):
    return spark.createDataFrame(
        [(*row, 1) if len(row) == 3 else row for row in rows],
        "release_year int, media_type string, _change_type string, _commit_version long",
    )


def test_with_count_delta_signs_each_change_type(spark):
    df = changes(
        spark,
        [
            (2000, "movie", "insert"),
            (2000, "movie", "update_preimage"),
            (2001, "movie", "update_postimage"),
            (2002, "game", "delete"),
            (2003, "game", "garbage"),
            (2003, "game", None),
        ],
    )
    expected = spark.createDataFrame(
        [
            ("insert", 1),
            ("update_preimage", -1),
            ("update_postimage", 1),
            ("delete", -1),
            ("garbage", 0),
            (None, 0),
        ],
        "_change_type string, count_delta int",
    )
    actual = gold.with_count_delta(df).select("_change_type", "count_delta")
    assert_df_equality(actual, expected, ignore_nullable=True)


def test_aggregate_release_deltas_nets_out_and_drops_zeros_and_nulls(spark):
    df = gold.with_count_delta(
        changes(
            spark,
            [
                (2000, "movie", "insert", 3),
                (2000, "movie", "insert", 5),
                (2000, "movie", "update_preimage", 4),
                (2001, "series", "update_preimage"),
                (2001, "series", "update_postimage"),  # unchanged key: cancels out
                (None, "movie", "insert"),
                (1999, None, "insert"),
                (1990, "game", "delete"),
            ],
        )
    )
    expected = spark.createDataFrame(
        [(2000, "movie", 1, 5), (1990, "game", -1, 1)],
        "release_year int, media_type string, count_delta long, _silver_version long",
    )
    assert_df_equality(
        gold.aggregate_release_deltas(df), expected, ignore_row_order=True, ignore_nullable=True
    )


DELTAS = "release_year int, media_type string, count_delta long, _silver_version long"


def test_filter_unapplied_deltas_skips_versions_gold_has_applied(spark):
    gold_df = spark.createDataFrame(
        [(2000, "movie", 3, 7), (2001, "movie", 1, 9), (2002, "game", 2, None)],
        "release_year int, media_type string, total_releases long, _silver_version long",
    )
    deltas = spark.createDataFrame(
        [
            (2000, "movie", 1, 8),  # newer than the row's version: applied
            (2001, "movie", -1, 9),  # the row's own version again (a replay): skipped
            (2002, "game", 1, 0),  # a row written before versions were kept: applied
            (2003, "series", 2, 9),  # a new key: inserted
            (2004, "series", -1, 9),  # a key gold no longer holds (deleted by a replay)
            (None, "movie", 1, 9),  # a null key never matches a row
        ],
        DELTAS,
    )
    expected = spark.createDataFrame(
        [
            (2000, "movie", 1, 8),
            (2002, "game", 1, 0),
            (2003, "series", 2, 9),
            (None, "movie", 1, 9),
        ],
        DELTAS,
    )
    assert_df_equality(
        gold.filter_unapplied_deltas(deltas, gold_df),
        expected,
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_release_counts_groups_silver(spark):
    silver = spark.createDataFrame(
        [
            ("tt1", 2000, "movie"),
            ("tt2", 2000, "movie"),
            ("tt3", 2001, "game"),
            ("tt4", None, None),
        ],
        "imdb_id string, release_year int, media_type string",
    )
    expected = spark.createDataFrame(
        [(2000, "movie", 2), (2001, "game", 1), (None, None, 1)],
        "release_year int, media_type string, total_releases long",
    )
    assert_df_equality(
        gold.release_counts(silver), expected, ignore_row_order=True, ignore_nullable=True
    )


GOLD_ROWS = "release_year int, media_type string, total_releases long"


def test_releases_per_media_type_sums_years_most_releases_first(spark):
    gold_df = spark.createDataFrame(
        [(2000, "movie", 3), (2001, "movie", 2), (2000, "game", 5), (1999, "series", 1)],
        GOLD_ROWS,
    )
    # Row order is the answer's: most releases first, a tie by media type's name.
    expected = spark.createDataFrame(
        [("game", 5, 1), ("movie", 5, 2), ("series", 1, 1)],
        "media_type string, releases long, years long",
    )
    assert_df_equality(gold.releases_per_media_type(gold_df), expected, ignore_nullable=True)


def test_busiest_years_keeps_the_top_later_year_first_on_a_tie(spark):
    gold_df = spark.createDataFrame(
        [(2000, "movie", 3), (2000, "game", 1), (2001, "movie", 4), (2002, "movie", 1)],
        GOLD_ROWS,
    )
    expected = spark.createDataFrame([(2001, 4), (2000, 4)], "release_year int, releases long")
    assert_df_equality(gold.busiest_years(gold_df, 2), expected, ignore_nullable=True)
