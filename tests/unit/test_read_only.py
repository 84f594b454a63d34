"""`query` is read-only on every engine: the statement is judged before any engine runs it.

The check fails closed: what it cannot parse is refused, and a read may name only the
pipeline's tables. The hostile corpus below is what an attacker sends; each family is
also spelled the other ways Spark accepts (case, comments, line breaks, quoting).
"""

from __future__ import annotations

import pytest

from checkpoints_config import ConfigError, local
from streaming.cli import main
from streaming.read.read_only import check_statement, table_names, varies

TABLES = table_names(local("/unused"))

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
    "DESCRIBE DETAIL omdb_releases_gold",  # Delta's; the parser does not know it
    "SHOW TABLES",
    "EXPLAIN SELECT 1",
    "EXPLAIN FORMATTED SELECT * FROM omdb_releases_gold",
    "SELECT 'DELETE FROM x' AS not_a_delete -- ; DROP TABLE x",
    "SELECT * FROM range(3)",
    "SELECT g.* FROM OMDB_RELEASES_GOLD AS g WHERE g.release_year IN "
    "(SELECT release_year FROM omdb_releases_silver)",
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
    ("EXECUTE IMMEDIATE 'DROP TABLE omdb_releases_gold'", "EXECUTE"),
]

# (statement, what the refusal names): each ran on Spark before this check existed.
HOSTILE = [
    (
        "SELECT TRANSFORM(a) USING 'id > /tmp/x; echo ok' AS (out STRING) "
        "FROM VALUES ('x') AS t(a)",
        "TRANSFORM",
    ),
    ("SELECT java_method('java.lang.System','getProperty','user.name')", "java_method"),
    ("SELECT reflect('java.lang.System', 'exit', 0)", "reflect"),
    ("SELECT try_reflect('java.lang.System', 'exit', 0)", "try_reflect"),
    ("SELECT '${env:OMDB_API_KEY}'", "'\\$\\{'"),
    ("SELECT '${system:user.name}'", "'\\$\\{'"),
    ("SELECT * FROM text.`/etc/passwd`", "text./etc/passwd is not one"),
    ("SELECT * FROM binaryFile.`/etc`", "binaryFile./etc is not one"),
    ("SELECT * FROM delta.`/another/table`", "delta./another/table is not one"),
    (
        "FROM (SELECT 1 AS x) s -- ${system:line.separator}"
        "INSERT OVERWRITE DIRECTORY '/tmp/d' USING csv SELECT *",
        "'\\$\\{'",
    ),
    (
        "WITH a AS (SELECT 1 AS x) -- ${system:line.separator}INSERT INTO t SELECT * FROM a",
        "'\\$\\{'",
    ),
    ("EXPLAIN ANALYZE COPY (SELECT 1 AS \"x\\\") TO '/tmp/p.csv'", "cannot parse"),
    ("SELECT * FROM read_files('/etc')", "table function read_files"),
    ("SELECT * FROM some_other_table", "some_other_table is not one"),
    ("SELECT * FROM default.omdb_releases_gold", "default.omdb_releases_gold is not one"),
    ("DESCRIBE text.`/etc/passwd`", "text./etc/passwd is not one"),
    ("DESCRIBE DETAIL other", "other is not one"),
]

# The same families spelled the other ways Spark reads them.
SPELLINGS = [
    ("SELECT ReFlEcT('java.lang.System', 'exit', 0)", "reflect"),
    ("SELECT `reflect`('java.lang.System', 'exit', 0)", "reflect"),
    ("SELECT /* a */ reflect /* b */ ('java.lang.System', 'exit', 0)", "reflect"),
    ("SELECT\nreflect(\n'java.lang.System',\n'exit',\n0)", "reflect"),
    ("SELECT 1 FROM omdb_releases_gold WHERE EXISTS (SELECT java_method('a', 'b'))", "java_method"),
    ("SELECT (SELECT try_reflect('a', 'b')) AS x", "try_reflect"),
    ("select transform(a) using 'cat' from values ('x') as t(a)", "TRANSFORM"),
    ("SELECT 1 -- ${env:HOME}", "'\\$\\{'"),
    ("SELECT 1 /* ${system:line.separator} */", "'\\$\\{'"),
    ("SELECT * FROM `text`.`/etc/passwd`", "text./etc/passwd is not one"),
    ("SELECT * FROM TEXT.`/etc/passwd`", "TEXT./etc/passwd is not one"),
    ("SELECT * FROM (SELECT * FROM csv.`/etc/passwd`)", "csv./etc/passwd is not one"),
    ("WITH t AS (SELECT * FROM json.`/tmp`) SELECT * FROM t", "json./tmp is not one"),
    ("SELECT 1; SELECT reflect('a', 'b')", "one statement at a time"),
    ("SELECT 1 /* /* nested */ ; DROP TABLE x; */", None),  # Spark nests comments: one read
]


@pytest.mark.parametrize("statement", READS)
def test_reads_of_the_pipeline_s_tables_pass(statement):
    check_statement(statement, TABLES)


@pytest.mark.parametrize(("statement", "kind"), WRITES)
def test_anything_that_could_write_is_refused_by_kind(statement, kind):
    with pytest.raises(ConfigError, match=f"read-only: {kind} is refused"):
        check_statement(statement, TABLES)


@pytest.mark.parametrize(("statement", "named"), HOSTILE + SPELLINGS)
def test_what_reaches_past_the_tables_is_refused_in_one_line(statement, named):
    if named is None:
        check_statement(statement, TABLES)
        return
    with pytest.raises(ConfigError, match=named) as refused:
        check_statement(statement, TABLES)
    assert "\n" not in str(refused.value)


def test_a_statement_the_checker_cannot_parse_is_refused_not_guessed():
    with pytest.raises(ConfigError, match="cannot parse"):
        check_statement("SELECT (((1", TABLES)
    with pytest.raises(ConfigError, match="cannot parse"):
        check_statement("WITH a AS (SELECT 1) SELEC x FROM a", TABLES)


def test_one_statement_at_a_time():
    with pytest.raises(ConfigError, match="one statement at a time, got 2"):
        check_statement("SELECT 1; DELETE FROM omdb_releases_gold", TABLES)


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("SELECT count(*) FROM omdb_releases_gold", False),
        ("SELECT now()", True),
        ("SELECT current_timestamp", True),
        ("SELECT rand() AS r", True),
        ("SELECT uuid()", True),
        ("SELECT * FROM omdb_releases_gold TABLESAMPLE (10 PERCENT)", True),
    ],
)
def test_an_answer_that_may_change_with_nothing_written_is_known(statement, expected):
    assert varies(statement) is expected


@pytest.mark.parametrize("engine", [[], ["--engine", "datafusion"], ["--warehouse", "abc123"]])
@pytest.mark.parametrize(
    "statement",
    ["DELETE FROM omdb_releases_gold", "SELECT reflect('java.lang.System', 'exit', 0)"],
    ids=["write", "java"],
)
def test_the_cli_refuses_on_every_engine_in_one_line_and_exit_2(
    tmp_path, monkeypatch, capsys, engine, statement
):
    monkeypatch.setenv("OMDB_LAKEHOUSE_ROOT", str(tmp_path))  # --root is refused by --warehouse
    assert main(["query", statement, *engine]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: query is read-only:") and len(err.splitlines()) == 1
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
