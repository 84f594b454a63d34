"""Silver's transforms, each on inline rows with a null or garbage case."""

from __future__ import annotations

import datetime as dt

import pytest
from chispa import assert_df_equality

from streaming.pipeline.transforms import silver

pytestmark = pytest.mark.spark

T0 = dt.datetime(2026, 11, 27, 22, 0)
T1 = dt.datetime(2026, 11, 27, 23, 0)


def one_column(spark, name, values, dtype="string"):
    return spark.createDataFrame([(v,) for v in values], f"{name} {dtype}")


def test_with_movie_title_trims_and_nulls_empty(spark):
    df = one_column(spark, "Title", ["  Alien ", "", "   ", None])
    expected = spark.createDataFrame(
        [("  Alien ", "Alien"), ("", None), ("   ", None), (None, None)],
        "Title string, movie_title string",
    )
    assert_df_equality(silver.with_movie_title(df), expected, ignore_nullable=True)


def test_with_imdb_id_keeps_the_id_as_given(spark):
    df = one_column(spark, "imdbID", ["tt0076759", " tt1 ", None])
    actual = silver.with_imdb_id(df).select("imdb_id")
    assert_df_equality(actual, one_column(spark, "imdb_id", ["tt0076759", " tt1 ", None]))


def test_with_media_type_lowercases_and_trims(spark):
    df = one_column(spark, "Type", [" Movie", "SERIES ", "game", None, "podcast"])
    actual = silver.with_media_type(df).select("media_type")
    expected = one_column(spark, "media_type", ["movie", "series", "game", None, "podcast"])
    assert_df_equality(actual, expected)


@pytest.mark.parametrize(
    ("year", "release_year", "end_year"),
    [
        ("2005", 2005, None),
        ("2005–2010", 2005, 2010),
        ("1999–", 1999, None),
        ("2019-2020", 2019, 2020),
        (" 2001 – 2003", 2001, 2003),
        ("N/A", None, None),
        ("", None, None),
        (None, None, None),
        ("99", None, None),
        ("abc2005", None, None),
    ],
)
def test_with_release_years(spark, year, release_year, end_year):
    df = one_column(spark, "Year", [year])
    row = silver.with_release_years(df).first()
    assert (row.release_year, row.end_year) == (release_year, end_year)


def test_with_poster_url_nulls_na_and_empty(spark):
    df = one_column(spark, "Poster", ["https://x/p.jpg", "N/A", "", None])
    actual = silver.with_poster_url(df).select("poster_url")
    assert_df_equality(
        actual, one_column(spark, "poster_url", ["https://x/p.jpg", None, None, None])
    )


def results(spark, rows):
    return spark.createDataFrame(
        rows,
        "_source_file string, fetched_at timestamp, result_index int, "
        "Title string, Year string, imdbID string, Type string, Poster string",
    )


def checked_results(spark, rows):
    return silver.clean_search_results(results(spark, rows))


def test_with_failed_rules_names_every_failed_rule(spark):
    df = results(
        spark,
        [
            ("f", T0, 0, "Alien", "1979", "tt0078748", "movie", "N/A"),
            ("f", T0, 1, "", "n/a", "x1", "podcast", None),
            ("f", T0, 2, None, None, None, None, None),
        ],
    )
    all_rules = [rule.name for rule in silver.RULES]
    expected = spark.createDataFrame(
        [(0, []), (1, all_rules), (2, all_rules)], "result_index int, failed_rules array<string>"
    )
    actual = silver.clean_search_results(df).select("result_index", "failed_rules")
    assert_df_equality(actual, expected, ignore_nullable=True, ignore_row_order=True)


def test_filter_valid_and_invalid_records_split_the_rows(spark):
    df = checked_results(
        spark,
        [
            ("f", T0, 0, "Alien", "1979", "tt0078748", "movie", "N/A"),
            ("f", T0, 1, "Aliens", "1986", "bad", "movie", "N/A"),
            ("f", T0, 2, None, None, None, None, None),
        ],
    )

    def indexes(kept):
        return kept.select("result_index")

    assert_df_equality(
        indexes(silver.filter_valid_records(df)),
        one_column(spark, "result_index", [0], "int"),
        ignore_nullable=True,
    )
    assert_df_equality(
        indexes(silver.filter_invalid_records(df)),
        one_column(spark, "result_index", [1, 2], "int"),
        ignore_nullable=True,
        ignore_row_order=True,
    )


def test_explode_search_results_skips_not_found_and_corrupt_pages(spark):
    bronze = spark.createDataFrame(
        [
            ("ok", T0, None, ([("A", "2001", "tt0000001", "movie", "N/A")], "1", "True", None)),
            ("nf", T0, None, (None, None, "False", "Movie not found!")),
            ("bad", None, "malformed_json", None),
            ("empty", T0, None, ([], "0", "True", None)),
        ],
        "_source_file string, fetched_at timestamp, _corrupt_reason string, response struct<"
        "Search: array<struct<Title: string, Year: string, imdbID: string, Type: string, "
        "Poster: string>>, totalResults: string, Response: string, Error: string>",
    )
    expected = results(spark, [("ok", T0, 0, "A", "2001", "tt0000001", "movie", "N/A")])
    assert_df_equality(silver.explode_search_results(bronze), expected, ignore_nullable=True)


