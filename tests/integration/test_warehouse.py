"""`query --warehouse` against a local server standing in for the statement execution API."""

from __future__ import annotations

import json

import pytest

from streaming.cli import main

MANIFEST = {
    "format": "JSON_ARRAY",
    "schema": {
        "column_count": 3,
        "columns": [
            {"name": "release_year", "type_name": "INT", "position": 0},
            {"name": "media_type", "type_name": "STRING", "position": 1},
            {"name": "total_releases", "type_name": "LONG", "position": 2},
        ],
    },
    "total_chunk_count": 2,
}


@pytest.fixture
def sdk_env(httpserver, monkeypatch):
    monkeypatch.setenv("DATABRICKS_HOST", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-test-token")
    for name in ("DATABRICKS_CONFIG_PROFILE", "DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    # The SDK asks the host for its metadata first; a plain 404 says there is none.
    httpserver.expect_request("/.well-known/databricks-config").respond_with_data("", status=404)
    return httpserver


def test_query_on_a_warehouse_sends_the_statement_and_prints_the_rows(sdk_env, capsys):
    server = sdk_env
    server.expect_request("/api/2.0/sql/statements", method="POST").respond_with_json(
        {"statement_id": "st-1", "status": {"state": "PENDING"}}
    )
    server.expect_request("/api/2.0/sql/statements/st-1", method="GET").respond_with_json(
        {
            "statement_id": "st-1",
            "status": {"state": "SUCCEEDED"},
            "manifest": MANIFEST,
            "result": {
                "chunk_index": 0,
                "data_array": [["1977", "movie", "3"], ["1999", "series", None]],
                "next_chunk_index": 1,
            },
        }
    )
    server.expect_request("/api/2.0/sql/statements/st-1/result/chunks/1").respond_with_json(
        {"chunk_index": 1, "data_array": [["2005", "game", "12"]]}
    )
    sql = "SELECT release_year, media_type, total_releases FROM omdb_releases_gold"

    code = main(
        [
            "query",
            sql,
            "--warehouse",
            "wh-42",
            "--catalog",
            "main",
            "--schema",
            "omdb",
            "--format",
            "json",
        ]
    )

    assert code == 0
    assert json.loads(capsys.readouterr().out) == [
        {"release_year": 1977, "media_type": "movie", "total_releases": 3},
        {"release_year": 1999, "media_type": "series", "total_releases": None},
        {"release_year": 2005, "media_type": "game", "total_releases": 12},
    ]
    (post,) = [r for r, _ in server.log if r.method == "POST"]
    body = json.loads(post.data)
    assert body["statement"] == sql and body["warehouse_id"] == "wh-42"
    assert (body["catalog"], body["schema"]) == ("main", "omdb")
    assert (body["format"], body["disposition"]) == ("JSON_ARRAY", "INLINE")
    assert post.headers["Authorization"] == "Bearer dapi-test-token"


def test_a_failed_statement_is_one_clear_line(sdk_env, capsys):
    sdk_env.expect_request("/api/2.0/sql/statements", method="POST").respond_with_json(
        {
            "statement_id": "st-2",
            "status": {
                "state": "FAILED",
                "error": {"error_code": "BAD_REQUEST", "message": "[TABLE_OR_VIEW_NOT_FOUND] nope"},
            },
        }
    )
    assert main(["query", "SELECT nope FROM omdb_releases_gold", "--warehouse", "wh-42"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "error: query failed on the warehouse: [TABLE_OR_VIEW_NOT_FOUND] nope"


@pytest.mark.parametrize(
    "extra",
    [("--root", "somewhere"), ("--engine", "datafusion"), ("--landing-volume", "raw")],
    ids=["root", "engine", "volume"],
)
def test_a_local_option_beside_warehouse_is_refused_not_ignored(extra, capsys):
    assert main(["query", "SELECT 1", "--warehouse", "wh-42", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: --warehouse runs on Databricks and takes no {extra[0]}")
