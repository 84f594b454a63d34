"""``omdb-lakehouse serve``: the local always-on lakehouse.

One process, one JVM: the three streams run continuously on a local session that also
hosts Spark Connect (any Connect client may attach) and answers the CLI's light client
over HTTP on loopback: ``query`` and ``report`` send SQL, ``status`` asks what the
streams are doing, and none of them starts a JVM. Where it listens is recorded in
``<root>/state/serve.json`` until it stops (Ctrl-C or SIGTERM: the streams stop
cleanly, the record is removed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import asdict, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pyspark.errors import PySparkException
from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQuery, StreamingQueryListener

from checkpoints_config import ConfigError, PipelineConfig
from producers.landing import landed_files
from streaming.checkpoints import last_committed_batch, local_table_version
from streaming.connect_server import HOST, free_port
from streaming.errors import LakehouseError, first_line
from streaming.lock import pipeline_lock
from streaming.output import plain
from streaming.query import query_failed, register_tables
from streaming.read_only import check_statement
from streaming.runner import keep_running
from streaming.served import ServeRecord, find_serve, record_path
from streaming.session import start_local
from streaming.status import RuleStatus, TableStatus, lag, rule_totals
from streaming.tables import has_commits, read_table, table_exists

CONNECT_PLUGIN = "org.apache.spark.sql.connect.SparkConnectPlugin"
SQL_POOL = "sql"  # the endpoint's jobs: a fair-scheduler pool apart from the streams'

Say = Callable[[str], None]


def _utc(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


class LiveStreams(StreamingQueryListener):
    """What the served streams did since ``serve`` started, from their progress events."""

    def __init__(self, config: PipelineConfig, bronze_rows: int) -> None:
        self.config = config
        self.bronze_rows_at_start = bronze_rows
        self._lock = threading.Lock()
        self._names: dict[str, str] = {}  # query name -> stream name
        self._last: dict[str, int] = {}  # rows of each stream's last batch with data
        self._rows: dict[str, int] = {}
        self._rules: list[RuleStatus] = []
        self._rules_version: int | None = None

    def attach(self, queries: dict[str, StreamingQuery]) -> None:
        with self._lock:
            self._names = {query.name: stream for stream, query in queries.items()}

    def onQueryStarted(self, event) -> None:
        pass

    def onQueryIdle(self, event) -> None:
        pass

    def onQueryTerminated(self, event) -> None:
        pass

    def onQueryProgress(self, event) -> None:
        progress = event.progress
        rows = int(progress.numInputRows or 0)
        if not rows:
            return
        with self._lock:
            stream = self._names.get(progress.name, progress.name)
            self._rows[stream] = self._rows.get(stream, 0) + rows
            self._last[stream] = rows

    def refresh_rules(self, spark: SparkSession) -> None:
        """Recount the DQ totals when dq_metrics has a new version (on the serving thread)."""
        version = local_table_version(self.config.table("dq_metrics").path)
        if version is None or version == self._rules_version:
            return
        rules = rule_totals(spark, self.config)
        with self._lock:
            self._rules, self._rules_version = rules, version

    def status(self, record: ServeRecord) -> dict[str, Any]:
        """Streams, tables, DQ counts and gold's freshness, read without a Spark job."""
        tables = {ref.key: _table_now(ref.path, ref.name) for ref in self.config.all_tables()}
        with self._lock:
            bronze_rows = self.bronze_rows_at_start + self._rows.get("bronze", 0)
            tables["bronze"] = replace(tables["bronze"], rows=bronze_rows)
            streams = [
                {
                    "stream": stream.name,
                    **_last_batch(Path(stream.checkpoint_location)),
                    "last_batch_rows": self._last.get(stream.name),
                    "rows_since_start": self._rows.get(stream.name, 0),
                    "lag": lag(stream.name, Path(stream.checkpoint_location), self.config, tables),
                }
                for stream in self.config.streams
            ]
            rules = [asdict(r) for r in self._rules]
        return {
            "serving": asdict(record),
            "streams": streams,
            "tables": [
                {"table": t.name, "version": t.version, "updated_at": t.last_operation}
                for t in tables.values()
            ],
            "rules": rules,
            "freshness": self._freshness(streams),
        }

    def _freshness(self, streams: list[dict[str, Any]]) -> dict[str, Any]:
        """Newest landed file's time → gold's last update."""
        files = landed_files(self.config.landing_path)
        newest = max((f.stat().st_mtime for f in files), default=None)
        gold = _last_commit_time(self.config.table("gold").path)
        caught_up = all(s["lag"].startswith("0 ") for s in streams)
        if newest is None:
            text = "nothing has landed yet"
        elif caught_up and gold is not None:
            text = (
                f"up to date: gold holds every landed file (newest landed {_utc(newest)}, "
                f"gold updated {_utc(gold)})"
            )
        else:
            now = dt.datetime.now(dt.timezone.utc).timestamp()
            text = f"catching up: the newest file landed {now - newest:.1f} s ago"
        return {
            "newest_landed_at": _utc(newest),
            "gold_updated_at": _utc(gold),
            "caught_up": caught_up,
            "text": text,
        }


def _last_batch(checkpoint: Path) -> dict[str, Any]:
    committed = last_committed_batch(checkpoint)
    if committed is None:
        return {"last_batch": None, "last_batch_at": None}
    return {"last_batch": committed[0], "last_batch_at": _utc(committed[1].stat().st_mtime)}


def _last_commit_time(path: str) -> float | None:
    version = local_table_version(path)
    if version is None:
        return None
    return (Path(path) / "_delta_log" / f"{version:020d}.json").stat().st_mtime