def test_deduplicate_titles_keeps_the_newest_and_the_first_seen(spark):
    df = silver.clean_search_results(
        results(
            spark,
            [
                ("a", T0, 0, "Old title", "1979", "tt0078748", "movie", "N/A"),
                ("b", T1, 3, "New title", "1980", "tt0078748", "movie", "N/A"),
                ("c", T1, 0, "Other", "2000", "tt0000002", "series", None),
            ],
        )
    )
    columns = ["imdb_id", "movie_title", "release_year", "_source_file"]
    expected = spark.createDataFrame(
        [("tt0078748", "New title", 1980, "b", T0, T1), ("tt0000002", "Other", 2000, "c", T1, T1)],
        "imdb_id string, movie_title string, release_year int, _source_file string, "
        "first_seen_at timestamp, last_seen_at timestamp",
    )
    actual = silver.deduplicate_titles(df).select(*columns, "first_seen_at", "last_seen_at")
    assert_df_equality(actual, expected, ignore_nullable=True, ignore_row_order=True)


def test_deduplicate_titles_keeps_a_title_seen_without_fetch_time(spark):
    # A null fetched_at sorts last: any timed observation wins over it.
    df = silver.clean_search_results(
        results(
            spark,
            [
                ("a", None, 0, "Untimed", "1979", "tt0078748", "movie", None),
                ("b", T0, 0, "Timed", "1979", "tt0078748", "movie", None),
                ("c", None, 0, "Only untimed", "1990", "tt0000003", "game", None),
            ],
        )
    )
    expected = spark.createDataFrame(
        [("tt0078748", "Timed"), ("tt0000003", "Only untimed")],
        "imdb_id string, movie_title string",
    )
    actual = silver.deduplicate_titles(df).select("imdb_id", "movie_title")
    assert_df_equality(actual, expected, ignore_nullable=True, ignore_row_order=True)


def test_deduplicate_titles_breaks_ties_by_source_file(spark):
    df = silver.clean_search_results(
        results(
            spark,
            [
                ("a", T0, 0, "From a", "1979", "tt0078748", "movie", None),
                ("b", T0, 0, "From b", "1979", "tt0078748", "movie", None),
            ],
        )
    )
    assert silver.deduplicate_titles(df).first().movie_title == "From b"


def test_to_quarantine_records_keeps_the_record_and_rules(spark):
    df = silver.clean_search_results(
        results(spark, [("f", T0, 4, "", "2001", "tt0000001", "movie", None)])
    )
    row = silver.to_quarantine_records(df).first()
    assert row.failed_rules == ["movie_title_not_empty"]
    assert (row._source_file, row.result_index) == ("f", 4)
    assert '"imdbID":"tt0000001"' in row.record


def test_to_quarantined_pages_takes_only_corrupt_pages(spark):
    bronze = spark.createDataFrame(
        [
            ("{bad", "f1", "malformed_json", None),
            ("{}", "f2", None, T0),
            (None, "f3", "empty_file", None),
        ],
        "raw string, _source_file string, _corrupt_reason string, fetched_at timestamp",
    )
    rows = sorted(silver.to_quarantined_pages(bronze).collect(), key=lambda r: r._source_file)
    assert [(r._source_file, r.failed_rules, r.record) for r in rows] == [
        ("f1", ["page_well_formed:malformed_json"], "{bad"),
        ("f3", ["page_well_formed:empty_file"], None),
    ]


def test_rule_counts_on_an_empty_batch_are_zero(spark):
    checked = checked_results(spark, [])
    bronze = spark.createDataFrame([], "_corrupt_reason string")
    counts = silver.rule_counts(checked, bronze)
    assert counts == [(rule.name, 0, 0) for rule in silver.RULES] + [(silver.PAGE_RULE, 0, 0)]


def test_rule_counts_count_each_rule_and_corrupt_pages_in_one_row(spark):
    checked = checked_results(
        spark,
        [
            ("f", T0, 0, "Alien", "1979", "tt0078748", "movie", "N/A"),
            ("f", T0, 1, "", "1979", "bad-id", "movie", "N/A"),
            ("f", T0, 2, "Heat", "", "tt0113277", "opera", "N/A"),
        ],
    )
    bronze = spark.createDataFrame(
        [(None,), ("malformed_json",), (None,)], "_corrupt_reason string"
    )

    counts = dict(
        (rule, (passed, failed)) for rule, passed, failed in silver.rule_counts(checked, bronze)
    )

    assert counts == {
        "movie_title_not_empty": (2, 1),
        "imdb_id_format": (2, 1),
        "media_type_allowed": (2, 1),
        "release_year_present": (2, 1),
        silver.PAGE_RULE: (2, 1),
    }


def test_filter_changing_titles_keeps_only_what_would_change_silver(spark):
    t = [dt.datetime(2026, 1, day) for day in range(1, 6)]
    columns = "imdb_id string, first_seen_at timestamp, last_seen_at timestamp, movie_title string"
    silver_df = spark.createDataFrame(
        [
            ("tt0000001", t[1], t[3], "A"),
            ("tt0000002", t[1], t[3], "B"),
            ("tt0000003", t[1], t[3], "C"),
        ],
        columns,
    )
    titles = spark.createDataFrame(
        [
            ("tt0000001", t[1], t[3], "A"),  # the same observation again (a replay): left out
            ("tt0000002", t[2], t[4], "B2"),  # newer: kept
            ("tt0000003", t[0], t[2], "C0"),  # older, but seen earlier: kept for first_seen_at
            ("tt0000004", t[0], t[0], "D"),  # new title: kept
            ("tt0000005", None, None, None),  # unknown to silver, garbage or not: kept
        ],
        columns,
    )
    expected = spark.createDataFrame(
        [
            ("tt0000002", t[2], t[4], "B2"),
            ("tt0000003", t[0], t[2], "C0"),
            ("tt0000004", t[0], t[0], "D"),
            ("tt0000005", None, None, None),
        ],
        columns,
    )
    assert_df_equality(
        silver.filter_changing_titles(titles, silver_df),
        expected,
        ignore_row_order=True,
        ignore_nullable=True,
    )
