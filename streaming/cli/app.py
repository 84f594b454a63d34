"""The ``omdb-lakehouse`` parser, built from the command modules, and its entry point."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable, Sequence

from checkpoints_config import ConfigError
from checkpoints_config.targets import DEFAULT_ROOT, ROOT_ENV
from streaming.cli import demo, maintain, produce, query, report, reset, run, serve, status
from streaming.cli.options import say
from streaming.errors import LakehouseError, first_line

# A new command is a module in this package (NAME, HELP, DESCRIPTION, OPTIONS,
# add_arguments, execute) listed here, in the order `--help` shows it.
MODULES = (run, query, status, produce, report, reset, maintain, serve, demo)
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {m.NAME: m.execute for m in MODULES}

DEBUG_ENV = "OMDB_LAKEHOUSE_DEBUG"
EPILOG = f"""\
Everything local lives under one root folder (--root, env {ROOT_ENV}, default {DEFAULT_ROOT}):
landing files, Delta tables and checkpoints.

Tables: omdb_releases_bronze, omdb_releases_silver, omdb_releases_quarantine,
omdb_releases_gold, omdb_releases_dq_metrics.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="omdb-lakehouse",
        description="Incremental bronze → silver → gold pipeline for OMDb search data "
        "(Spark Structured Streaming + Delta Lake).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parents = {}  # one parent parser per kind of shared options
    for module in MODULES:
        shared = parents.setdefault(module.OPTIONS, module.OPTIONS())
        command = commands.add_parser(
            module.NAME, parents=[shared], help=module.HELP, description=module.DESCRIPTION
        )
        module.add_arguments(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``omdb-lakehouse`` console script: the command's exit code."""
    return _run(argv)[0]


class JobFailed(RuntimeError):
    """A command run as a Databricks job task ended with a non-zero exit code."""


def job_main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the bundle's wheel tasks (``omdb-lakehouse-job``): raises on failure.

    A ``python_wheel_task`` calls its entry point and drops what it returns, so a
    command's exit code alone would leave a failed run green; the exception fails it.
    """
    code, error = _run(argv)
    if code:
        raise JobFailed(f"omdb-lakehouse exited with code {code}: {error or 'no error line'}")


def _run(argv: Sequence[str] | None) -> tuple[int, str | None]:
    """Run one command: its exit code, and the error line it printed when it failed."""
    args = build_parser().parse_args(argv)
    # PySpark logs each failed query as a JSON line; the error line below says it once.
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    try:
        return COMMANDS[args.command](args), None
    except LakehouseError as exc:
        return _said(exc.exit_code, f"error: {exc}")
    except ConfigError as exc:
        return _said(2, f"error: {exc}")
    except KeyboardInterrupt:
        return _said(130, "interrupted")
    except Exception as exc:  # a bug or an environment problem: still one line by default
        if os.environ.get(DEBUG_ENV):
            raise
        line = f"error: {type(exc).__name__}: {first_line(exc)}"
        say(f"{line} (set {DEBUG_ENV}=1 for the traceback)")
        return 1, line


def _said(code: int, line: str) -> tuple[int, str]:
    say(line)
    return code, line
