"""``omdb-lakehouse``: run the pipeline, query its tables, show its status."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from checkpoints_config import ConfigError, PipelineConfig, Trigger, load_target
from checkpoints_config.targets import DEFAULT_ROOT, ROOT_ENV, TARGETS
from streaming.errors import LakehouseError
from streaming.query import FORMATS

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
        help="run SQL over the tables",
        description="Run one SQL statement; tables answer to their bare names, e.g. "
        "SELECT * FROM omdb_releases_gold. Safe while `run` is running.",
    )
    query.add_argument("sql", help="the SQL statement")
    query.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default table)"
    )

    status = commands.add_parser(
        "status",
        parents=[common],
        help="streams, tables and data-quality counts",
        description="Per stream: last batch and lag; per table: version and rows; "
        "passed/failed counts per data-quality rule.",
    )
    status.add_argument("--format", choices=("table", "json"), default="table")

    commands.add_parser(
        "demo",
        parents=[common],
        help="land sample pages offline, run the pipeline, print gold",
        description="Land the bundled sample catalog's search pages (no key, no network), "
        "run the pipeline available-now and print gold.",
    )
    return parser


def _config(args: argparse.Namespace) -> PipelineConfig:
    return load_target(args.target, root=args.root, catalog=args.catalog, schema=args.schema)


def _spark(config: PipelineConfig):
    from streaming.session import get_spark

    log_dir = None
    if not config.on_unity_catalog and config.table_root:
        log_dir = Path(config.table_root).parent / "logs"
    return get_spark(log_dir=log_dir)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_run(args: argparse.Namespace) -> int:
    from streaming.runner import check_landing, run_available_now, run_continuous

    config = _config(args).with_trigger(Trigger(args.trigger, args.interval))
    check_landing(config)
    spark = _spark(config)
    if config.bronze.trigger.one_shot:
        _say("running bronze → silver → gold (available-now)")
        run_available_now(spark, config, on_stream_done=_print_stream)
        return 0
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    _say(f"running continuously every {config.bronze.trigger.interval}; Ctrl-C stops")
    summary = run_continuous(spark, config, stop)
    for stream in summary.streams:
        _print_stream(stream)
    _say("stopped cleanly")
    return 0


def _print_stream(stream) -> None:
    last = "-" if stream.last_batch_id is None else stream.last_batch_id
    _say(
        f"  {stream.name:<6} {stream.batches} batches, {stream.input_rows} rows, last batch {last}"
    )


def cmd_query(args: argparse.Namespace) -> int:
    from streaming.query import format_rows, run_sql

    config = _config(args)
    spark = _spark(config)
    df = run_sql(spark, config, args.sql)
    try:
        rows = df.collect()
    except Exception as exc:  # errors that show only when the query runs
        raise LakehouseError(f"query failed: {str(exc).strip().splitlines()[0]}") from exc
    print(format_rows(df.columns, rows, args.format))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from streaming.query import format_rows
    from streaming.status import collect_status

    config = _config(args)
    status = collect_status(_spark(config), config)
    if args.format == "json":
        print(json.dumps(asdict(status), indent=2))
        return 0
    sections = [
        ("streams", ["stream", "last_batch", "last_batch_at", "lag"], status.streams),
        ("tables", ["table", "version", "rows", "last_operation"], status.tables),
        ("data quality (all batches)", ["rule", "passed", "failed"], status.rules),
    ]
    for title, columns, items in sections:
        print(
            f"{title}\n" + format_rows(columns, [list(asdict(i).values()) for i in items], "table")
        )
        print()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from producers.offline.sample import land_sample_pages
    from streaming.query import format_rows, run_sql
    from streaming.runner import run_available_now

    config = _config(args)
    if config.on_unity_catalog:
        raise LakehouseError("demo runs locally only (--target local)")
    landing = Path(config.landing_path)
    if landing.is_dir() and any(landing.rglob("*.json")):
        _say(f"sample pages already landed in {landing}")
    else:
        landed = land_sample_pages(landing)
        _say(f"landed {landed} sample pages in {landing} (offline, no API key)")
    spark = _spark(config)
    _say("running bronze → silver → gold (available-now)")
    run_available_now(spark, config, on_stream_done=_print_stream)
    df = run_sql(
        spark,
        config,
        f"SELECT release_year, media_type, total_releases FROM {config.tables.gold} "
        "ORDER BY release_year, media_type",
    )
    print(format_rows(df.columns, df.collect(), "table"))
    return 0


COMMANDS = {"run": cmd_run, "query": cmd_query, "status": cmd_status, "demo": cmd_demo}


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


if __name__ == "__main__":
    sys.exit(main())
