"""`query` is read-only on every engine: the statement is judged before any engine runs it."""

from __future__ import annotations

import pytest

from checkpoints_config import ConfigError
from streaming.cli import main
from streaming.read.read_only import check_statement

READS = [
    "SELECT * FROM omdb_releases_gold",
    "select 1;",
    "WITH a AS (SELECT 1 AS x) SELECT x FROM a",
    "SELECT 1 UNION ALL SELECT 2",
    "(SELECT 1)",
    "VALUES (1, 2)",
    "SELECT * FROM omdb_releases_gold VERSION AS OF 1",
    "DESCRIBE omdb_releases_gold",
    "DESCRIBE HISTORY omdb_releases_gold",
    "DESCRIBE DETAIL omdb_releases_gold",  # Spark SQL the parser does not know
    "SHOW TABLES",
    "EXPLAIN SELECT 1",
    "EXPLAIN FORMATTED SELECT * FROM omdb_releases_gold",
    "SELECT 'DELETE FROM x' AS not_a_delete -- ; DROP TABLE x",
]

WRITES = [
    ("DELETE FROM omdb_releases_gold", "DELETE"),
    ("INSERT INTO omdb_releases_gold SELECT * FROM omdb_releases_gold", "INSERT"),
    ("WITH a AS (SELECT 1) INSERT INTO g SELECT * FROM a", "INSERT"),
    ("UPDATE omdb_releases_gold SET total_releases = 0", "UPDATE"),
    ("MERGE INTO g USING s ON g.k = s.k WHEN MATCHED THEN DELETE", "MERGE"),
    ("DROP TABLE omdb_releases_gold", "DROP"),
    ("CREATE TABLE x AS SELECT 1", "CREATE"),
    ("CREATE TEMP VIEW v AS SELECT 1", "CREATE"),
    ("TRUNCATE TABLE omdb_releases_gold", "TRUNCATE"),
    ("ALTER TABLE omdb_releases_gold ADD COLUMN x INT", "ALTER"),
    ("COPY (SELECT 1) TO '/tmp/anywhere.csv'", "COPY"),
    ("CACHE TABLE omdb_releases_gold", "CACHE"),
    ("SET spark.sql.shuffle.partitions = 1", "SET"),
    ("OPTIMIZE omdb_releases_gold", "OPTIMIZE"),
    ("VACUUM omdb_releases_gold", "VACUUM"),
    ("RESTORE TABLE omdb_releases_gold TO VERSION AS OF 1", "RESTORE"),
    ("EXPLAIN ANALYZE SELECT 1", "EXPLAIN ANALYZE"),
    ("EXPLAIN DELETE FROM omdb_releases_gold", "DELETE"),
]


@pytest.mark.parametrize("statement", READS)
def test_reads_pass(statement):
    check_statement(statement)


@pytest.mark.parametrize(("statement", "kind"), WRITES)
def test_anything_that_could_write_is_refused_by_kind(statement, kind):
    with pytest.raises(ConfigError, match=f"read-only: {kind} is refused"):
        check_statement(statement)


def test_one_statement_at_a_time():
    with pytest.raises(ConfigError, match="one statement at a time, got 2"):
        check_statement("SELECT 1; DELETE FROM omdb_releases_gold")


@pytest.mark.parametrize("engine", [[], ["--engine", "datafusion"], ["--warehouse", "abc123"]])
def test_the_cli_refuses_a_write_on_every_engine_in_one_line_and_exit_2(
    tmp_path, monkeypatch, capsys, engine
):
    monkeypatch.setenv("OMDB_LAKEHOUSE_ROOT", str(tmp_path))  # --root is refused by --warehouse
    argv = ["query", "DELETE FROM omdb_releases_gold", *engine]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: query is read-only: DELETE") and len(err.splitlines()) == 1
    assert not any(tmp_path.iterdir())  # refused before any engine or session started


def test_an_empty_statement_is_refused_before_any_engine(tmp_path, capsys):
    assert main(["query", "  ", "--root", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == "error: the SQL statement is empty"


def test_sql_from_a_file_or_standard_input(tmp_path, capsys, monkeypatch):
    sql = tmp_path / "q.sql"
    sql.write_text("SELECT 40 + 2 AS answer\n")
    root = ["--root", str(tmp_path / "root"), "--engine", "datafusion", "--format", "csv"]

    assert main(["query", "--file", str(sql), *root]) == 0
    assert capsys.readouterr().out.splitlines() == ["answer", "42"]

    monkeypatch.setattr("sys.stdin", open(sql))  # noqa: SIM115 (closed with the test)
    assert main(["query", "-", *root]) == 0
    assert capsys.readouterr().out.splitlines() == ["answer", "42"]

    assert main(["query", "--file", str(tmp_path / "missing.sql"), *root]) == 2
    assert "cannot read --file" in capsys.readouterr().err
