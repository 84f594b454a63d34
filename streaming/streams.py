"""The edges of each stream: reading sources, the one sink helper, and the foreachBatch writers.

Exactly once: bronze relies on the Delta sink's own transaction log; every write made
inside ``foreachBatch`` carries Delta's idempotent-write pair (``txnAppId`` = the
query's id kept in its checkpoint, ``txnVersion`` = the batch id), so a batch re-run
after a crash skips what it already committed.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from checkpoints_config import PipelineConfig, StreamConfig, TableRef
from streaming.tables import delta_table
from streaming.transforms import gold, silver
from streaming.transforms.bronze import with_parsed_envelope

BatchFunction = Callable[[DataFrame, int], None]

# Each landed file whole, as one row; any depth of folders; only the contract's names.
LANDING_FILE_OPTIONS = {
    "wholetext": "true",
    "recursiveFileLookup": "true",
    "pathGlobFilter": "*.json",
}

_TXN_APP_ID = "spark.databricks.delta.write.txnAppId"
_TXN_VERSION = "spark.databricks.delta.write.txnVersion"


def read_landing(spark: SparkSession, config: PipelineConfig) -> DataFrame:
    """Landed page files as a stream of (``raw``, ``_source_file``) rows, one per file.

    Auto Loader (``cloudFiles``) on Databricks, Spark's file source locally; files are
    read whole as text so bronze keeps each one byte for byte.
    """
    stream = config.bronze
    if config.use_auto_loader:
        reader = (
            spark.readStream.format("cloudFiles")
            .option("cloudFiles.format", "text")
            .option("cloudFiles.schemaLocation", stream.schema_location)
            .option("cloudFiles.includeExistingFiles", "true")
        )
        if stream.max_files_per_trigger:
            reader = reader.option("cloudFiles.maxFilesPerTrigger", stream.max_files_per_trigger)
        return as_landed_files(reader.options(**LANDING_FILE_OPTIONS).load(config.landing_path))
    reader = spark.readStream.format("text")
    if stream.max_files_per_trigger:
        reader = reader.option("maxFilesPerTrigger", stream.max_files_per_trigger)
    files_df = reader.options(**LANDING_FILE_OPTIONS).load(config.landing_path)
    # Small files are packed into read splits whose count Spark only loosely bounds
    # (3 for a 5,000-file batch on 2 cores): at most one bronze file per shuffle
    # partition per batch keeps the table's file count in step with its commits.
    partitions = int(spark.conf.get("spark.sql.shuffle.partitions"))
    return as_landed_files(files_df).coalesce(partitions)


def as_landed_files(text_df: DataFrame) -> DataFrame:
    """(``raw``, ``_source_file``) from a whole-text read of landing files."""
    return text_df.select(
        F.col("value").alias("raw"), F.col("_metadata.file_path").alias("_source_file")
    )


def read_table_stream(
    spark: SparkSession, ref: TableRef, *, change_feed: bool = False, max_files: int | None = None
) -> DataFrame:
    """A Delta table as a stream: its appends, or its change data feed."""
    reader = spark.readStream.format("delta")
    if change_feed:
        reader = reader.option("readChangeFeed", "true")
    if max_files:
        reader = reader.option("maxFilesPerTrigger", max_files)
    return reader.table(ref.full_name) if ref.full_name else reader.load(ref.path)


def start_stream(
    df: DataFrame,
    stream: StreamConfig,
    *,
    sink: TableRef | None = None,
    foreach_batch: BatchFunction | None = None,
) -> StreamingQuery:
    """Start ``df`` with the stream's name, checkpoint and trigger.

    The sink is either a Delta table (append) or a foreachBatch function.
    """
    writer = (
        df.writeStream.queryName(stream.query_name)
        .option("checkpointLocation", stream.checkpoint_location)
        .trigger(**stream.trigger.as_kwargs())
    )
    if foreach_batch is not None:
        return writer.foreachBatch(foreach_batch).start()
    if sink is None:
        raise ValueError("start_stream needs a sink or a foreach_batch function")
    writer = writer.format("delta").outputMode("append")
    return writer.toTable(sink.full_name) if sink.full_name else writer.start(sink.path)


def bronze_stream(spark: SparkSession, config: PipelineConfig) -> StreamingQuery:
    """Landing files → bronze (append-only)."""
    bronze_df = read_landing(spark, config).transform(with_parsed_envelope)
    return start_stream(bronze_df, config.bronze, sink=config.table("bronze"))


def silver_stream(spark: SparkSession, config: PipelineConfig) -> StreamingQuery:
    """Bronze appends → silver MERGE, quarantine and DQ metrics."""
    source = read_table_stream(
        spark, config.table("bronze"), max_files=config.silver.max_files_per_trigger
    )
    return start_stream(source, config.silver, foreach_batch=SilverBatchWriter(config))


def gold_stream(spark: SparkSession, config: PipelineConfig) -> StreamingQuery:
    """Silver's change feed → gold MERGE."""
    source = read_table_stream(spark, config.table("silver"), change_feed=True)
    return start_stream(source, config.gold, foreach_batch=GoldBatchWriter(config))


