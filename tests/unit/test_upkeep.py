"""What maintenance tells of each table, and when a silver batch has nothing to do."""

from __future__ import annotations

from streaming.pipeline.maintenance import Upkeep, predictive_optimization_in
from streaming.pipeline.transforms.silver import PAGE_RULE, pages_in


def test_a_table_line_says_what_was_done_and_what_it_freed():
    done = Upkeep(
        "omdb_releases_silver",
        compacted=True,
        vacuumed=True,
        bytes_before=3 * 2**20,
        bytes_after=2**20,
    )
    assert done.line() == (
        "  omdb_releases_silver: compacted, vacuumed, 1.0 MiB on disk (2.0 MiB freed)"
    )


def test_a_refused_vacuum_is_said_with_its_reason():
    line = Upkeep("omdb_releases_bronze", refused="the silver stream lags").line()
    assert line == "  omdb_releases_bronze: nothing to do; not vacuumed: the silver stream lags"


def test_predictive_optimization_is_read_from_describe_table_extended():
    # Rows as Databricks answers DESCRIBE TABLE EXTENDED: (col_name, data_type, comment).
    rows = [
        ("imdb_id", "string", None),
        ("", "", ""),
        ("# Detailed Table Information", "", ""),
        ("Type", "MANAGED", ""),
        ("Predictive Optimization", "ENABLE (inherited from METASTORE metastore_aws)", ""),
    ]
    assert predictive_optimization_in(rows)
    rows[-1] = ("Predictive Optimization", "DISABLE (inherited from CATALOG main)", "")
    assert not predictive_optimization_in(rows)
    rows[-1] = ("Predictive Optimization", "ENABLE", "")
    assert predictive_optimization_in(rows)
    assert not predictive_optimization_in(rows[:-1])  # a table outside Unity Catalog


def test_a_table_left_to_predictive_optimization_says_so_and_what_it_risks():
    line = Upkeep("omdb_releases_silver", by_databricks=True).line()
    assert line == "  omdb_releases_silver: VACUUM left to predictive optimization"
    lagging = Upkeep(
        "omdb_releases_silver", refused="the gold stream has not read it", by_databricks=True
    )
    assert lagging.line() == (
        "  omdb_releases_silver: VACUUM left to predictive optimization; at risk, since its "
        "VACUUM does not wait for a stream: the gold stream has not read it"
    )


def test_pages_in_counts_the_pages_a_batch_was_checked_over():
    assert pages_in([("imdb_id_format", 7, 1), (PAGE_RULE, 2, 1)]) == 3
    assert pages_in([("imdb_id_format", 0, 0), (PAGE_RULE, 0, 0)]) == 0
