"""``omdb-lakehouse``: run the pipeline, query its tables, show its status."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from checkpoints_config import ConfigError, PipelineConfig, Trigger, load_target
from checkpoints_config.model import STREAMS
from checkpoints_config.targets import DEFAULT_ROOT, ROOT_ENV, TARGETS
from producers.settings import DEFAULT_MAX_REQUESTS, KEY_ENV, URL_ENV
from streaming.errors import LakehouseError, first_line
from streaming.output import FORMATS

GOLD_COLUMNS = ("release_year", "media_type", "total_releases")
DEBUG_ENV = "OMDB_LAKEHOUSE_DEBUG"

EPILOG = f"""\
Everything local lives under one root folder (--root, env {ROOT_ENV}, default {DEFAULT_ROOT}):
landing files, Delta tables and checkpoints.

Tables: omdb_releases_bronze, omdb_releases_silver, omdb_releases_quarantine,
omdb_releases_gold, omdb_releases_dq_metrics.
"""


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    where = common.add_argument_group("where")
    where.add_argument("--root", help=f"local root folder (env {ROOT_ENV}; default {DEFAULT_ROOT})")
    where.add_argument(
        "--target", choices=TARGETS, default="local", help="deployment target (default: local)"
    )
    where.add_argument("--catalog", help="Unity Catalog catalog (dev and prod targets)")
    where.add_argument("--schema", help="Unity Catalog schema (dev and prod targets)")
    where.add_argument(
        "--landing-volume", default="landing", help="landing volume (dev and prod; default landing)"
    )
    where.add_argument(
        "--checkpoint-volume",
        default="checkpoints",
        help="checkpoint volume (dev and prod; default checkpoints)",
    )
    return common


def _root_only() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--root", help=f"local root folder (env {ROOT_ENV}; default {DEFAULT_ROOT})"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="omdb-lakehouse",
        description="Incremental bronze → silver → gold pipeline for OMDb search data "
        "(Spark Structured Streaming + Delta Lake).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        parents=[common],
        help="run bronze → silver → gold",
        description="Run the three streams with their checkpoints. available-now catches up "
        "with everything landed and stops; continuous keeps running micro-batches until "
        "Ctrl-C, then stops cleanly (an interrupted batch is redone, exactly once).",
    )
    run.add_argument(
        "--trigger",
        choices=("available-now", "continuous"),
        default="available-now",
        help="available-now (default) or continuous",
    )
    run.add_argument(
        "--interval", default="5s", help="micro-batch interval in continuous mode (default 5s)"
    )

    query = commands.add_parser(
        "query",
        parents=[common],
        help="run read-only SQL over the tables",
        description="Run one read-only SQL statement (SELECT, WITH, VALUES, DESCRIBE, SHOW, "
        "EXPLAIN; anything that could write is refused); tables answer to their bare names, "
        "e.g. SELECT * FROM omdb_releases_gold. Safe while `run` is running.",
    )
    query.add_argument(
        "sql", nargs="?", help="the SQL statement; - (or --file) reads it from standard input"
    )
    query.add_argument("--file", metavar="PATH", help="read the SQL statement from this file")
    query.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default table)"
    )
    query.add_argument(
        "--engine",
        choices=("spark", "datafusion"),
        default="spark",
        help="spark (default; Spark SQL, starts a local JVM) or datafusion (local tables "
        "read by delta-rs, no JVM, answers in well under a second; DataFusion's SQL dialect)",
    )
    query.add_argument(
        "--warehouse",
        metavar="ID",
        help="run on this Databricks SQL Warehouse (host and token from the usual "
        "databricks-sdk configuration); --catalog and --schema give bare names",
    )

    status = commands.add_parser(
        "status",
        parents=[common],
        help="streams, tables and data-quality counts",
        description="Per stream: last batch and lag; per table: version and rows; "
        "passed/failed counts per data-quality rule.",
    )
    status.add_argument("--format", choices=("table", "json"), default="table")

    produce = commands.add_parser(
        "produce",
        parents=[common],
        help="land OMDb search pages (offline server when no key is set)",
        description="Page through OMDb searches and land one immutable file per page. "
        f"Uses real OMDb when {KEY_ENV} is set (base URL from {URL_ENV}); otherwise "
        "starts the bundled offline OMDb-compatible server on loopback. A ledger under "
        "the root remembers fetched pages: re-runs fetch page 1 of each search and the "
        "rest only when totalResults changed (or with --refresh); an interrupted run "
        "resumes where it stopped.",
    )
    produce.add_argument(
        "--term", action="append", default=[], help="a search term (repeat for more)"
    )
    produce.add_argument("--terms", help="comma-separated search terms")
    produce.add_argument("--terms-file", help="a file with one search term per line")
    produce.add_argument("--type", choices=("movie", "series", "episode"), help="type filter")
    produce.add_argument("--year", help="release year filter (four digits)")
    produce.add_argument(
        "--max-pages", type=_positive_int, help="at most this many pages per search (OMDb: 100)"
    )
    produce.add_argument(
        "--max-requests",
        type=_positive_int,
        default=DEFAULT_MAX_REQUESTS,
        help=f"request budget of this run (default {DEFAULT_MAX_REQUESTS}; "
        "the free key allows 1,000 a day)",
    )
    produce.add_argument(
        "--refresh",
        action="store_true",
        help="fetch every page again (unchanged ones are not landed)",
    )
    produce.add_argument("--secret-scope", help="Databricks secret scope holding the OMDb key")
    produce.add_argument(
        "--secret-key", default="omdb_api_key", help="the key's name in --secret-scope"
    )

    report = commands.add_parser(
        "report",
        parents=[_root_only()],
        help="chart gold as PNG and HTML",
        description="Render gold's two charts (stacked bars of releases per year by media "
        "type; a line per media type over the years) as PNG files and one self-contained "
        "HTML page.",
    )
    report.add_argument("--out", help="output folder (default: <root>/report)")

    reset = commands.add_parser(
        "reset",
        parents=[common],
        help="rebuild a layer from the one below (after a lost checkpoint)",
        description="Empty the tables of one stream and of every stream after it, and "
        "remove their checkpoints; the next `run` rebuilds them from the layer below "
        "(bronze from the landing files, which are never touched). Use it when a "
        "checkpoint was deleted or damaged.",
    )
    reset.add_argument(
        "--stream", required=True, choices=STREAMS, help="the first layer to rebuild"
    )

    serve = commands.add_parser(
        "serve",
        parents=[_root_only()],
        help="the local always-on lakehouse: streams, SQL and status in one process",
        description="Run the three streams continuously in one long-running process that "
        "also answers `query`, `status` and `report` from other terminals (no JVM of "
        "their own) and hosts Spark Connect, all on loopback. New landed files (e.g. from "
        "`produce`) reach gold by themselves. Ctrl-C or SIGTERM stops it cleanly. While it "
        "runs, `run` and `reset` on the same root refuse.",
    )
    serve.add_argument(
        "--interval", default="1s", help="micro-batch interval of the streams (default 1s)"
    )

    commands.add_parser(
        "demo",
        parents=[_root_only()],
        help="produce offline, run the pipeline, summarise and chart gold",
        description="Produce the sample searches from the bundled offline OMDb server "
        "(no key, no network), run the pipeline available-now, print gold and write "
        "the report (<root>/report). "
        "Run it again: nothing new lands and no table changes.",
    )
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def _config(args: argparse.Namespace) -> PipelineConfig:
    return load_target(
        getattr(args, "target", "local"),
        root=args.root,
        catalog=getattr(args, "catalog", None),
        schema=getattr(args, "schema", None),
        landing_volume=getattr(args, "landing_volume", "landing"),
        checkpoint_volume=getattr(args, "checkpoint_volume", "checkpoints"),
    )


def _served(config: PipelineConfig):
    """The running ``serve`` of a local root, unless ``SPARK_REMOTE`` names a server."""
    from streaming.served import find_serve

    return None if _remote_named() else find_serve(config, _say)


def _remote_named() -> bool:
    """True when ``SPARK_REMOTE`` names a Spark Connect server: it then answers everything."""
    return bool(os.environ.get("SPARK_REMOTE", "").strip())


def _refuse_while_serving(config: PipelineConfig, command: str) -> None:
    record = _served(config)
    if record is not None:
        raise LakehouseError(
            f"serve (pid {record.pid}) runs the streams on this root: it picks up new files "
            f"by itself; stop it (Ctrl-C, or kill {record.pid}) before `{command}`"
        )


def _log_dir(config: PipelineConfig) -> Path | None:
    """``<root>/logs`` when it can be written; None (a temporary folder) otherwise."""
    if config.on_unity_catalog or not config.table_root:
        return None
    log_dir = Path(config.table_root).parent / "logs"
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # a root the user can only read: it can still be read
    return log_dir if os.access(log_dir, os.W_OK) else None


def _spark(config: PipelineConfig):
    from streaming.session import get_spark

    return get_spark(log_dir=_log_dir(config))


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_run(args: argparse.Namespace) -> int:
    from streaming.runner import check_landing, run_available_now, run_continuous

    config = _config(args).with_trigger(Trigger(args.trigger, args.interval))
    check_landing(config)
    _refuse_while_serving(config, "run")
    spark = _spark(config)
    if config.bronze.trigger.one_shot:
        _say("running bronze → silver → gold (available-now)")
        run_available_now(
            spark, config, on_stream_done=_print_stream, say=_say, on_batch=_batch_lines(config)
        )
        return 0
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    _say(f"running continuously every {config.bronze.trigger.interval}; Ctrl-C stops")
    summary = run_continuous(spark, config, stop, say=_say)
    for stream in summary.streams:
        _print_stream(stream)
    _say("stopped cleanly")
    return 0


def _batch_lines(config: PipelineConfig):
    from streaming.progress import BatchLines

    return BatchLines(config, _say)


def _print_stream(stream) -> None:
    last = "-" if stream.last_batch_id is None else stream.last_batch_id
    _say(
        f"  {stream.name:<6} {stream.batches} batches, {stream.input_rows} rows, last batch {last}"
    )


def _statement(args: argparse.Namespace) -> str:
    """The statement from the argument, ``--file``, or standard input (``-``)."""
    if args.file and args.sql:
        raise ConfigError("give the SQL statement as an argument or with --file, not both")
    if args.file and args.file != "-":
        try:
            return Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise ConfigError(f"cannot read --file {args.file}: {reason}") from None
    if args.file == "-" or args.sql == "-":
        return sys.stdin.read()
    if args.sql is None:
        raise ConfigError("give a SQL statement, - to read it from standard input, or --file")
    return args.sql


def cmd_query(args: argparse.Namespace) -> int:
    from streaming.output import format_rows

    columns, rows = _answer(args, _statement(args))
    print(format_rows(columns, rows, args.format))
    return 0


def _answer(args: argparse.Namespace, statement: str) -> tuple[list[str], list]:
    """Columns and rows from the engine the arguments name: every engine, one shape.

    Each engine refuses a statement that could write (``check_statement``) before it
    reads anything, with the same one line.
    """
    if args.warehouse:
        from streaming.warehouse import run_on_warehouse

        return run_on_warehouse(statement, args.warehouse, catalog=args.catalog, schema=args.schema)
    config = _config(args)
    if args.engine == "datafusion":
        from streaming.local_sql import run_sql_datafusion

        return run_sql_datafusion(config, statement)
    record = _served(config)
    if record is not None:
        from streaming.served import ask

        answer = ask(record, "/sql", {"statement": statement})
        return answer["columns"], answer["rows"]
    from streaming.query import answer_sql
    from streaming.read_only import check_statement

    check_statement(statement)  # before Spark starts: a refusal costs no JVM
    return answer_sql(_spark(config), config, statement)


def cmd_status(args: argparse.Namespace) -> int:
    config = _config(args)
    record = _served(config)
    if record is not None:
        from streaming.served import ask

        _print_status(ask(record, "/status"), args.format)
        return 0
    status = _local_status(config)
    if status is None:
        from streaming.status import collect_status

        status = collect_status(_spark(config), config)
    _print_status(asdict(status), args.format)
    return 0


def _without_jvm(config: PipelineConfig) -> bool:
    """True when a local root can be read with delta-rs: installed, no Connect server named."""
    import importlib.util

    return (
        not config.on_unity_catalog
        and not _remote_named()
        and importlib.util.find_spec("deltalake") is not None
    )


def _local_status(config: PipelineConfig):
    """The status read with delta-rs, or None when Spark must read it."""
    if not _without_jvm(config):
        return None
    from streaming.status import collect_status_local

    return collect_status_local(config)


def _print_status(status: dict, fmt: str) -> None:
    """``status`` as JSON or as tables; a served root's adds the server and gold's freshness."""
    from streaming.output import format_rows

    if fmt == "json":
        print(json.dumps(status, indent=2))
        return
    serving = status.get("serving")
    streams = ["name", "last_batch", "last_batch_at", "lag"]
    if serving:
        print(
            f"serving since {serving['started_at']} (pid {serving['pid']}, every "
            f"{serving['interval']}; Spark Connect at {serving['connect_url']})\n"
        )
        streams.insert(3, "last_batch_rows")
    sections = [
        ("streams", streams, "streams"),
        ("tables", ["name", "version", "rows", "last_operation"], "tables"),
        ("data quality (all batches)", ["rule", "passed", "failed"], "rules"),
    ]
    for title, columns, key in sections:
        rows = [[item[c] for c in columns] for item in status[key]]
        print(f"{title}\n" + format_rows(columns, rows, "table") + "\n")
    if serving:
        print(f"gold freshness: {status['freshness']['text']}")


def cmd_produce(args: argparse.Namespace) -> int:
    from producers.job import read_terms, run_producer
    from producers.ledger import LedgerError
    from producers.omdb_client import OmdbConfigError, OmdbError
    from producers.produce import Search
    from producers.progress import summary_line

    config = _config(args)
    try:
        searches = [
            Search(t, args.type, args.year)
            for t in read_terms([*args.term, *(args.terms or "").split(",")], args.terms_file)
        ]
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    try:
        summary = run_producer(
            config,
            searches,
            max_pages=args.max_pages,
            max_requests=args.max_requests,
            refresh=args.refresh,
            secret_scope=args.secret_scope,
            secret_key=args.secret_key,
            say=_say,
        )
    except OmdbConfigError as exc:
        raise ConfigError(str(exc)) from None
    except (OmdbError, LedgerError) as exc:
        raise LakehouseError(str(exc)) from None
    for error in summary.errors:
        _say(f"  failed: {error}")
    _say(summary_line(summary))
    if summary.stopped:
        _say(f"stopped early: {summary.stopped}; run the same command again to resume")
        return 3
    if summary.all_failed:
        # A scheduled job must not report success for a run that landed nothing.
        raise LakehouseError(f"no page was answered; the first failure: {summary.errors[0]}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    config = _config(args)
    record = _served(config)
    if record is not None or _without_jvm(config):
        from streaming.checkpoints import has_commits

        if not has_commits(config.table("gold").path):
            raise LakehouseError("gold does not exist yet: run the pipeline first")
    if record is not None:
        from streaming.served import ask

        sql = f"SELECT {', '.join(GOLD_COLUMNS)} FROM {config.tables.gold}"
        rows = [tuple(r) for r in ask(record, "/sql", {"statement": sql})["rows"]]
    elif _without_jvm(config):
        from deltalake import DeltaTable

        gold = DeltaTable(config.table("gold").path).to_pyarrow_table(columns=list(GOLD_COLUMNS))
        rows = [tuple(r.values()) for r in gold.to_pylist()]
    else:
        rows = _gold_rows(_spark(config), config)
    _write_report(rows, config, args.out)
    return 0


def _gold_rows(spark, config: PipelineConfig) -> list[tuple]:
    from streaming.tables import read_table, table_exists

    gold = config.table("gold")
    if not table_exists(spark, gold):
        raise LakehouseError("gold does not exist yet: run the pipeline first")
    return [tuple(r) for r in read_table(spark, gold).select(*GOLD_COLUMNS).collect()]


def _write_report(rows: list[tuple], config: PipelineConfig, out: str | None) -> None:
    try:
        from streaming.report import render_report
    except ImportError:
        raise LakehouseError(
            "report needs matplotlib: pip install 'omdb-lakehouse[local]'"
        ) from None

    files = render_report(rows, out or Path(config.state_path).parent / "report")
    _say(f"report: {files.html} ({files.stacked_bars_png.name}, {files.lines_png.name})")


def cmd_reset(args: argparse.Namespace) -> int:
    from streaming.reset import reset_stream

    config = _config(args)
    _refuse_while_serving(config, "reset")
    for line in reset_stream(_spark(config), config, args.stream) or ["nothing to reset"]:
        _say(line)
    _say("run `omdb-lakehouse run` to rebuild")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from producers.job import run_producer
    from producers.offline.catalog import DEMO_TERMS
    from producers.produce import Search
    from producers.progress import summary_line
    from streaming.output import format_rows
    from streaming.query import answer_sql
    from streaming.runner import run_available_now

    config = _config(args)
    summary = run_producer(config, [Search(t) for t in DEMO_TERMS], offline=True, say=_say)
    _say(summary_line(summary))
    spark = _spark(config)
    _say("running bronze → silver → gold (available-now)")
    run_available_now(
        spark, config, on_stream_done=_print_stream, say=_say, on_batch=_batch_lines(config)
    )
    for title, sql in demo_summary_sql(config.tables.gold):
        columns, rows = answer_sql(spark, config, sql)
        print(f"{title}\n{format_rows(columns, rows, 'table')}\n")
    _write_report(_gold_rows(spark, config), config, None)
    root = Path(config.state_path).parent
    _say(
        'more: omdb-lakehouse query "SELECT * FROM omdb_releases_gold ORDER BY release_year" '
        f"--root {root}"
    )
    return 0


def demo_summary_sql(gold: str, top_years: int = 5) -> list[tuple[str, str]]:
    """What the demo prints of gold: totals per media type, then the busiest years."""
    return [
        (
            "releases per media type",
            f"SELECT media_type, sum(total_releases) AS releases, count(*) AS years "
            f"FROM {gold} GROUP BY media_type ORDER BY releases DESC",
        ),
        (
            f"the {top_years} busiest release years",
            f"SELECT release_year, sum(total_releases) AS releases FROM {gold} "
            f"GROUP BY release_year ORDER BY releases DESC, release_year DESC LIMIT {top_years}",
        ),
    ]


def cmd_serve(args: argparse.Namespace) -> int:
    from streaming.serve import serve

    config = _config(args).with_trigger(Trigger("continuous", args.interval))
    return serve(config, _log_dir(config) or Path(config.state_path), _say)


COMMANDS = {
    "serve": cmd_serve,
    "produce": cmd_produce,
    "report": cmd_report,
    "reset": cmd_reset,
    "run": cmd_run,
    "query": cmd_query,
    "status": cmd_status,
    "demo": cmd_demo,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``omdb-lakehouse`` console script."""
    args = build_parser().parse_args(argv)
    # PySpark logs each failed query as a JSON line; the error line below says it once.
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    try:
        return COMMANDS[args.command](args)
    except (LakehouseError, ConfigError) as exc:
        _say(f"error: {exc}")
        return 2 if isinstance(exc, ConfigError) else 1
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
    except Exception as exc:  # a bug or an environment problem: still one line by default
        if os.environ.get(DEBUG_ENV):
            raise
        _say(
            f"error: {type(exc).__name__}: {first_line(exc)} (set {DEBUG_ENV}=1 for the traceback)"
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