STARTERS: dict[str, Callable[[SparkSession, PipelineConfig], StreamingQuery]] = {
    "bronze": bronze_stream,
    "silver": silver_stream,
    "gold": gold_stream,
}


class QueryIdentity:
    """The id of the query owning a checkpoint, read once from the checkpoint's metadata.

    It survives restarts and changes when the checkpoint is deleted, which makes it the
    right ``txnAppId``: a fresh checkpoint restarting at batch 0 is not mistaken for a replay.
    """

    def __init__(self, checkpoint_location: str) -> None:
        self.checkpoint_location = checkpoint_location
        self._id: str | None = None

    def get(self, spark: SparkSession) -> str:
        if self._id is None:
            path = f"{self.checkpoint_location.rstrip('/')}/metadata"
            if path.startswith("/"):  # a local folder, or a /Volumes path on Databricks
                with open(path, encoding="utf-8") as handle:
                    line = handle.readline()
            else:  # a cloud URI only Spark can read
                line = spark.read.text(path).first()[0]
            self._id = json.loads(line)["id"]
        return self._id


def append_once(df: DataFrame, ref: TableRef, app_id: str, batch_id: int) -> None:
    """Append ``df`` to ``ref`` unless this (app id, batch id) was already committed there."""
    writer = (
        df.write.format("delta")
        .mode("append")
        .option("txnAppId", app_id)
        .option("txnVersion", batch_id)
    )
    if ref.full_name:
        writer.saveAsTable(ref.full_name)
    else:
        writer.save(ref.path)


@contextlib.contextmanager
def once_per_batch(spark: SparkSession, app_id: str, batch_id: int) -> Iterator[None]:
    """Make the Delta DML (MERGE) inside the block idempotent for (app id, batch id)."""
    spark.conf.set(_TXN_APP_ID, app_id)
    spark.conf.set(_TXN_VERSION, str(batch_id))
    try:
        yield
    finally:
        spark.conf.unset(_TXN_APP_ID)
        spark.conf.unset(_TXN_VERSION)


def merge_silver(spark: SparkSession, ref: TableRef, updates_df: DataFrame) -> None:
    """MERGE deduplicated titles into silver.

    A newer observation wins, an older one never overwrites, and a replayed one changes nothing.
    """
    now = F.current_timestamp()
    content = {
        name: F.col(f"s.{name}") for name in silver.SILVER_COLUMNS if name != "first_seen_at"
    }
    (
        delta_table(spark, ref)
        .alias("t")
        .merge(updates_df.alias("s"), "t.imdb_id = s.imdb_id")
        .whenMatchedUpdate(
            condition="s.last_seen_at > t.last_seen_at",
            set={
                **content,
                "first_seen_at": F.least("t.first_seen_at", "s.first_seen_at"),
                "_updated_at": now,
            },
        )
        .whenMatchedUpdate(
            condition="s.first_seen_at < t.first_seen_at",
            set={"first_seen_at": F.col("s.first_seen_at"), "_updated_at": now},
        )
        .whenNotMatchedInsert(
            values={name: F.col(f"s.{name}") for name in silver.SILVER_COLUMNS}
            | {"_updated_at": now}
        )
        .execute()
    )


