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
    "Per stream: last batch and lag; per table: version and rows, live bytes and files beside "
    "what is on disk and the log's entries; landing pages live and archived; the last "
    "maintenance; passed/failed counts per data-quality rule; how far gold is behind the newest "
    "landed page. Read without a JVM when it can "
    "be (delta-rs), from `serve` when it runs."
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


STORAGE_COLUMNS = ["name", "live", "on_disk", "live_files", "files_on_disk", "log_entries"]


def _mib(size: int | None) -> str | None:
    return None if size is None else f"{size / 2**20:.2f} MiB"


def storage_row(table: dict) -> list:
    """A table's live size beside what its folder holds (replaced files, change data, log)."""
    return [
        table["name"],
        _mib(table["live_bytes"]),
        _mib(table.get("disk_bytes")),
        table["live_files"],
        table.get("disk_files"),
        table.get("log_entries"),
    ]


def upkeep_lines(status: dict) -> list[str]:
    """The landing folder's pages, live and archived, and the last maintenance."""
    lines = []
    landing = status.get("landing")
    if landing:
        lines.append(
            f"landing: {landing['live']} pages live, {landing['archived']} archived "
            "(read by bronze and moved out of the folder its source lists)"
        )
    upkeep = status.get("last_maintenance")
    if upkeep:
        lines.append(
            f"last maintenance: {upkeep['at']}, {upkeep['tables']} tables, "
            f"{_mib(upkeep['freed_bytes'])} freed"
        )
    elif landing is not None:
        lines.append("last maintenance: never (`omdb-lakehouse maintain`)")
    return lines


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
            f"{serving['interval']}; Spark Connect at {serving['connect_url']}, the token "
            "in serve.json)\n"
        )
        streams.insert(1, "state")
        streams.insert(4, "last_batch_rows")
    sections = [
        ("streams", streams, "streams"),
        ("tables", ["name", "version", "rows", "last_operation"], "tables"),
        ("data quality (all batches)", ["rule", "passed", "failed"], "rules"),
    ]
    for title, columns, key in sections:
        rows = [[item[c] for c in columns] for item in status[key]]
        print(f"{title}\n" + format_rows(columns, rows, "table") + "\n")
    storage = [storage_row(t) for t in status["tables"] if t.get("live_bytes") is not None]
    if storage:
        print("storage\n" + format_rows(STORAGE_COLUMNS, storage, "table") + "\n")
    for line in upkeep_lines(status):
        print(line)
    if status.get("freshness"):
        print(f"gold freshness: {status['freshness']['text']}")
    for stream in status["streams"]:
        if stream.get("error"):
            name, at = stream["name"], stream["failed_at"]
            print(f"the {name} stream's last failure, at {at}: {stream['error']}")
