"""``report``: gold's two charts as PNG files and one HTML page."""

from __future__ import annotations

import argparse
from pathlib import Path

from checkpoints_config import PipelineConfig
from streaming.cli import access
from streaming.cli.options import config_of, root_only, say
from streaming.errors import LakehouseError

NAME = "report"
HELP = "chart gold as PNG and HTML"
DESCRIPTION = (
    "Render gold's two charts (stacked bars of releases per year by media type; a line per "
    "media type over the years) as PNG files and one self-contained HTML page."
)
OPTIONS = root_only
NO_GOLD = "gold does not exist yet: run the pipeline first"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", help="output folder (default: <root>/report)")


def execute(args: argparse.Namespace) -> int:
    config = config_of(args)
    charts = charting()  # before reading: without matplotlib nothing is read
    write(charts, gold_rows(config), config, args.out)
    return 0


def charting():
    """``streaming.read.report``, or one line saying how to install what it needs."""
    try:
        from streaming.read import report
    except ImportError:
        raise LakehouseError(
            "report needs matplotlib: pip install 'omdb-lakehouse[local]'"
        ) from None
    return report


def gold_rows(config: PipelineConfig) -> list[tuple]:
    """Gold's (year, media type, count) rows: from `serve`, with delta-rs, or with Spark."""
    from streaming.read.dashboard import GOLD_COLUMNS

    record = access.served(config)
    if record is not None or access.without_jvm(config):
        from streaming.pipeline.checkpoints import has_commits

        if not has_commits(config.table("gold").path):
            raise LakehouseError(NO_GOLD)
    if record is not None:
        from streaming.read.serve_client import ask

        sql = f"SELECT {', '.join(GOLD_COLUMNS)} FROM {config.tables.gold}"
        return [tuple(r) for r in ask(record, "/sql", {"statement": sql})["rows"]]
    if access.without_jvm(config):
        from deltalake import DeltaTable

        from streaming.read.delta_rs_tables import select

        gold = DeltaTable(config.table("gold").path)
        return select(gold, f"SELECT {', '.join(GOLD_COLUMNS)} FROM t")
    return gold_rows_with_spark(access.spark(config), config)


def gold_rows_with_spark(spark, config: PipelineConfig) -> list[tuple]:
    from streaming.pipeline.tables import read_table, table_exists
    from streaming.read.dashboard import GOLD_COLUMNS

    gold = config.table("gold")
    if not table_exists(spark, gold):
        raise LakehouseError(NO_GOLD)
    return [tuple(r) for r in read_table(spark, gold).select(*GOLD_COLUMNS).collect()]


def write(charts, rows: list[tuple], config: PipelineConfig, out: str | None) -> None:
    files = charts.render_report(rows, out or Path(config.state_path).parent / "report")
    say(f"report: {files.html} ({files.stacked_bars_png.name}, {files.lines_png.name})")
