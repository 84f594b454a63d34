"""``reset``: empty one layer and every layer it feeds, to be rebuilt by the next run."""

from __future__ import annotations

import argparse

from checkpoints_config.model import STREAMS
from streaming.cli import access
from streaming.cli.options import config_of, location, say

NAME = "reset"
HELP = "rebuild a layer from the one below (after a lost checkpoint)"
DESCRIPTION = (
    "Empty the tables of one stream and of every stream it feeds, and remove their "
    "checkpoints; the next `run` rebuilds them from the layer below (bronze from the landing "
    "files, which are never touched; quality, which keeps quarantine and the DQ metrics, "
    "from bronze). Use it when a checkpoint was deleted or damaged."
)
OPTIONS = location


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stream", required=True, choices=STREAMS, help="the first layer to rebuild"
    )


def execute(args: argparse.Namespace) -> int:
    from streaming.pipeline.reset import reset_stream

    config = config_of(args)
    access.refuse_while_serving(config, "reset")
    for line in reset_stream(access.spark(config), config, args.stream) or ["nothing to reset"]:
        say(line)
    say("run `omdb-lakehouse run` to rebuild")
    return 0
