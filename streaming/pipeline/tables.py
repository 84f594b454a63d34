"""Table specs (schema, comment, properties) and every table operation, through SQL.

Tables are reached by path locally and by name in Unity Catalog; every operation is
SQL or the DataFrame reader, so the same code runs on local Spark, Spark Connect and
Databricks (serverless included).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import (
    ArrayType,
    DataType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from checkpoints_config import PipelineConfig, TableRef
from producers.landing import ENVELOPE_FIELDS
from streaming.pipeline.checkpoints import has_commits, live_files

# A local table is compacted once its newest version holds this many data files (Delta's
# auto compaction waits for as many small files; it is off in local sessions: see
# streaming.runtime.session.LOCAL_CONF).
COMPACT_AT_FILES = 50


def _fields(*specs: tuple[str, object]) -> StructType:
    return StructType([StructField(name, dtype, True) for name, dtype in specs])  # type: ignore[arg-type]


_ATOMIC = {"string": StringType(), "int": IntegerType()}


def spark_type(spec: object) -> DataType:
    """The Spark type of a field spec of the landing contract (``producers.landing``)."""
    if isinstance(spec, dict):
        return _fields(*((name, spark_type(inner)) for name, inner in spec.items()))
    if isinstance(spec, list):
        return ArrayType(spark_type(spec[0]))
    return _ATOMIC[spec]  # type: ignore[index]


# The landing envelope as bronze parses it.
ENVELOPE = spark_type(ENVELOPE_FIELDS)

BRONZE = _fields(
    ("raw", StringType()),
    *[(f.name, f.dataType) for f in ENVELOPE.fields if f.name != "fetched_at"],
    ("fetched_at", TimestampType()),
    ("_corrupt_reason", StringType()),
    ("_source_file", StringType()),
    ("_ingested_at", TimestampType()),
)

SILVER = _fields(
    ("imdb_id", StringType()),
    ("movie_title", StringType()),
    ("release_year", IntegerType()),
    ("end_year", IntegerType()),
    ("media_type", StringType()),
    ("poster_url", StringType()),
    ("first_seen_at", TimestampType()),
    ("last_seen_at", TimestampType()),
    ("_source_file", StringType()),
    ("_updated_at", TimestampType()),
)

QUARANTINE = _fields(
    ("failed_rules", ArrayType(StringType())),
    ("record", StringType()),
    ("_source_file", StringType()),
    ("result_index", IntegerType()),
    ("fetched_at", TimestampType()),
    ("_batch_id", LongType()),
    ("_quarantined_at", TimestampType()),
)

GOLD = _fields(
    ("release_year", IntegerType()),
    ("media_type", StringType()),
    ("total_releases", LongType()),
    ("updated_at", TimestampType()),
    ("_silver_version", LongType()),
)

DQ_METRICS = _fields(
    ("stream", StringType()),
    ("batch_id", LongType()),
    ("rule", StringType()),
    ("passed", LongType()),
    ("failed", LongType()),
    ("recorded_at", TimestampType()),
)


@dataclass(frozen=True)
class TableSpec:
    """One table's shape: its schema, comment, Delta table properties and clustering."""

    schema: StructType
    comment: str
    properties: Mapping[str, str] = field(default_factory=dict)
    cluster_by: tuple[str, ...] = ()

    def create_sql(self, sql_name: str, extra: Mapping[str, str] | None = None) -> str:
        """``CREATE TABLE IF NOT EXISTS`` for this spec under ``sql_name``, with the
        spec's table properties and ``extra`` ones (maintenance's)."""
        columns = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in self.schema)
        properties = ", ".join(f"'{k}' = '{v}'" for k, v in self.all_properties(extra).items())
        return (
            f"CREATE TABLE IF NOT EXISTS {sql_name} ({columns}) USING DELTA "
            + (f"CLUSTER BY ({self.cluster_sql()}) " if self.cluster_by else "")
            + f"COMMENT '{sql_string(self.comment)}'"
            + (f" TBLPROPERTIES ({properties})" if properties else "")
        )

    def cluster_sql(self) -> str:
        """The clustering columns as SQL (``CLUSTER BY (…)``)."""
        return ", ".join(f"`{name}`" for name in self.cluster_by)

    def all_properties(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        return {**(extra or {}), **self.properties}


def sql_string(text: str) -> str:
    """``text`` as the inside of a single-quoted SQL string literal."""
    return text.replace("\\", "\\\\").replace("'", "\\'")


# For the append-only tables, which are read whole and never filtered: no min/max per
# column in each file's log entry, only its row count. Bronze's entry was 1.3 KB, nearly
# all of it the raw page's and envelope's bounds, and it rides in every commit, in the
# checksum Delta writes beside each commit (every live file's entry, up to 50 files) and
# in every checkpoint: most of an always-on bronze's log.
NO_COLUMN_STATS: Mapping[str, str] = {"delta.dataSkippingNumIndexedCols": "0"}

TABLES: dict[str, TableSpec] = {
    "bronze": TableSpec(
        BRONZE,
        "OMDb search pages as landed: raw line, parsed envelope, source file.",
        NO_COLUMN_STATS,
    ),
    "silver": TableSpec(
        SILVER,
        "One row per OMDb title (imdb_id), cleaned; the newest observation wins.",
        {
            # Gold follows silver through its change data feed, on from version 0.
            "delta.enableChangeDataFeed": "true",
            # A MERGE marks the rows it replaces in a deletion vector and writes only the
            # changed rows, instead of rewriting every file holding one: a small batch
            # adds KiB to disk, not a copy of silver (delta-rs's SQL reads them too).
            "delta.enableDeletionVectors": "true",
        },
        # Compaction (OPTIMIZE) lays silver out by title, so each file holds a narrow
        # range of ids and a small batch's MERGE, which names its titles, skips the rest
        # (streaming.pipeline.writers.key_filter).
        cluster_by=("imdb_id",),
    ),
    "quarantine": TableSpec(
        QUARANTINE,
        "Search results and pages that failed a silver rule, with the rule names.",
        NO_COLUMN_STATS,
    ),
    "gold": TableSpec(
        GOLD,
        "Release counts per (release_year, media_type); _silver_version is the last silver "
        "commit applied to the row.",
        {
            # Its MERGE rewrites counts in place. With deletion vectors (and no partition)
            # Databricks resolves a MERGE beside an OPTIMIZE, predictive optimization's
            # included, row by row instead of failing one of them (row-level concurrency).
            "delta.enableDeletionVectors": "true",
        },
    ),
    "dq_metrics": TableSpec(
        DQ_METRICS,
        "Passed and failed counts per data-quality rule and micro-batch.",
        NO_COLUMN_STATS,
    ),
}


def ensure_tables(spark: SparkSession, config: PipelineConfig) -> None:
    """Create every pipeline table that does not exist yet; existing ones are left alone."""
    if config.on_unity_catalog:
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS `{config.catalog}`.`{config.schema}`")
    for ref in config.all_tables():
        # IF NOT EXISTS loads the table's snapshot (Spark jobs, seconds in a new JVM);
        # a local table already committed needs none of that.
        if not ref.full_name and has_commits(ref.path):
            continue
        spark.sql(TABLES[ref.key].create_sql(ref.sql_name, config.maintenance.table_properties()))


def read_table(spark: SparkSession, ref: TableRef) -> DataFrame:
    """A batch read of ``ref``."""
    if ref.full_name:
        return spark.read.table(ref.full_name)
    return spark.read.format("delta").load(ref.path)


def table_exists(spark: SparkSession, ref: TableRef) -> bool:
    """True when ``ref`` is a Delta table."""
    if ref.full_name:
        return spark.catalog.tableExists(ref.full_name)
    return has_commits(ref.path)


def history(spark: SparkSession, ref: TableRef, limit: int | None = None) -> DataFrame:
    """``DESCRIBE HISTORY`` of ``ref``, newest first."""
    return spark.sql(f"DESCRIBE HISTORY {ref.sql_name}" + (f" LIMIT {int(limit)}" if limit else ""))


def table_version(spark: SparkSession, ref: TableRef) -> int:
    """The table's current version."""
    return int(history(spark, ref, 1).first()["version"])


def empty_table(spark: SparkSession, ref: TableRef) -> None:
    """Delete every row of ``ref`` (a new version; the history stays)."""
    spark.sql(f"DELETE FROM {ref.sql_name}")


def compact_if_due(spark: SparkSession, ref: TableRef, at_files: int | None = None) -> bool:
    """``OPTIMIZE`` a local table whose newest version holds ``at_files`` data files or more
    (``COMPACT_AT_FILES`` by default); True when it did.

    The count is read from the log's checksum file: a table with nothing due costs no
    Spark job. Call it from the table's only writer (between its commits) or, for a table
    that is only appended to, from anywhere: a compaction cannot conflict with an append,
    but it can with a MERGE. Unity Catalog tables are left to predictive optimization.
    """
    if ref.full_name:
        return False
    files = live_files(ref.path)
    if files is None or files < (at_files or COMPACT_AT_FILES):
        return False
    spark.sql(f"OPTIMIZE {ref.sql_name}")
    return True
