"""``serve``: the local always-on lakehouse, streams and SQL in one process."""

from __future__ import annotations

import argparse
from pathlib import Path

from checkpoints_config import Trigger
from streaming.cli import access
from streaming.cli.options import (
    add_maintain_every,
    config_of,
    positive_seconds,
    root_only,
    say,
)
from streaming.read.answer_limits import AnswerLimits

NAME = "serve"
HELP = "the local always-on lakehouse: streams, SQL and a live page"
DESCRIPTION = (
    "Run the four streams continuously in one long-running process that also answers "
    "`query`, `status` and `report` from other terminals (no JVM of their own) and hosts "
    "Spark Connect, all on loopback and for your user only: a secret made at each start, "
    "kept in <root>/state/serve.json (readable by you alone), is required by both. New "
    "landed files (e.g. from `produce`) reach gold by themselves; open the live page's URL "
    "it prints to watch the streams and gold's charts change. A stream that fails is shown "
    "and started again 10 s later while the others go on. Ctrl-C or SIGTERM stops it "
    "cleanly. While it runs, `run` and `reset` on the same root refuse."
)
OPTIONS = root_only


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--interval", default="1s", help="micro-batch interval of the streams (default 1s)"
    )
    parser.add_argument(
        "--statement-timeout",
        type=positive_seconds,
        default=AnswerLimits.statement_seconds,
        metavar="SECONDS",
        help="a query running longer is cancelled, the streams go on (default %(default)g)",
    )
    add_maintain_every(parser)


def execute(args: argparse.Namespace) -> int:
    from streaming.runtime.serve import serve

    config = config_of(args).with_trigger(Trigger("continuous", args.interval))
    limits = AnswerLimits(statement_seconds=args.statement_timeout)
    return serve(config, access.log_dir(config) or Path(config.state_path), say, limits)
