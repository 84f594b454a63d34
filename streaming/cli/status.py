"""``status``: streams, tables and data-quality counts."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from streaming.cli import access
from streaming.cli.options import config_of, location

NAME = "status"
HELP = "streams, tables and data-quality counts"
DESCRIPTION = (
    "Per stream: last batch and lag; per table: version and rows; passed/failed counts per "
    "data-quality rule. Read without a JVM when it can be (delta-rs), from `serve` when it runs."
)
OPTIONS = location


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("table", "json"), default="table")


def execute(args: argparse.Namespace) -> int:
    config = config_of(args)
    record = access.served(config)
    if record is not None:
        from streaming.read.serve_client import ask

        show(ask(record, "/status"), args.format)
        return 0
    if access.without_jvm(config):
        from streaming.read.status import collect_status_local

        status = collect_status_local(config)
    else:
        from streaming.read.status import collect_status

        status = collect_status(access.spark(config), config)
    show(asdict(status), args.format)
    return 0


def show(status: dict, fmt: str) -> None:
    """``status`` as JSON or as tables; a served root's adds the server and gold's freshness."""
    from streaming.read.output import format_rows

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
