"""SQL over the pipeline's tables, and the rows printed as a table, CSV or JSON."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
from collections.abc import Sequence
from typing import Any

from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession

from checkpoints_config import PipelineConfig
from streaming.errors import LakehouseError, first_line
from streaming.read_only import check_statement
from streaming.tables import table_exists

FORMATS = ("table", "csv", "json")


def register_tables(spark: SparkSession, config: PipelineConfig) -> list[str]:
    """Make the tables answer to their bare names; returns the names available.

    Locally each existing Delta folder becomes a temporary view (no metastore, so a
    second process can query while ``run`` writes); on Databricks the session moves
    to the target's catalog and schema.
    """
    if config.on_unity_catalog:
        spark.sql(f"USE CATALOG `{config.catalog}`")
        spark.sql(f"USE SCHEMA `{config.schema}`")
        return [ref.name for ref in config.all_tables()]
    names = []
    for ref in config.all_tables():
        if table_exists(spark, ref):
            spark.read.format("delta").load(ref.path).createOrReplaceTempView(ref.name)
            names.append(ref.name)
    return names


def run_sql(spark: SparkSession, config: PipelineConfig, statement: str) -> DataFrame:
    """Run ``statement`` with the tables registered under their bare names.

    Raises:
        ConfigError: the statement is empty or could write (``check_statement``).
        LakehouseError: Spark rejects it (message in one line).
    """
    check_statement(statement)
    available = register_tables(spark, config)
    try:
        return spark.sql(statement)
    except PySparkException as exc:
        raise query_failed(exc, tables_exist=bool(available)) from exc


def query_failed(error: BaseException, *, tables_exist: bool = True) -> LakehouseError:
    """An engine's rejection of a statement, as one line (with a hint when no table exists)."""
    hint = "" if tables_exist else " (no tables yet: run the pipeline first)"
    return LakehouseError(f"query failed: {first_line(error)}{hint}")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "asDict"):
        return {k: _plain(v) for k, v in value.asDict().items()}
    return value


def format_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> str:
    """Rows as ``json`` (an array of objects), ``csv`` (with a header) or an aligned ``table``."""
    plain = [[_plain(v) for v in row] for row in rows]
    if fmt == "json":
        return json.dumps(
            [dict(zip(columns, row, strict=True)) for row in plain], ensure_ascii=False
        )
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(["" if v is None else v for v in row] for row in plain)
        return out.getvalue().rstrip("\n")
    if fmt == "table":
        return _text_table(columns, plain)
    raise LakehouseError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def _text_table(columns: Sequence[str], rows: list[list[Any]]) -> str:
    cells = [[str(c) for c in columns]] + [
        ["NULL" if v is None else str(v) for v in row] for row in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    numeric = [
        all(isinstance(row[i], int | float) or row[i] is None for row in rows) and bool(rows)
        for i in range(len(columns))
    ]

    def line(row: list[str]) -> str:
        return "  ".join(
            cell.rjust(w) if num else cell.ljust(w)
            for cell, w, num in zip(row, widths, numeric, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    body = [line(row) for row in cells[1:]]
    footer = f"({len(rows)} row{'s' if len(rows) != 1 else ''})"
    return "\n".join([line(cells[0]), rule, *body, footer])
