"""``serve``: the local always-on lakehouse, streams and SQL in one process."""

from __future__ import annotations

import argparse
from pathlib import Path

from checkpoints_config import Trigger
from streaming.cli import access
from streaming.cli.options import add_maintain_every, config_of, root_only, say

NAME = "serve"
HELP = "the local always-on lakehouse: streams, SQL and status in one process"
DESCRIPTION = (
    "Run the three streams continuously in one long-running process that also answers "
    "`query`, `status` and `report` from other terminals (no JVM of their own) and hosts "
    "Spark Connect, all on loopback. New landed files (e.g. from `produce`) reach gold by "
    "themselves. Ctrl-C or SIGTERM stops it cleanly. While it runs, `run` and `reset` on "
    "the same root refuse."
)
OPTIONS = root_only


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--interval", default="1s", help="micro-batch interval of the streams (default 1s)"
    )
    add_maintain_every(parser)


def execute(args: argparse.Namespace) -> int:
    from streaming.runtime.serve import serve

    config = config_of(args).with_trigger(Trigger("continuous", args.interval))
    return serve(config, access.log_dir(config) or Path(config.state_path), say)