def merge_gold(spark: SparkSession, ref: TableRef, deltas_df: DataFrame) -> None:
    """MERGE net count changes into gold; a count reaching zero deletes its row."""
    now = F.current_timestamp()
    (
        delta_table(spark, ref)
        .alias("t")
        .merge(
            deltas_df.alias("s"),
            "t.release_year = s.release_year AND t.media_type = s.media_type",
        )
        .whenMatchedDelete(condition="t.total_releases + s.count_delta <= 0")
        .whenMatchedUpdate(
            set={"total_releases": F.expr("t.total_releases + s.count_delta"), "updated_at": now}
        )
        .whenNotMatchedInsert(
            condition="s.count_delta > 0",
            values={
                "release_year": F.col("s.release_year"),
                "media_type": F.col("s.media_type"),
                "total_releases": F.col("s.count_delta"),
                "updated_at": now,
            },
        )
        .execute()
    )


def on_serverless() -> bool:
    """Databricks serverless compute (Spark Connect), which has no DataFrame cache."""
    return os.environ.get("DATABRICKS_RUNTIME_VERSION", "").startswith("client.")


@contextlib.contextmanager
def reused(df: DataFrame) -> Iterator[DataFrame]:
    """``df`` persisted for the block where the engine allows it, unpersisted after."""
    if on_serverless():
        yield df
        return
    persisted = df.persist()
    try:
        yield persisted
    finally:
        persisted.unpersist()


class SilverBatchWriter:
    """foreachBatch of the silver stream: MERGE titles, quarantine failures, record DQ counts.

    Three writes to three tables, each idempotent for (query id, batch id): if the batch
    dies between them, its re-run skips the writes already committed and makes the rest.
    """

    def __init__(self, config: PipelineConfig) -> None:
        self.config = config
        self.identity = QueryIdentity(config.silver.checkpoint_location)

    def __call__(self, bronze_df: DataFrame, batch_id: int) -> None:
        spark = bronze_df.sparkSession
        app_id = self.identity.get(spark)
        # Read several times below (MERGE, quarantine, counts): read the files once.
        with reused(bronze_df) as pages_df:
            results_df = pages_df.transform(silver.explode_search_results).transform(
                silver.clean_search_results
            )
            with reused(results_df) as checked_df:
                counts = silver.rule_counts(checked_df, pages_df)
                self.write_titles(checked_df, app_id, batch_id)
                if any(failed for _, _, failed in counts):
                    self.write_quarantine(checked_df, pages_df, app_id, batch_id)
                self.write_metrics(spark, counts, app_id, batch_id)

    def write_titles(self, checked_df: DataFrame, app_id: str, batch_id: int) -> None:
        updates_df = checked_df.transform(silver.filter_valid_records).transform(
            silver.deduplicate_titles
        )
        spark = checked_df.sparkSession
        with once_per_batch(spark, app_id, batch_id):
            merge_silver(spark, self.config.table("silver"), updates_df)

    def write_quarantine(
        self, checked_df: DataFrame, bronze_df: DataFrame, app_id: str, batch_id: int
    ) -> None:
        quarantine_df = (
            checked_df.transform(silver.filter_invalid_records)
            .transform(silver.to_quarantine_records)
            .unionByName(silver.to_quarantined_pages(bronze_df))
            .withColumn("_batch_id", F.lit(batch_id).cast("long"))
            .withColumn("_quarantined_at", F.current_timestamp())
            .coalesce(1)  # a small share of each batch: one file, not one per input split
        )
        append_once(quarantine_df, self.config.table("quarantine"), app_id, batch_id)

    def write_metrics(
        self, spark: SparkSession, counts: list[tuple[str, int, int]], app_id: str, batch_id: int
    ) -> None:
        metrics_df = spark.createDataFrame(
            [("silver", batch_id, rule, passed, failed) for rule, passed, failed in counts],
            "stream string, batch_id long, rule string, passed long, failed long",
        ).withColumn("recorded_at", F.current_timestamp())
        # A handful of rows: one file per batch, not one per default partition.
        append_once(metrics_df.coalesce(1), self.config.table("dq_metrics"), app_id, batch_id)


class GoldBatchWriter:
    """foreachBatch of the gold stream: apply silver's net changes to the release counts."""

    def __init__(self, config: PipelineConfig) -> None:
        self.config = config
        self.identity = QueryIdentity(config.gold.checkpoint_location)

    def __call__(self, changes_df: DataFrame, batch_id: int) -> None:
        spark = changes_df.sparkSession
        deltas_df = changes_df.transform(gold.with_count_delta).transform(
            gold.aggregate_release_deltas
        )
        with once_per_batch(spark, self.identity.get(spark), batch_id):
            merge_gold(spark, self.config.table("gold"), deltas_df)
