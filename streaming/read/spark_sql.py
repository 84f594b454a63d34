"""SQL over the pipeline's tables with Spark: the tables under their bare names.

A local classic session answers in a session of its own (``reader_session``) with the
engine's own switches that run more than a read turned off; the statement is checked
twice before it runs, by ``read_only`` and by Spark's own parser (``spark_parse``).
"""

from __future__ import annotations

import re
import weakref

from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, Row, SparkSession

from checkpoints_config import PipelineConfig
from streaming.errors import query_failed
from streaming.pipeline.tables import table_exists
from streaming.read.read_only import check_statement, table_names
from streaming.read.spark_parse import check_spark_parse

# Switched off where queries are answered: ``${…}`` substitution before parsing, and SQL on
# any path (``text.`/etc/passwd```). The pipeline's own sessions need the second: they
# name a local table as ``delta.`<path>```.
READER_CONFS = {"spark.sql.variable.substitute": "false", "spark.sql.runSQLOnFiles": "false"}
# One reader per session: a process that queries twice registers its views once.
_READERS: weakref.WeakKeyDictionary[SparkSession, SparkSession] = weakref.WeakKeyDictionary()


def reader_session(spark: SparkSession, config: PipelineConfig) -> SparkSession:
    """The session that answers queries: for a local root on classic Spark, a new session
    (its own views and confs) with ``READER_CONFS``; otherwise ``spark`` itself (a Spark
    Connect or Databricks session keeps its confs: serverless refuses these)."""
    if config.on_unity_catalog or getattr(spark, "_jsparkSession", None) is None:
        return spark
    reader = _READERS.get(spark)
    if reader is None:
        reader = _READERS[spark] = spark.newSession()
        for key, value in READER_CONFS.items():
            reader.conf.set(key, value)
    return reader


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
    """Run ``statement`` with the tables registered under their bare names, on
    ``reader_session(spark)``.

    Raises:
        ConfigError: the statement is empty or is not a read of the pipeline's tables
            (``check_statement``, then ``check_spark_parse``).
        LakehouseError: Spark rejects it (message in one line).
    """
    tables = table_names(config)
    check_statement(statement, tables)
    spark = reader_session(spark, config)
    check_spark_parse(spark, statement, tables)
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
