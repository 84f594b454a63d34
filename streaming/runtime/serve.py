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
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pyspark.errors import PySparkException
from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQuery

from checkpoints_config import ConfigError, PipelineConfig
from producers.landing import landed_files
from streaming.errors import LakehouseError, first_line, query_failed
from streaming.pipeline.checkpoints import delta_rs_reads, local_table_version
from streaming.pipeline.lock import pipeline_lock
from streaming.pipeline.runner import keep_running
from streaming.read.output import plain
from streaming.read.progress import ProgressListener
from streaming.read.read_only import check_statement
from streaming.read.serve_client import ServeRecord, find_serve, record_path
from streaming.read.spark_sql import register_tables
from streaming.read.status import collect_status, collect_status_local, utc_text
from streaming.runtime.connect_server import HOST, free_port
from streaming.runtime.session import start_local

CONNECT_PLUGIN = "org.apache.spark.sql.connect.SparkConnectPlugin"
RESULTS_KEPT = 64  # answers remembered per (statement, table versions)
SQL_POOL = "sql"  # the endpoint's jobs: a fair-scheduler pool apart from the streams'

Say = Callable[[str], None]


def _utc(seconds: float | None) -> str | None:
    return None if seconds is None else utc_text(seconds)


class LiveStreams(ProgressListener):
    """What the served streams did since ``serve`` started, from their progress events."""

    def __init__(self, config: PipelineConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._names = {stream.query_name: stream.name for stream in config.streams}
        self._last: dict[str, int] = {}  # rows of each stream's last batch with data
        self._rows: dict[str, int] = {}

    def onQueryProgress(self, event) -> None:
        progress = event.progress
        rows = int(progress.numInputRows or 0)
        if not rows:
            return
        with self._lock:
            stream = self._names.get(progress.name, progress.name)
            self._rows[stream] = self._rows.get(stream, 0) + rows
            self._last[stream] = rows

    def status(self, record: ServeRecord, spark: SparkSession) -> dict[str, Any]:
        """``status`` of the root (read with delta-rs where it can: no Spark job on the
        serving JVM), with what each stream did since the start, and gold's freshness."""
        if delta_rs_reads(self.config.table_root):
            status = asdict(collect_status_local(self.config))
        else:
            status = asdict(collect_status(spark, self.config))
        with self._lock:
            for stream in status["streams"]:
                stream["last_batch_rows"] = self._last.get(stream["name"])
                stream["rows_since_start"] = self._rows.get(stream["name"], 0)
        caught_up = all(s["lag"].startswith("0 ") for s in status["streams"])
        return {"serving": asdict(record), **status, "freshness": self._freshness(caught_up)}

    def _freshness(self, caught_up: bool) -> dict[str, Any]:
        """Newest landed file's time → gold's last update."""
        files = landed_files(self.config.landing_path)
        newest = max((f.stat().st_mtime for f in files), default=None)
        gold = _last_commit_time(self.config.table("gold").path)
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


def _last_commit_time(path: str) -> float | None:
    version = local_table_version(path)
    if version is None:
        return None
    return (Path(path) / "_delta_log" / f"{version:020d}.json").stat().st_mtime


class SqlEndpoint:
    """Answers the CLI on the serving session: SQL (read-only) and status, as JSON."""

    def __init__(self, spark: SparkSession, config: PipelineConfig, live: LiveStreams) -> None:
        self.spark = spark.newSession()  # its own temporary views, apart from the streams'
        self.config = config
        self.live = live
        self.record: ServeRecord | None = None
        self._sql_lock = threading.Lock()
        self._registered: tuple[bool, ...] = ()
        self._results: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
        self.answered = self.from_cache = 0
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
        """The statement's columns and rows; the same statement over the same table
        versions is answered from memory, as a SQL warehouse's result cache does."""
        check_statement(statement)
        versions = tuple(local_table_version(ref.path) for ref in self.config.all_tables())
        key = (statement, versions)
        with self._sql_lock:  # one statement at a time: the views are shared
            self.answered += 1
            if key in self._results:
                self._results.move_to_end(key)
                self.from_cache += 1
                return self._results[key]
            existing = tuple(v is not None for v in versions)
            if existing != self._registered:
                # A view over a Delta folder reads the newest version at every query:
                # registering again is needed only when a table appears.
                register_tables(self.spark, self.config)
                self._registered = existing
            self.spark.sparkContext.setLocalProperty("spark.scheduler.pool", SQL_POOL)
            try:
                df = self.spark.sql(statement)
                rows = df.collect()
            except PySparkException as exc:
                raise query_failed(exc, tables_exist=any(existing)) from exc
            except Exception as exc:  # errors that show only when the query runs
                raise query_failed(exc) from exc
            answer = {"columns": df.columns, "rows": [[plain(v) for v in row] for row in rows]}
            if versions == tuple(
                local_table_version(ref.path) for ref in self.config.all_tables()
            ):  # no commit landed while it ran: the answer belongs to these versions
                self._results[key] = answer
                while len(self._results) > RESULTS_KEPT:
                    self._results.popitem(last=False)
            return answer

    def status(self) -> dict[str, Any]:
        sql = {"answered": self.answered, "from_cache": self.from_cache}
        return {**self.live.status(self.record, self.spark), "sql": sql}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/ping":
                    self._answer({"pid": os.getpid()})
                elif self.path == "/status" and endpoint.record is not None:
                    self._run(endpoint.status)
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
            live = LiveStreams(config)
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