def _table_now(path: str, name: str) -> TableStatus:
    """A table's version and last commit time, from its log's file names (no Spark)."""
    return TableStatus(name, local_table_version(path), None, _utc(_last_commit_time(path)))


class SqlEndpoint:
    """Answers the CLI on the serving session: SQL (read-only) and status, as JSON."""

    def __init__(self, spark: SparkSession, config: PipelineConfig, live: LiveStreams) -> None:
        self.spark = spark.newSession()  # its own temporary views, apart from the streams'
        self.config = config
        self.live = live
        self.record: ServeRecord | None = None
        self._sql_lock = threading.Lock()
        self._registered: tuple[bool, ...] = ()
        self.server = ThreadingHTTPServer((HOST, 0), self._handler())
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server.server_address[1]}"

    def start(self) -> None:
        threading.Thread(target=self.server.serve_forever, name="serve-sql", daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def sql(self, statement: str) -> dict[str, Any]:
        with self._sql_lock:  # one statement at a time: the views are shared
            check_statement(statement)
            self.spark.sparkContext.setLocalProperty("spark.scheduler.pool", SQL_POOL)
            existing = tuple(has_commits(ref.path) for ref in self.config.all_tables())
            if existing != self._registered:
                # A view over a Delta folder reads the newest version at every query:
                # registering again is needed only when a table appears.
                register_tables(self.spark, self.config)
                self._registered = existing
            try:
                df = self.spark.sql(statement)
            except PySparkException as exc:
                raise query_failed(exc, tables_exist=any(existing)) from exc
            try:
                rows = df.collect()
            except Exception as exc:  # errors that show only when the query runs
                raise query_failed(exc) from exc
            return {"columns": df.columns, "rows": [[plain(v) for v in row] for row in rows]}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/ping":
                    self._answer({"pid": os.getpid()})
                elif self.path == "/status" and endpoint.record is not None:
                    self._run(lambda: endpoint.live.status(endpoint.record))
                else:
                    self._answer({"error": f"no route {self.path}"}, HTTPStatus.NOT_FOUND)

            def do_POST(self) -> None:
                if self.path != "/sql":
                    self._answer({"error": f"no route {self.path}"}, HTTPStatus.NOT_FOUND)
                    return
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                    statement = json.loads(self.rfile.read(length))["statement"]
                except (ValueError, KeyError, TypeError):
                    self._answer({"error": 'expected {"statement": ...}', "kind": "config"}, 400)
                    return
                self._run(lambda: endpoint.sql(statement))

            def _run(self, work: Callable[[], dict[str, Any]]) -> None:
                try:
                    self._answer(work())
                except ConfigError as exc:
                    self._answer({"error": str(exc), "kind": "config"}, HTTPStatus.BAD_REQUEST)
                except LakehouseError as exc:
                    self._answer({"error": str(exc)}, HTTPStatus.UNPROCESSABLE_ENTITY)
                except Exception as exc:  # the server keeps serving; the client gets one line
                    message = f"{type(exc).__name__}: {first_line(exc)}"
                    self._answer({"error": message}, HTTPStatus.INTERNAL_SERVER_ERROR)

            def _answer(self, body: dict[str, Any], status: int = HTTPStatus.OK) -> None:
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the terminal shows the streams, not every request

        return Handler


def serve(config: PipelineConfig, log_dir: Path, say: Say) -> int:
    """Serve the root until SIGINT or SIGTERM; returns the exit code.

    Raises:
        LakehouseError: another ``serve`` answers for this root, or another process
            holds its lock (``run``, ``reset``), or Spark does not start.
    """
    path = record_path(config)
    if path is None:
        raise ConfigError("serve runs the local pipeline only (--target local)")
    running = find_serve(config, say)
    if running is not None:
        raise LakehouseError(
            f"serve is already running on this root (pid {running.pid}, SQL at "
            f"{running.sql_url}); stop it first"
        )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    Path(config.landing_path).mkdir(parents=True, exist_ok=True)  # files may come later
    with pipeline_lock(config, "serve"):
        connect_port = free_port()
        spark = start_local(
            "omdb-lakehouse-serve",
            log_dir,
            {
                "spark.plugins": CONNECT_PLUGIN,
                # Queries share the cores with the streams instead of queuing behind them.
                "spark.scheduler.mode": "FAIR",
                "spark.connect.grpc.binding.address": HOST,
                "spark.connect.grpc.binding.port": str(connect_port),
            },
        )
        try:
            bronze = config.table("bronze")
            bronze_rows = read_table(spark, bronze).count() if table_exists(spark, bronze) else 0
            live = LiveStreams(config, bronze_rows)
            spark.streams.addListener(live)
            endpoint = SqlEndpoint(spark, config, live)
            endpoint.start()
            interval = config.bronze.trigger.interval
            record = ServeRecord(
                pid=os.getpid(),
                sql_url=endpoint.url,
                connect_url=f"sc://{HOST}:{connect_port}",
                started_at=_utc(dt.datetime.now(dt.timezone.utc).timestamp()) or "",
                interval=interval,
            )

            def started(queries: dict[str, StreamingQuery]) -> None:
                live.attach(queries)
                endpoint.record = record
                record.save(path)
                say(f"serving {Path(config.state_path).parent} every {interval}; Ctrl-C stops")
                say(f"  query, status and report use it; Spark Connect at {record.connect_url}")

            try:
                keep_running(
                    spark,
                    config,
                    stop,
                    say=say,
                    on_started=started,
                    on_poll=lambda: live.refresh_rules(spark),
                )
            finally:
                with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                    if ServeRecord.load(path).pid == os.getpid():
                        path.unlink()
                endpoint.stop()
        finally:
            spark.stop()
    say("stopped cleanly")
    return 0
