"""Options more than one command takes, declared once, and what they resolve to."""

from __future__ import annotations

import argparse
import sys

from checkpoints_config import PipelineConfig, load_target
from checkpoints_config.targets import (
    CHECKPOINT_VOLUME,
    DEFAULT_ROOT,
    LANDING_VOLUME,
    ROOT_ENV,
    TARGETS,
)

ROOT_HELP = f"local root folder (env {ROOT_ENV}; default {DEFAULT_ROOT})"


def root_only() -> argparse.ArgumentParser:
    """``--root``: for commands that only ever work on a local root."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--root", help=ROOT_HELP)
    return parent


def location() -> argparse.ArgumentParser:
    """Where the pipeline lives: a local root, or a Unity Catalog target's names."""
    parent = argparse.ArgumentParser(add_help=False)
    where = parent.add_argument_group("where")
    where.add_argument("--root", help=ROOT_HELP)
    where.add_argument(
        "--target", choices=TARGETS, default="local", help="deployment target (default: local)"
    )
    where.add_argument("--catalog", help="Unity Catalog catalog (dev and prod targets)")
    where.add_argument("--schema", help="Unity Catalog schema (dev and prod targets)")
    where.add_argument(
        "--landing-volume",
        default=LANDING_VOLUME,
        help=f"landing volume (dev and prod; default {LANDING_VOLUME})",
    )
    where.add_argument(
        "--checkpoint-volume",
        default=CHECKPOINT_VOLUME,
        help=f"checkpoint volume (dev and prod; default {CHECKPOINT_VOLUME})",
    )
    return parent


def add_maintain_every(parser: argparse.ArgumentParser) -> None:
    """``--maintain-every``: for the commands that keep the streams running."""
    parser.add_argument(
        "--maintain-every",
        metavar="INTERVAL",
        help="how often the running streams' tables are vacuumed (default: the target's, 1h)",
    )


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def positive_seconds(text: str) -> float:
    """An argparse type: a number of seconds above 0."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, got {text!r}")
    return seconds


def config_of(args: argparse.Namespace) -> PipelineConfig:
    """The pipeline the parsed options name (root-only commands: the local target)."""
    config = load_target(
        getattr(args, "target", "local"),
        root=args.root,
        catalog=getattr(args, "catalog", None),
        schema=getattr(args, "schema", None),
        landing_volume=getattr(args, "landing_volume", LANDING_VOLUME),
        checkpoint_volume=getattr(args, "checkpoint_volume", CHECKPOINT_VOLUME),
    )
    every = getattr(args, "maintain_every", None)
    return config.with_maintenance_every(every) if every else config


def say(message: str) -> None:
    """A line for the person at the terminal: standard error, so stdout stays data; text
    from outside (OMDb's errors, file names) cannot move the cursor or retitle the window."""
    from streaming.read.output import escape_controls

    print("\n".join(map(escape_controls, message.split("\n"))), file=sys.stderr, flush=True)
