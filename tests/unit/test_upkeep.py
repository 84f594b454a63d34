"""What maintenance tells of each table, and when a silver batch has nothing to do."""

from __future__ import annotations

from streaming.pipeline.maintenance import Upkeep
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


def test_pages_in_counts_the_pages_a_batch_was_checked_over():
    assert pages_in([("imdb_id_format", 7, 1), (PAGE_RULE, 2, 1)]) == 3
    assert pages_in([("imdb_id_format", 0, 0), (PAGE_RULE, 0, 0)]) == 0
