"""``maintain``: compact and vacuum the tables by hand (for available-now users)."""

from __future__ import annotations

import argparse

from streaming.cli import access
from streaming.cli.options import config_of, location, say

NAME = "maintain"
HELP = "compact and vacuum the tables, keeping what a stream still needs"
DESCRIPTION = (
    "Give every table the target's retention and auto compaction (tables made by an "
    "earlier version too), compact its small files and VACUUM what its retention no "
    "longer keeps. Compaction changes no data: the streams read nothing new from it. A "
    "table whose reader lags behind by more than the retention is not vacuumed, and the "
    "line says how to recover. `run --trigger continuous` and `serve` vacuum on their own "
    "(--maintain-every); run this after available-now runs, say daily."
)
OPTIONS = location


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # the location options are all it takes


def execute(args: argparse.Namespace) -> int:
    from streaming.pipeline.lock import pipeline_lock
    from streaming.pipeline.maintenance import maintain

    config = config_of(args)
    access.refuse_while_serving(config, "maintain")
    spark = access.spark(config)
    # A local root's lock keeps every stream away; a Databricks job may be writing, and
    # a compaction or property change could fail its commit: there, VACUUM only.
    exclusive = not config.on_unity_catalog
    say(f"maintaining the tables ({'properties, compaction, ' if exclusive else ''}vacuum)")
    with pipeline_lock(config, "maintain"):
        done = maintain(spark, config, exclusive=exclusive, say=say)
    if not done:
        say("no table yet: run the pipeline first")
    return 0
