"""SQL over the pipeline's tables with Spark: the tables under their bare names."""

from __future__ import annotations

from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession

from checkpoints_config import PipelineConfig
from streaming.errors import LakehouseError, first_line
from streaming.read_only import check_statement
from streaming.tables import table_exists


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
