"""Bronze's parsing of landed files, including every kind of broken file."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from streaming.pipeline.tables import BRONZE
from streaming.pipeline.transforms.bronze import with_parsed_envelope

pytestmark = pytest.mark.spark

GOOD = {
    "envelope_version": 1,
    "source": "omdb",
    "endpoint": "search",
    "request": {"s": "alien", "type": "movie", "y": None, "page": 2},
    "fetched_at": "2026-11-27T22:00:00.250Z",
    "http_status": 200,
    "run_id": "r1",
    "response": {
        "Search": [
            {
                "Title": "Alien",
                "Year": "1979",
                "imdbID": "tt0078748",
                "Type": "movie",
                "Poster": "N/A",
                "Unknown": 1,
            }
        ],
        "totalResults": "11",
        "Response": "True",
        "Extra": {"nested": True},
    },
    "future_field": "ignored",
}


def parse(spark, *texts):
    df = spark.createDataFrame(
        [(text, f"file{i}") for i, text in enumerate(texts)], "raw string, _source_file string"
    )
    return {r._source_file: r for r in with_parsed_envelope(df).collect()}


def test_a_good_envelope_is_parsed_and_kept_byte_for_byte(spark):
    text = json.dumps(GOOD, ensure_ascii=False) + "\n"
    row = parse(spark, text)["file0"]
    assert row.raw == text
    assert row._corrupt_reason is None
    assert row.request.page == 2 and row.request.type == "movie"
    assert row.fetched_at == dt.datetime(2026, 11, 27, 22, 0, 0, 250000)
    assert row.response.Search[0].imdbID == "tt0078748"
    assert row.response.totalResults == "11"
    assert row._ingested_at is not None


def test_the_output_has_bronze_schema(spark):
    df = spark.createDataFrame([(json.dumps(GOOD), "f")], "raw string, _source_file string")
    assert with_parsed_envelope(df).schema.fieldNames() == BRONZE.fieldNames()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"envelope_version": 1, "source": "om', "malformed_json"),
        ("", "empty_file"),
        ("  \n", "empty_file"),
        ("[1, 2]", "malformed_json"),
        ('{"hello": "world"}', "not_an_envelope"),
        (json.dumps({**GOOD, "fetched_at": "yesterday"}), "not_an_envelope"),
        (json.dumps({**GOOD, "response": {"Search": "oops"}}), "malformed_json"),
        (None, "malformed_json"),
    ],
)
def test_broken_files_are_flagged_not_dropped(spark, text, reason):
    row = parse(spark, text)["file0"]
    assert row._corrupt_reason == reason
    assert row.raw == text


def test_a_not_found_page_is_well_formed(spark):
    envelope = {**GOOD, "response": {"Response": "False", "Error": "Movie not found!"}}
    row = parse(spark, json.dumps(envelope))["file0"]
    assert row._corrupt_reason is None
    assert row.response.Search is None and row.response.Error == "Movie not found!"
