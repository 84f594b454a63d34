"""`omdb-lakehouse serve` as its own process, and the CLI as others beside it.

One real server for the module (its JVM, its streams, its SQL endpoint); every client
runs with no Java on PATH, so an answer proves it came from the server and that the
client started no JVM of its own.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from streaming.pipeline.checkpoints import local_table_version
from streaming.read.serve_client import ServeRecord, answers, record_path
from streaming.runtime.connect_server import free_port
from tests.served import GOLD_SECONDS, Served, run_cli, start_served

pytestmark = [pytest.mark.spark, pytest.mark.slow]

# Short, so that the deadline test ends soon; long enough for the module's other
# statements, whose first ones meet a cold JVM beside the streams' first batches (5 s was
# passed on a busy 2-core machine by a one-row sum).
STATEMENT_SECONDS = 20


def _dead_pid() -> int:
    gone = subprocess.Popen(["true"])
    gone.wait()
    return gone.pid


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        children = Path(f"/proc/{parent}/task/{parent}/children")
        kids = {int(c) for c in children.read_text().split()} if children.exists() else set()
        found |= kids
        todo += kids
    return found


def _port(url: str) -> int:
    return int(url.split(":")[2].split("/")[0])


def _stale_record(config) -> None:
    """What a SIGKILLed server leaves: a record whose pid is gone and whose port is closed."""
    ServeRecord(
        pid=_dead_pid(),
        sql_url=f"http://127.0.0.1:{free_port()}",
        connect_url=f"sc://localhost:{free_port()}/;token=old",
        started_at="2026-01-01 00:00:00 UTC",
        interval="1 seconds",
        token="old",
    ).save(record_path(config))


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Served:
    yield from start_served(
        tmp_path_factory, "--statement-timeout", str(STATEMENT_SECONDS), before=_stale_record
    )


def test_serve_ignores_a_stale_record_and_records_where_it_listens(served):
    said = served.log.read_text()
    assert "ignoring" in said and "does not answer" in said
    record = ServeRecord.load(record_path(served.config))
    assert record.pid == served.process.pid
    assert record.sql_url.startswith("http://127.0.0.1:")
    assert record.connect_url == f"sc://localhost:{_port(record.connect_url)}/;token={record.token}"
    assert len(record.token) >= 40 and record.token != "old"
    assert answers(record)


def test_files_landed_by_produce_reach_gold_seen_by_a_query_from_another_process(served):
    expected = served.land_and_wait_for_gold("batman", max_pages=3)
    assert expected > 0
    assert served.gold_total() == expected


def test_the_same_statement_on_unchanged_tables_is_answered_from_memory(served):
    def answered() -> dict:
        done = served.cli("status", "--format", "json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)["sql"]

    def versions() -> list[int | None]:
        return [local_table_version(ref.path) for ref in served.config.all_tables()]

    # Gold has caught up (the test before); a compaction may still follow its last
    # write: wait until no table moves for two seconds, then nothing commits.
    tables, deadline = None, time.monotonic() + 60
    while tables != versions() and time.monotonic() < deadline:
        tables = versions()
        time.sleep(2)
    first, before, tables = served.gold_total(), answered(), versions()
    again, after = served.gold_total(), answered()
    assert versions() == tables
    assert again == first
    assert after["answered"] == before["answered"] + 1
    assert after["from_cache"] == before["from_cache"] + 1


def test_status_shows_streams_and_gold_freshness_while_serving(served):
    deadline = time.monotonic() + GOLD_SECONDS
    while True:
        done = served.cli("status", "--format", "json")
        assert done.returncode == 0, done.stderr
        status = json.loads(done.stdout)
        # Gold's freshness leaves out the quality stream (up to 30 s behind): wait for both.
        every_stream = all(s["lag"].startswith("0 ") for s in status["streams"])
        if (status["freshness"]["caught_up"] and every_stream) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert every_stream
    assert status["serving"]["pid"] == served.process.pid
    assert [s["name"] for s in status["streams"]] == ["bronze", "silver", "gold", "quality"]
    assert status["streams"][0]["rows_since_start"] > 0  # the pages produce landed
    assert status["streams"][0]["lag"] == "0 files pending"
    assert all(s["last_batch"] is not None for s in status["streams"])
    assert status["freshness"]["caught_up"] and status["freshness"]["gold_updated_at"]
    assert {r["rule"] for r in status["rules"]} >= {"imdb_id_format", "page_well_formed"}
    text = served.cli("status")
    assert text.returncode == 0 and "gold freshness: up to date" in text.stdout


def test_report_charts_gold_through_the_server(served, tmp_path):
    done = served.cli("report", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "report.html").stat().st_size > 0


def test_spark_connect_clients_reach_the_served_session(served):
    record = ServeRecord.load(record_path(served.config))
    sql = "SELECT count(*) AS n FROM omdb_releases_gold"
    argv = ["query", sql, "--format", "json", "--root", str(served.root)]
    done = run_cli(*argv, env=served.no_java | {"SPARK_REMOTE": record.connect_url})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["n"] > 0


def test_a_read_only_refusal_comes_back_as_the_same_one_line(served):
    done = served.cli("query", "DELETE FROM omdb_releases_gold")
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: query is read-only")


@pytest.mark.parametrize(
    "argv", [("run",), ("reset", "--stream", "gold"), ("serve",)], ids=["run", "reset", "serve"]
)
def test_run_reset_and_a_second_serve_refuse_in_one_line(served, argv):
    done = served.cli(*argv)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(served.process.pid) in lines[0], done.stderr


def _post(record: ServeRecord, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", _port(record.sql_url), timeout=60)
    try:
        connection.request("POST", "/sql", body, headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_only_the_user_holding_the_secret_is_answered(served):
    record = ServeRecord.load(record_path(served.config))
    statement = json.dumps({"statement": "SELECT 1 AS x"}).encode()
    bearer = {"Authorization": f"Bearer {record.token}"}
    json_body = {"Content-Type": "application/json"}
    # What a web page can send: text/plain needs no preflight; its Host and Origin are its own.
    page = {"Content-Type": "text/plain", "Host": "attacker.example", "Origin": "http://x.example"}
    assert _post(record, statement, page)[0] == 403
    assert _post(record, statement, json_body)[0] == 401  # no secret
    assert _post(record, statement, json_body | {"Authorization": "Bearer guess"})[0] == 401
    assert _post(record, statement, bearer | {"Content-Type": "text/plain"})[0] == 415
    assert _post(record, statement, bearer | json_body | {"Origin": "http://x.example"})[0] == 403
    assert _post(record, b"{" * 70_000, bearer | json_body)[0] == 413
    assert _post(record, statement, bearer | json_body) == (200, {"columns": ["x"], "rows": [[1]]})


def test_a_hostile_statement_sent_with_the_secret_is_still_only_a_read(served, tmp_path):
    record = ServeRecord.load(record_path(served.config))
    marker = tmp_path / "marker"
    headers = {"Authorization": f"Bearer {record.token}", "Content-Type": "application/json"}
    for statement in (
        f"SELECT TRANSFORM(a) USING 'touch {marker}' AS (o STRING) FROM VALUES ('x') AS t(a)",
        f"SELECT java_method('java.nio.file.Files', 'createFile', '{marker}')",
        "SELECT reflect('java.lang.System', 'exit', 0)",
        "SELECT '${env:OMDB_API_KEY}'",
        "SELECT * FROM text.`/etc/passwd`",
    ):
        status, answer = _post(record, json.dumps({"statement": statement}).encode(), headers)
        assert status == 400 and answer["error"].startswith("query"), answer
    assert not marker.exists()
    assert served.process.poll() is None  # System.exit did not reach it


def test_a_statement_past_its_deadline_is_cancelled_and_the_streams_go_on(served):
    record = ServeRecord.load(record_path(served.config))
    headers = {"Authorization": f"Bearer {record.token}", "Content-Type": "application/json"}
    endless = "SELECT count(*) AS n FROM range(100000000) a CROSS JOIN range(100000000) b"
    started = time.monotonic()
    status, answer = _post(record, json.dumps({"statement": endless}).encode(), headers)
    took = time.monotonic() - started
    assert status == 422 and "deadline" in answer["error"], answer
    assert STATEMENT_SECONDS <= took < STATEMENT_SECONDS + 30
    done = served.cli("status", "--format", "json")
    assert done.returncode == 0, done.stderr
    status_now = json.loads(done.stdout)
    assert [s["name"] for s in status_now["streams"]] == ["bronze", "silver", "gold", "quality"]
    assert all(s["state"] == "running" and s["error"] is None for s in status_now["streams"])
    assert served.gold_total() >= 0  # and the next statement is answered


def test_an_answer_over_the_row_limit_is_refused_and_a_varying_one_never_cached(served):
    record = ServeRecord.load(record_path(served.config))
    headers = {"Authorization": f"Bearer {record.token}", "Content-Type": "application/json"}

    def ask(statement: str) -> tuple[int, dict]:
        return _post(record, json.dumps({"statement": statement}).encode(), headers)

    status, answer = ask("SELECT id FROM range(100001)")
    assert status == 400 and "more than 100,000 rows" in answer["error"]
    assert ask("SELECT id FROM range(100000)")[0] == 200
    draws = {ask("SELECT rand() AS r")[1]["rows"][0][0] for _ in range(3)}
    assert len(draws) == 3  # each asked anew, none from the cache


def test_a_spark_connect_client_without_the_token_is_refused(served, tmp_path):
    record = ServeRecord.load(record_path(served.config))
    client = (
        "import sys; from pyspark.sql import SparkSession; "
        "s = SparkSession.builder.remote(sys.argv[1]).getOrCreate(); "
        "print(s.sql('SELECT 40 + 2 AS n').first()[0])"
    )
    env = {k: v for k, v in os.environ.items() if k != "SPARK_CONNECT_AUTHENTICATE_TOKEN"}
    bare = f"sc://localhost:{_port(record.connect_url)}"
    for url, served_ok in (
        (bare, False),
        (f"{bare}/;token=guess", False),
        (record.connect_url, True),
    ):
        done = subprocess.run(
            [sys.executable, "-c", client, url],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if served_ok:
            assert done.returncode == 0 and done.stdout.strip() == "42", done.stderr[-2000:]
        else:
            assert done.returncode != 0 and "UNAUTHENTICATED" in done.stderr, done.stderr[-2000:]


def test_serve_listens_on_loopback_only_and_keeps_its_files_private(served):
    processes = [psutil.Process(served.process.pid)]
    processes += processes[0].children(recursive=True)
    listening = [
        c.laddr.ip
        for p in processes
        for c in p.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    assert len(listening) >= 4  # HTTP, Spark Connect, the driver's RPC and block manager
    assert all(ip in ("127.0.0.1", "::1", "::ffff:127.0.0.1") for ip in listening), listening
    state = Path(served.config.state_path)
    assert state.stat().st_mode & 0o777 == 0o700
    for name in ("serve.json", "pipeline.lock"):
        assert (state / name).stat().st_mode & 0o777 == 0o600


def test_stopping_serve_leaves_no_process_and_no_record(served):
    children = _descendants(served.process.pid)
    assert children, "serve runs its JVM as a child process"
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=120) == 0
    assert "stopped cleanly" in served.log.read_text()
    assert not record_path(served.config).exists()
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in children) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()]
