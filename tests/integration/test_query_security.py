"""Read-only means read-only on every engine, checked by each engine's own parse and
switches as well as by the shared check: a hostile statement is refused in one line, runs
no process, writes nothing and substitutes nothing, locally and over Spark Connect."""

from __future__ import annotations

import json

import pytest

from checkpoints_config import ConfigError
from streaming.cli import main
from streaming.read.datafusion_sql import read_only_sql, tables_context
from streaming.read.read_only import table_names
from streaming.read.spark_parse import check_spark_parse
from streaming.read.spark_sql import answer_sql, reader_session
from tests.pages import item

pytestmark = pytest.mark.spark

REFUSED = r"^query (is read-only|reads only|refuses)"


def hostile(marker) -> list[tuple[str, str]]:
    """(statement, what its refusal names); each would leave ``marker`` behind if it ran."""
    return [
        (
            f"SELECT TRANSFORM(a) USING 'touch {marker}' AS (out STRING) FROM VALUES ('x') AS t(a)",
            "TRANSFORM",
        ),
        (f"SELECT java_method('java.nio.file.Files', 'createFile', '{marker}')", "java_method"),
        ("SELECT reflect('java.lang.System', 'exit', 0)", "reflect"),
        ("SELECT try_reflect('java.lang.System', 'exit', 0)", "try_reflect"),
        ("SELECT * FROM text.`/etc/passwd`", "text./etc/passwd"),
        (
            f"FROM omdb_releases_gold INSERT OVERWRITE DIRECTORY '{marker}' USING csv SELECT *",
            "Insert",
        ),
        ("EXECUTE IMMEDIATE 'SELECT 1'", "Execute"),
        ("SELECT * FROM other_table", "other_table"),
    ]


@pytest.fixture(scope="module")
def gold_root(tmp_path_factory, spark):
    """A root with a pipeline run, so the tables exist."""
    from checkpoints_config import local
    from streaming.pipeline.runner import run_available_now
    from tests.pages import Landing

    config = local(tmp_path_factory.mktemp("secure") / "lakehouse")
    Landing(config.landing_path).page([item("tt0000001", "A", "2001")])
    run_available_now(spark, config)
    return config


def test_spark_s_own_parse_refuses_what_reaches_past_the_tables(spark, gold_root, tmp_path):
    # The engine's check alone (the shared checker skipped): the second wall stands by itself.
    tables = table_names(gold_root)
    for statement, named in hostile(tmp_path / "marker"):
        with pytest.raises(ConfigError, match=named):
            check_spark_parse(spark, statement, tables)
    check_spark_parse(spark, "SELECT count(*) FROM omdb_releases_gold", tables)
    assert not (tmp_path / "marker").exists()


def test_the_session_that_answers_has_substitution_and_sql_on_files_off(spark, gold_root):
    reader = reader_session(spark, gold_root)
    assert reader.sql("SELECT '${system:user.name}' AS v").first()["v"] == "${system:user.name}"
    with pytest.raises(Exception, match=r"TABLE_OR_VIEW_NOT_FOUND"):
        reader.sql("SELECT * FROM text.`/etc/passwd`").collect()
    # The pipeline's own session keeps reading its tables by path (delta.`<path>`).
    path = gold_root.table("gold").path
    assert spark.sql(f"SELECT count(*) AS n FROM delta.`{path}`").first()["n"] > 0


def test_every_hostile_statement_is_one_line_exit_2_on_both_engines(gold_root, tmp_path, capsys):
    marker = tmp_path / "marker"
    root = str(gold_root.state_path).removesuffix("/state")
    for engine in ("spark", "datafusion"):
        for statement, _ in hostile(marker):
            assert main(["query", statement, "--root", root, "--engine", engine]) == 2
            err = capsys.readouterr().err
            assert err.startswith("error: query") and len(err.splitlines()) == 1, err
    assert not marker.exists()


def test_datafusion_itself_refuses_writes_and_files(gold_root, tmp_path):
    context, available = tables_context(gold_root)
    assert "omdb_releases_gold" in available
    target = tmp_path / "p.csv"
    for statement in (
        f"COPY (SELECT 1 AS x) TO '{target}'",
        f"EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '{target}'",
        "CREATE TABLE t AS SELECT 1",
        f"CREATE EXTERNAL TABLE e STORED AS CSV LOCATION '{target}'",
        "INSERT INTO omdb_releases_gold SELECT * FROM omdb_releases_gold",
        "SET datafusion.execution.batch_size = 1",
    ):
        with pytest.raises(Exception, match="not supported"):
            read_only_sql(context, statement)
    assert not target.exists()
    assert read_only_sql(context, "SELECT count(*) AS n FROM omdb_releases_gold").to_pylist()


def test_over_either_runtime_a_hostile_statement_is_refused_before_spark_runs_it(
    any_spark, gold_root, tmp_path
):
    for statement, _ in hostile(tmp_path / "marker"):
        with pytest.raises(ConfigError, match=REFUSED):
            answer_sql(any_spark, gold_root, statement)
    columns, rows = answer_sql(any_spark, gold_root, "SELECT count(*) AS n FROM omdb_releases_gold")
    assert columns == ["n"] and json.loads(json.dumps(rows[0]["n"])) > 0
    assert not (tmp_path / "marker").exists()
