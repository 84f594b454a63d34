"""The command line, in process on the shared session; errors are one line, never a traceback."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
from dataclasses import dataclass

import pytest

from checkpoints_config import local
from producers.landing import landed_files
from streaming import cli
from streaming.cli import main
from streaming.read.status import collect_status, collect_status_local
from tests.invariants import assert_invariants, ground_truth, table_versions
from tests.pages import Landing, item
from tests.processes import cli as command_line

pytestmark = pytest.mark.spark


@dataclass(frozen=True)
class Demo:
    root: str
    out: str
    err: str


@pytest.fixture(scope="module")
def demo(spark, tmp_path_factory) -> Demo:
    """One demo for the module: its output for the test of it, its root for the others."""
    root = tmp_path_factory.mktemp("demo")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(["demo", "--root", str(root)]) == 0, err.getvalue()
    return Demo(str(root), out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def demo_root(demo) -> str:
    return demo.root


def test_demo_lands_sample_pages_runs_and_prints_gold(demo):
    out, err = demo.out, demo.err
    assert "offline OMDb server" in err and "pages landed" in err
    assert "omdb-lakehouse query" in err and "report" in err
    # Progress as it goes: bronze's one batch read every landed page, none is left.
    landed = len(landed_files(local(demo.root).landing_path))
    assert f"bronze batch 0: {landed} rows, 0 files pending" in err
    per_type, top_years = out.strip().split("\n\n")
    assert per_type.splitlines()[:2] == ["releases per media type", "media_type  releases  years"]
    # The summary adds up to every valid title landed, each counted once.
    total = sum(int(line.split()[1]) for line in per_type.splitlines()[3:-1])
    assert total == sum(ground_truth(local(demo.root)).gold.values())
    assert top_years.splitlines()[0] == "the 5 busiest release years"
    assert top_years.splitlines()[-1] == "(5 rows)"


def test_query_answers_bare_table_names_as_json(demo_root, capsys):
    sql = (
        "SELECT media_type, sum(total_releases) AS n FROM omdb_releases_gold GROUP BY 1 ORDER BY 1"
    )
    assert main(["query", sql, "--format", "json", "--root", demo_root]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["media_type"] for r in rows] == ["episode", "game", "movie", "series"]

    silver_sql = "SELECT media_type, count(*) AS n FROM omdb_releases_silver GROUP BY 1 ORDER BY 1"
    assert main(["query", silver_sql, "--format", "json", "--root", demo_root]) == 0
    assert json.loads(capsys.readouterr().out) == rows


def test_query_as_csv(demo_root, capsys):
    assert main(["query", "SELECT 1 AS a, 'x' AS b", "--format", "csv", "--root", demo_root]) == 0
    assert capsys.readouterr().out.splitlines() == ["a,b", "1,x"]


def test_bad_sql_is_one_clear_line(demo_root, capsys):
    assert main(["query", "SELECT nope FROM omdb_releases_gold", "--root", demo_root]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: query failed:") and "nope" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT media_type, sum(total_releases) AS n FROM omdb_releases_gold "
        "GROUP BY media_type ORDER BY media_type",
        "SELECT release_year, total_releases, updated_at FROM omdb_releases_gold "
        "WHERE media_type = 'movie' ORDER BY release_year",
        "SELECT count(*) AS titles, min(first_seen_at) AS first FROM omdb_releases_silver",
    ],
)
def test_datafusion_engine_answers_as_spark_does(demo_root, capsys, sql):
    assert main(["query", sql, "--format", "json", "--root", demo_root]) == 0
    by_spark = json.loads(capsys.readouterr().out)
    argv = ["query", sql, "--engine", "datafusion", "--format", "json", "--root", demo_root]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out) == by_spark
    assert by_spark


def test_datafusion_engine_needs_no_java(demo_root, tmp_path):
    # No java on PATH and no JAVA_HOME: Spark cannot start, DataFusion still answers.
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"} | {"PATH": str(tmp_path)}
    sql = "SELECT sum(total_releases) AS n FROM omdb_releases_gold"

    def query(*extra: str) -> subprocess.CompletedProcess:
        argv = command_line("query", sql, "--root", demo_root)
        return subprocess.run([*argv, *extra], env=env, capture_output=True, text=True)

    fast = query("--engine", "datafusion", "--format", "csv")
    assert fast.returncode == 0, fast.stderr
    assert fast.stdout.splitlines()[0] == "n" and int(fast.stdout.splitlines()[1]) > 0

    spark = query("--engine", "spark")
    assert spark.returncode == 1 and "Java 17 is needed" in spark.stderr


def test_datafusion_bad_sql_is_one_clear_line(demo_root, capsys):
    argv = ["query", "SELECT nope FROM omdb_releases_gold", "--engine", "datafusion"]
    assert main([*argv, "--root", demo_root]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: query failed:") and "nope" in err
    assert len(err.strip().splitlines()) == 1


def test_status_reports_streams_tables_and_rules(demo_root, capsys):
    assert main(["status", "--format", "json", "--root", demo_root]) == 0
    status = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in status["streams"]] == ["bronze", "silver", "gold", "quality"]
    assert all(s["last_batch"] == 0 for s in status["streams"])
    assert status["streams"][0]["lag"] == "0 files pending"
    assert status["streams"][1]["lag"] == "0 bronze versions behind"
    tables = {t["name"]: t for t in status["tables"]}
    landed = landed_files(local(demo_root).landing_path)
    assert tables["omdb_releases_bronze"]["rows"] == len(landed) > 20
    assert tables["omdb_releases_gold"]["version"] == 1
    assert {r["rule"] for r in status["rules"]} >= {"imdb_id_format", "page_well_formed"}


def test_status_read_with_delta_rs_is_what_spark_reads(spark, demo_root):
    config = local(demo_root)
    assert collect_status_local(config) == collect_status(spark, config)


def test_status_and_report_need_no_java_on_a_local_root(demo_root, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"} | {"PATH": str(tmp_path)}
    for argv in (["status"], ["report", "--out", str(tmp_path / "report")]):
        done = subprocess.run(
            command_line(*argv, "--root", demo_root),
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "report" / "report.html").stat().st_size > 0


def test_status_says_how_far_gold_is_behind_the_newest_landed_page(demo_root, tmp_path, capsys):
    assert main(["status", "--format", "json", "--root", demo_root]) == 0
    fresh = json.loads(capsys.readouterr().out)["freshness"]
    assert fresh["caught_up"] and fresh["text"].startswith("up to date: gold holds every")
    assert fresh["gold_updated_at"] and fresh["newest_landed_at"]
    copy = tmp_path / "copy"
    shutil.copytree(demo_root, copy)
    # Quarantine and DQ metrics lagging (here: their stream never ran) leave gold fresh.
    shutil.rmtree(local(copy).quality.checkpoint_location)
    assert main(["status", "--root", str(copy)]) == 0
    assert "gold freshness: up to date" in capsys.readouterr().out
    Landing(local(copy).landing_path).page([item("tt7654321", "New", "2024")], term="new")
    assert main(["status", "--root", str(copy)]) == 0
    out = capsys.readouterr().out
    assert "gold freshness: behind: the newest file landed" in out
    assert "gold lacks it (`run` catches it up)" in out


def test_status_as_text(demo_root, capsys):
    assert main(["status", "--root", demo_root]) == 0
    out = capsys.readouterr().out
    assert "streams" in out and "omdb_releases_silver" in out and "page_well_formed" in out


def test_run_without_landing_folder_fails_cleanly_and_writes_nothing(spark, tmp_path, capsys):
    root = tmp_path / "empty"
    assert main(["run", "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: landing folder") and "Traceback" not in err
    assert not (root / "tables").exists() and not (root / "checkpoints").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--target", "dev", "--catalog", "main; drop", "--schema", "s"], "catalog"),
        (["run", "--target", "prod"], "needs --catalog and --schema"),
        (["run", "--trigger", "continuous", "--interval", "soon"], "interval"),
    ],
)
def test_bad_configuration_is_one_line_and_exit_2(tmp_path, capsys, argv, message):
    assert main([*argv, "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and message in err and len(err.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


def test_demo_again_lands_nothing_and_changes_no_table(spark, demo_root, capsys):
    config = local(demo_root)
    before = table_versions(config)

    assert main(["demo", "--root", demo_root]) == 0

    assert "0 pages landed" in capsys.readouterr().err
    assert table_versions(config) == before
    assert_invariants(config)


def test_an_unexpected_error_is_one_line_unless_debugging(tmp_path, monkeypatch, capsys):
    def broken(_args):
        raise RuntimeError("disk on fire\nwith a second line")

    monkeypatch.setitem(cli.COMMANDS, "status", broken)
    monkeypatch.delenv("OMDB_LAKEHOUSE_DEBUG", raising=False)
    assert main(["status", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        "error: RuntimeError: disk on fire (set OMDB_LAKEHOUSE_DEBUG=1 for the traceback)"
    )

    monkeypatch.setenv("OMDB_LAKEHOUSE_DEBUG", "1")
    with pytest.raises(RuntimeError, match="disk on fire"):
        main(["status", "--root", str(tmp_path)])


def test_read_only_commands_work_where_the_root_takes_no_logs(demo_root, tmp_path, capsys):
    # A root the user can only read: its logs folder cannot be made (a file holds its name).
    root = tmp_path / "read-only"
    shutil.copytree(demo_root, root, ignore=shutil.ignore_patterns("logs"))
    (root / "logs").write_text("not a folder")
    sql = "SELECT sum(total_releases) AS n FROM omdb_releases_gold"

    assert main(["query", sql, "--format", "csv", "--root", str(root)]) == 0
    assert main(["status", "--root", str(root), "--format", "json"]) == 0
    assert main(["report", "--root", str(root), "--out", str(tmp_path / "elsewhere")]) == 0

    out = capsys.readouterr().out
    assert int(out.splitlines()[1]) > 0 and '"streams"' in out
    assert (tmp_path / "elsewhere").is_dir()
