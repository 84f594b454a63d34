"""The MERGE statements' text: a small batch names its titles, in a form Delta prunes on."""

from __future__ import annotations

import itertools

from streaming.pipeline.writers import key_filter, key_ranges, merge_silver_sql


def test_key_filter_names_each_key_as_an_equality_and_quotes_it():
    assert key_filter("t.imdb_id", ["tt1", "o'k", "tt1"]) == (
        "(t.imdb_id = 'o\\'k' OR t.imdb_id = 'tt1')"
    )


def test_key_filter_of_no_key_matches_nothing():
    assert key_filter("imdb_id", []) == "false"


def test_past_the_limit_neighbouring_keys_are_one_range_cut_at_the_widest_gaps():
    keys = ["tt0000100", "tt0000001", "tt0000002", "tt0000005", "tt0000101"]
    assert key_ranges(keys, at_most=2) == [("tt0000001", "tt0000005"), ("tt0000100", "tt0000101")]
    assert key_filter("c", keys[:1]) == "(c = 'tt0000100')"
    many = [f"tt{n:07d}" for n in range(0, 4000, 100)]  # 40 keys
    ranges = key_ranges(many)
    assert len(ranges) == 16
    # Every key lies in a range, and the ranges follow each other without overlapping.
    assert all(any(a <= k <= b for a, b in ranges) for k in many)
    assert all(b < c for (_, b), (c, _) in itertools.pairwise(ranges))


def test_gaps_are_measured_in_string_order_across_id_lengths():
    # tt10000000 sorts between tt0000001 and tt9999999 as Delta's string bounds do.
    assert key_ranges(["tt9999999", "tt10000000", "tt0000001"], at_most=2) == [
        ("tt0000001", "tt10000000"),
        ("tt9999999", "tt9999999"),
    ]


def test_silver_merge_narrows_the_target_only_when_given_the_keys():
    on = "ON t.imdb_id = s.imdb_id"
    assert f"{on}\n" in merge_silver_sql("silver", "src")
    assert f"{on} AND (t.imdb_id = 'tt1')\n" in merge_silver_sql("silver", "src", ["tt1"])
