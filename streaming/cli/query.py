"""``query``: one read-only SQL statement, on whichever engine can answer it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from checkpoints_config import ConfigError
from checkpoints_config.targets import CHECKPOINT_VOLUME, LANDING_VOLUME
from streaming.cli import access
from streaming.cli.options import config_of, location
from streaming.read.output import FORMATS

NAME = "query"
HELP = "run read-only SQL over the tables"
DESCRIPTION = (
    "Run one read-only SQL statement (SELECT, WITH, VALUES, DESCRIBE, SHOW, EXPLAIN; anything "
    "that could write is refused); tables answer to their bare names, e.g. SELECT * FROM "
    "omdb_releases_gold. Safe while `run` is running; answered by `serve` when it runs."
)
OPTIONS = location


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "sql", nargs="?", help="the SQL statement; - (or --file) reads it from standard input"
    )
    parser.add_argument("--file", metavar="PATH", help="read the SQL statement from this file")
    parser.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default table)"
    )
    parser.add_argument(
        "--engine",
        choices=("spark", "datafusion"),
        default="spark",
        help="spark (default; Spark SQL, starts a local JVM) or datafusion (local tables "
        "read by delta-rs, no JVM, answers in well under a second; DataFusion's SQL dialect)",
    )
    parser.add_argument(
        "--warehouse",
        metavar="ID",
        help="run on this Databricks SQL Warehouse (host and token from the usual "
        "databricks-sdk configuration); --catalog and --schema give bare names; "
        "takes no --root or --engine. The read-only check runs first, but the boundary "
        "that holds there is the warehouse's grants to whoever the SDK signs in as",
    )


def execute(args: argparse.Namespace) -> int:
    from streaming.read.output import format_rows

    columns, rows = answer(args, statement_of(args))
    print(format_rows(columns, rows, args.format))
    return 0


def statement_of(args: argparse.Namespace) -> str:
    """The statement from the argument, ``--file``, or standard input (``-``)."""
    if args.file and args.sql:
        raise ConfigError("give the SQL statement as an argument or with --file, not both")
    if args.file and args.file != "-":
        try:
            return Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise ConfigError(f"cannot read --file {args.file}: {reason}") from None
    if args.file == "-" or args.sql == "-":
        return sys.stdin.read()
    if args.sql is None:
        raise ConfigError("give a SQL statement, - to read it from standard input, or --file")
    return args.sql


def answer(args: argparse.Namespace, statement: str) -> tuple[list[str], list]:
    """Columns and rows from the engine the arguments name: every engine, one shape.

    Each engine refuses a statement that is not a read of the pipeline's tables
    (``check_statement``) before it reads anything, with the same one line.
    """
    if args.warehouse:
        return _on_warehouse(args, statement)
    config = config_of(args)
    if args.engine == "datafusion":
        from streaming.read.datafusion_sql import run_sql_datafusion

        return run_sql_datafusion(config, statement)
    record = access.served(config)
    if record is not None:
        from streaming.read.serve_client import ask

        reply = ask(record, "/sql", {"statement": statement})
        return reply["columns"], reply["rows"]
    from streaming.read.read_only import check_statement, table_names
    from streaming.read.spark_sql import answer_sql

    check_statement(statement, table_names(config))  # before Spark starts: no JVM to refuse
    return answer_sql(access.spark(config), config, statement)


def _on_warehouse(args: argparse.Namespace, statement: str) -> tuple[list[str], list]:
    # A warehouse reads tables by name: a local root, an engine or a volume would be
    # silently ignored (--target is not: dev and prod name Unity Catalog too).
    ignored = [
        flag
        for flag, given in (
            ("--root", args.root),
            ("--engine", args.engine != "spark"),
            ("--landing-volume", args.landing_volume != LANDING_VOLUME),
            ("--checkpoint-volume", args.checkpoint_volume != CHECKPOINT_VOLUME),
        )
        if given
    ]
    if ignored:
        raise ConfigError(
            f"--warehouse runs on Databricks and takes no {' or '.join(ignored)}; "
            "name the tables' place with --catalog and --schema"
        )
    from streaming.read.warehouse import run_on_warehouse

    return run_on_warehouse(statement, args.warehouse, catalog=args.catalog, schema=args.schema)
