"""``demo``: the whole pipeline offline, then a summary and the charts of gold."""

from __future__ import annotations

import argparse
from pathlib import Path

from streaming.cli import access, report, run
from streaming.cli.options import config_of, root_only, say

NAME = "demo"
HELP = "produce offline, run the pipeline, summarise and chart gold"
DESCRIPTION = (
    "Produce the sample searches from the bundled offline OMDb server (no key, no network), "
    "run the pipeline available-now, print a summary of gold and write the report "
    "(<root>/report). Run it again: nothing new lands and no table changes."
)
OPTIONS = root_only
TOP_YEARS = 5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo takes nothing but its root."""


def execute(args: argparse.Namespace) -> int:
    from producers.job import run_producer
    from producers.offline.catalog import DEMO_TERMS
    from producers.produce import Search
    from streaming.pipeline.tables import read_table
    from streaming.pipeline.transforms.gold import busiest_years, releases_per_media_type
    from streaming.read.output import format_rows

    config = config_of(args)
    charts = report.charting()
    summary = run_producer(config, [Search(t) for t in DEMO_TERMS], offline=True, say=say)
    say(summary.line())
    spark = access.spark(config)
    run.catch_up(spark, config)
    gold = read_table(spark, config.table("gold"))
    for title, df in (
        ("releases per media type", releases_per_media_type(gold)),
        (f"the {TOP_YEARS} busiest release years", busiest_years(gold, TOP_YEARS)),
    ):
        print(f"{title}\n{format_rows(df.columns, df.collect(), 'table')}\n")
    report.write(charts, report.gold_rows_with_spark(spark, config), config, None)
    root = Path(config.state_path).parent
    say(
        'more: omdb-lakehouse query "SELECT * FROM omdb_releases_gold ORDER BY release_year" '
        f"--root {root}"
    )
    return 0
