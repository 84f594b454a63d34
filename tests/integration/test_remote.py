"""The command line over a Spark Connect server (``SPARK_REMOTE``), as on Databricks serverless."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from checkpoints_config import local
from streaming.pipeline.runner import run_available_now
from streaming.pipeline.tables import read_table
from tests.integration.test_pipeline import land_fixture_pages
from tests.pages import Landing
from tests.processes import cli

pytestmark = [pytest.mark.spark, pytest.mark.slow]

# Columns that differ between two runs by nature: when, and under which root.
_RUN_COLUMNS = ("_updated_at", "updated_at", "_quarantined_at", "recorded_at", "_ingested_at")


def table_rows(spark, config, key: str) -> list[tuple]:
    df = read_table(spark, config.table(key))
    df = df.drop(*[c for c in _RUN_COLUMNS if c in df.columns])
    rows = []
    for row in df.collect():
        values = row.asDict()
        if values.get("_source_file"):
            values["_source_file"] = values["_source_file"].split("/landing/", 1)[1]
        rows.append(tuple(sorted((k, repr(v)) for k, v in values.items())))
    return sorted(rows)


def test_run_over_spark_connect_matches_local_and_starts_no_jvm(spark, connect_server, tmp_path):
    here, there = local(tmp_path / "local"), local(tmp_path / "remote")
    land_fixture_pages(Landing(here.landing_path))
    shutil.copytree(here.landing_path, there.landing_path)
    # No java on PATH and no JAVA_HOME: the command can only work through the server.
    no_java = tmp_path / "bin"
    no_java.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env |= {"PATH": str(no_java), "SPARK_REMOTE": connect_server.url}
    root = str(tmp_path / "remote")

    def remote(*argv: str) -> subprocess.CompletedProcess:
        command = cli(*argv, "--root", root)
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)

    remote_run = remote("run")
    run_available_now(spark, here)

    assert remote_run.returncode == 0, remote_run.stderr
    for key in ("bronze", "silver", "quarantine", "gold", "dq_metrics"):
        assert table_rows(spark, there, key) == table_rows(spark, here, key), key
    query = remote("query", "SELECT count(*) AS n FROM omdb_releases_silver", "--format", "csv")
    assert query.returncode == 0, query.stderr
    assert query.stdout.split() == ["n", "5"]


def test_an_unreachable_spark_remote_is_one_clear_line(tmp_path):
    env = dict(os.environ) | {"SPARK_REMOTE": "sc://127.0.0.1:9"}
    command = cli("status", "--root", str(tmp_path))
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert (
        result.stderr.strip().splitlines() == [result.stderr.strip().splitlines()[0]]
        and "no Spark Connect server answers at sc://127.0.0.1:9" in result.stderr
    )


def test_a_spark_remote_without_the_server_s_token_is_refused_in_one_line(connect_server, tmp_path):
    bare = connect_server.url.split("/;")[0]  # sc://localhost:<port>, no token
    env = {k: v for k, v in os.environ.items() if k != "SPARK_CONNECT_AUTHENTICATE_TOKEN"}
    for url in (bare, f"{bare}/;token=guess"):
        command = cli("query", "SELECT 1 AS x", "--root", str(tmp_path))
        result = subprocess.run(
            command, env=env | {"SPARK_REMOTE": url}, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "refused this client" in lines[0], result.stderr
        assert "guess" not in result.stderr  # a token is never printed
