"""SQL over the pipeline's tables with Spark: the tables under their bare names."""

from __future__ import annotations

import re

from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, Row, SparkSession

from checkpoints_config import PipelineConfig
from streaming.errors import query_failed
from streaming.pipeline.tables import table_exists
from streaming.read.read_only import check_statement


def register_tables(
    spark: SparkSession, config: PipelineConfig, statement: str | None = None
) -> list[str]:
    """Make the tables answer to their bare names; returns the names available.

    Locally each existing Delta folder becomes a temporary view (no metastore, so a
    second process can query while ``run`` writes): only those ``statement`` names, when
    it names any (each view loads its table's snapshot, seconds in a new JVM), else all.
    On Databricks the session moves to the target's catalog and schema.
    """
    if config.on_unity_catalog:
        spark.sql(f"USE CATALOG `{config.catalog}`")
        spark.sql(f"USE SCHEMA `{config.schema}`")
        return [ref.name for ref in config.all_tables()]
    refs = config.all_tables()
    if statement is not None:
        words = set(re.findall(r"\w+", statement.lower()))
        refs = [ref for ref in refs if ref.name.lower() in words] or refs
    names = []
    for ref in refs:
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
    available = register_tables(spark, config, statement)
    try:
        return spark.sql(statement)
    except PySparkException as exc:
        raise query_failed(exc, tables_exist=bool(available)) from exc


def answer_sql(
    spark: SparkSession, config: PipelineConfig, statement: str
) -> tuple[list[str], list[Row]]:
    """``run_sql`` collected: the column names and the rows (the shape every engine gives).

    Raises:
        ConfigError, LakehouseError: as ``run_sql``, and errors that show only when the
            statement runs, in one line.
    """
    df = run_sql(spark, config, statement)
    try:
        return df.columns, df.collect()
    except Exception as exc:  # errors that show only when the query runs
        raise query_failed(exc) from exc
