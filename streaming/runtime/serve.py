"""``omdb-lakehouse serve``: the local always-on lakehouse.

One process, one JVM: the four streams run continuously on a local session that also
hosts Spark Connect and answers the CLI's light client over HTTP on loopback: ``query``
and ``report`` send SQL, ``status`` asks what the streams are doing, and none of them
starts a JVM. Both answer only their user: a secret made at each start is required by
the HTTP endpoint (``guarded_http``) and by Spark Connect (its pre-shared token). Where
it listens, and the secret, are recorded in ``<root>/state/serve.json`` (``0600``) until
it stops (Ctrl-C or SIGTERM: the streams stop cleanly, the record is removed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import threading
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import asdict
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pyspark.errors import PySparkException
from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQuery

from checkpoints_config import ConfigError, PipelineConfig
from streaming.errors import LakehouseError, failure_gist, first_line, query_failed
from streaming.pipeline.checkpoints import delta_rs_reads, local_table_version
from streaming.pipeline.lock import pipeline_lock
from streaming.pipeline.runner import keep_running
from streaming.read.answer_limits import AnswerLimits
from streaming.read.dashboard import page_spec
from streaming.read.output import plain
from streaming.read.progress import ProgressListener
from streaming.read.read_only import check_statement, table_names, varies
from streaming.read.result_cache import ResultCache
from streaming.read.serve_client import ServeRecord, find_serve, proof, record_path
from streaming.read.spark_parse import check_spark_parse
from streaming.read.spark_sql import reader_session, register_tables
from streaming.read.status import collect_status, collect_status_local, utc_text
from streaming.runtime.connect_server import HOST, TOKEN_ENV, connect_url, free_port, new_token
from streaming.runtime.guarded_http import GuardedHandler, Limits, Refused, handler_class
from streaming.runtime.live_page import CONTENT_SECURITY_POLICY, LiveBoard, gold_seen, page_file
from streaming.runtime.session import redact_token, start_local

CONNECT_PLUGIN = "org.apache.spark.sql.connect.SparkConnectPlugin"
SQL_POOL = "sql"  # the endpoint's jobs: a fair-scheduler pool apart from the streams'
NO_TOKEN = "refused: no valid token (open the live page's URL that serve printed)"
RESTART_SECONDS = 10.0  # a failed stream starts again after this; the others go on

Say = Callable[[str], None]


def _utc(seconds: float | None) -> str | None:
    return None if seconds is None else utc_text(seconds)


class LiveStreams(ProgressListener):
    """What the served streams did since ``serve`` started, from their events: rows, the
    last batch's duration and rate, and the last failure of each."""

    def __init__(self, config: PipelineConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._names = {stream.query_name: stream.name for stream in config.streams}
        self._ids: dict[str, str] = {}  # query id -> stream
        self._seen: dict[str, dict[str, Any]] = {}

    def _stream(self, name: str) -> dict[str, Any]:
        return self._seen.setdefault(
            self._names.get(name, name), {"rows_since_start": 0, "state": "starting"}
        )

    def onQueryStarted(self, event) -> None:
        with self._lock:
            self._ids[str(event.id)] = self._names.get(event.name, event.name)
            self._stream(event.name)["state"] = "running"

    def onQueryProgress(self, event) -> None:
        progress = event.progress
        rows = int(progress.numInputRows or 0)
        with self._lock:
            seen = self._stream(progress.name)
            seen["state"] = "running"
            if not rows:
                return
            seen["rows_since_start"] += rows
            seen["last_batch_rows"] = rows
            seen["last_batch_seconds"] = (progress.batchDuration or 0) / 1000
            seen["rows_per_second"] = round(float(progress.processedRowsPerSecond or 0), 1)

    def onQueryTerminated(self, event) -> None:
        with self._lock:
            name = self._ids.get(str(event.id))
            if name is None:
                return
            seen = self._stream(name)
            if event.exception:
                seen["state"] = "failed"
                seen["error"] = failure_gist(event.exception)
                seen["failed_at"] = _utc(dt.datetime.now(dt.timezone.utc).timestamp())
            else:
                seen["state"] = "stopped"

    def status(self, record: ServeRecord, spark: SparkSession) -> dict[str, Any]:
        """``status`` of the root (read with delta-rs where it can: no Spark job on the
        serving JVM), with what each stream did since the start, and gold's freshness."""
        if delta_rs_reads(self.config.table_root):
            status = asdict(collect_status_local(self.config, running=True))
        else:
            status = asdict(collect_status(spark, self.config, running=True))
        with self._lock:
            for stream in status["streams"]:
                seen = self._seen.get(stream["name"], {})
                stream["rows_since_start"] = seen.get("rows_since_start", 0)
                stream["state"] = seen.get("state", "starting")
                for key in ("last_batch_rows", "last_batch_seconds", "rows_per_second"):
                    stream[key] = seen.get(key)
                stream["error"] = seen.get("error")
                stream["failed_at"] = seen.get("failed_at")
        serving = asdict(record) | {"connect_url": redact_token(record.connect_url)}
        serving.pop("token")  # an answer may be pasted anywhere; the record keeps the secret
        return {"serving": serving, **status}


class SqlEndpoint:
    """Answers the CLI on the serving session, for its user only (``guarded_http``):
    SQL (read-only, within a deadline and a size) and status, as JSON."""

    def __init__(
        self,
        spark: SparkSession,
        config: PipelineConfig,
        live: LiveStreams,
        token: str,
        limits: AnswerLimits | None = None,
    ) -> None:
        self.config = config
        self.spark = reader_session(spark, config)  # its own views, switches off
        self.live = live
        self.token = token
        self.limits = limits or AnswerLimits()
        self.record: ServeRecord | None = None
        self._sql_lock = threading.Lock()
        self._registered: tuple[bool, ...] = ()
        self._results = ResultCache(self.limits.cache_bytes)
        self.answered = self.from_cache = 0
        self.board = LiveBoard(config, self.status, self.sql)
        self.server = ThreadingHTTPServer((HOST, 0), GuardedHandler)
        self.server.daemon_threads = True
        self.server.RequestHandlerClass = handler_class(
            self._routes(), token, self.server.server_address[1], Limits()
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server.server_address[1]}"

    def start(self) -> None:
        threading.Thread(target=self.server.serve_forever, name="serve-sql", daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def sql(self, statement: str) -> dict[str, Any]:
        """The statement's columns and rows; the same deterministic statement over the
        same table versions is answered from memory, as a SQL warehouse's result cache does.

        Raises:
            ConfigError: not a read of the pipeline's tables, or an answer over the limits.
            LakehouseError: Spark refused it, or it ran past the deadline (cancelled).
        """
        tables = table_names(self.config)
        check_statement(statement, tables)
        versions = tuple(local_table_version(ref.path) for ref in self.config.all_tables())
        key = (statement, versions)
        with self._sql_lock:  # one statement at a time: the views are shared
            self.answered += 1
            cached = self._results.get(key)
            if cached is not None:
                self.from_cache += 1
                return cached
            check_spark_parse(self.spark, statement, tables)
            existing = tuple(v is not None for v in versions)
            if existing != self._registered:
                # A view over a Delta folder reads the newest version at every query:
                # registering again is needed only when a table appears.
                register_tables(self.spark, self.config)
                self._registered = existing
            answer = self._answer(statement, tables_exist=any(existing))
            if not varies(statement) and versions == tuple(
                local_table_version(ref.path) for ref in self.config.all_tables()
            ):  # no commit landed while it ran: the answer belongs to these versions
                self._results.put(key, answer)
            return answer

    def _answer(self, statement: str, *, tables_exist: bool) -> dict[str, Any]:
        """Run the statement in a job group of its own, cancelled at the deadline."""
        context = self.spark.sparkContext
        group = f"serve-sql-{uuid.uuid4().hex}"
        context.setLocalProperty("spark.scheduler.pool", SQL_POOL)
        context.setJobGroup(group, "serve: a query", interruptOnCancel=True)
        seconds = self.limits.statement_seconds
        late = threading.Event()

        def cancel() -> None:
            late.set()
            context.cancelJobGroup(group)

        timer = threading.Timer(seconds, cancel)
        timer.daemon = True
        timer.start()
        try:
            df = self.spark.sql(statement)
            rows = df.limit(self.limits.max_rows + 1).collect()
        except Exception as exc:
            if late.is_set():
                raise LakehouseError(
                    f"the statement ran past its {seconds:g} s deadline and was cancelled "
                    "(the streams go on); serve --statement-timeout sets it"
                ) from None
            if isinstance(exc, PySparkException):
                raise query_failed(exc, tables_exist=tables_exist) from exc
            raise query_failed(exc) from exc  # errors that show only when the query runs
        finally:
            timer.cancel()
            context.setLocalProperty("spark.jobGroup.id", None)
        if len(rows) > self.limits.max_rows:
            raise ConfigError(
                f"the answer has more than {self.limits.max_rows:,} rows: add a LIMIT or "
                "aggregate (serve answers at most that many)"
            )
        answer = {"columns": df.columns, "rows": [[plain(v) for v in row] for row in rows]}
        size = len(json.dumps(answer, ensure_ascii=False).encode())
        if size > self.limits.max_bytes:
            raise ConfigError(
                f"the answer is {size / 2**20:.1f} MiB, over serve's "
                f"{self.limits.max_bytes / 2**20:.0f} MiB: select fewer columns or rows"
            )
        return answer

    def status(self) -> dict[str, Any]:
        sql = {"answered": self.answered, "from_cache": self.from_cache}
        page = {"polls": self.board.polls, "gold_reads": self.board.gold_reads}
        return {**self.live.status(self.record, self.spark), "sql": sql, "live_page": page}

    def _routes(self) -> type[GuardedHandler]:
        endpoint = self

        class Routes(GuardedHandler):
            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                if path == "/ping":
                    # Unauthenticated: the client checks the proof before it sends the secret.
                    nonce = urllib.parse.parse_qs(query).get("nonce", [""])[0][:128]
                    self.answer({"pid": os.getpid(), "proof": proof(endpoint.token, nonce)})
                elif self.handed_token():
                    return
                elif not self.authorized():
                    self.answer({"error": NO_TOKEN}, HTTPStatus.UNAUTHORIZED)
                elif path == "/status" and endpoint.record is not None:
                    self._run(endpoint.status)
                elif path == "/live" and endpoint.record is not None:
                    self._run(lambda: endpoint.board.snapshot(gold_seen(query)))
                elif path == "/live/spec":
                    self.answer(page_spec())
                elif path == "/" or path.startswith("/page/"):
                    self._page_file("live.html" if path == "/" else path[len("/page/") :])
                else:
                    self.answer({"error": f"no route {path}"}, HTTPStatus.NOT_FOUND)

            def do_POST(self) -> None:
                if not self.authorized():
                    self.answer({"error": NO_TOKEN}, HTTPStatus.UNAUTHORIZED)
                    return
                if self.path != "/sql":
                    self.answer({"error": f"no route {self.path}"}, HTTPStatus.NOT_FOUND)
                    return
                try:
                    body = self.json_body()
                except Refused as exc:
                    self.answer({"error": str(exc), "kind": "config"}, exc.status)
                    return
                statement = body.get("statement") if isinstance(body, dict) else None
                if not isinstance(statement, str):
                    self.answer({"error": 'expected {"statement": ...}', "kind": "config"}, 400)
                    return
                self._run(lambda: endpoint.sql(statement))

            def _page_file(self, name: str) -> None:
                found = page_file(name)
                if found is None:
                    self.answer({"error": f"no page file {name}"}, HTTPStatus.NOT_FOUND)
                else:
                    self.send_bytes(*found, policy=CONTENT_SECURITY_POLICY)

            def _run(self, work: Callable[[], dict[str, Any]]) -> None:
                try:
                    self.answer(work())
                except ConfigError as exc:
                    self.answer({"error": str(exc), "kind": "config"}, HTTPStatus.BAD_REQUEST)
                except LakehouseError as exc:
                    self.answer({"error": str(exc)}, HTTPStatus.UNPROCESSABLE_ENTITY)
                except Exception as exc:  # the server keeps serving; the client gets one line
                    message = f"{type(exc).__name__}: {first_line(exc)}"
                    self.answer({"error": message}, HTTPStatus.INTERNAL_SERVER_ERROR)

        return Routes


def serve(
    config: PipelineConfig, log_dir: Path, say: Say, limits: AnswerLimits | None = None
) -> int:
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
        # One secret per start: the HTTP endpoint's bearer token and Spark Connect's
        # pre-shared token, which the JVM reads from its environment (not its command line).
        token = new_token()
        os.environ[TOKEN_ENV] = token
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
            endpoint = SqlEndpoint(spark, config, live, token, limits)
            endpoint.start()
            interval = config.bronze.trigger.interval
            record = ServeRecord(
                pid=os.getpid(),
                sql_url=endpoint.url,
                connect_url=connect_url(connect_port, token),
                started_at=_utc(dt.datetime.now(dt.timezone.utc).timestamp()) or "",
                interval=interval,
                token=token,
            )

            def started(queries: dict[str, StreamingQuery]) -> None:
                endpoint.record = record
                record.save(path)
                say(f"serving {Path(config.state_path).parent} every {interval}; Ctrl-C stops")
                say(f"  query, status and report use it (its secret is in {path}, yours alone)")
                say(f"  Spark Connect: SPARK_REMOTE='{record.connect_url}'")
                say(f"  live page (yours alone: keep its URL to yourself): {record.page_url}")

            try:
                keep_running(
                    spark,
                    config,
                    stop,
                    say=say,
                    on_started=started,
                    restart_seconds=RESTART_SECONDS,
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
