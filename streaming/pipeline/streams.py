"""The edges of each stream: reading its source, and the one sink helper that starts it."""

from __future__ import annotations

import re
from collections.abc import Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from checkpoints_config import PipelineConfig, StreamConfig, TableRef
from checkpoints_config.targets import SPARK_GLOB_CHARS
from producers.landing import SPARK_READ_OPTIONS
from streaming.pipeline.archive import source_options

BatchFunction = Callable[[DataFrame, int], None]

_GLOB_CHARS = re.compile(f"([{re.escape(SPARK_GLOB_CHARS)}])")


def literal_path(path: str) -> str:
    """``path`` as Spark's file sources read it literally: glob characters escaped.

    The file sources expand ``[ ] { } * ?`` in the path they are given, so a folder
    named ``runs [2026]`` would be read as a pattern and match nothing.
    """
    return _GLOB_CHARS.sub(r"\\\1", path)


def read_landing(spark: SparkSession, config: PipelineConfig) -> DataFrame:
    """Landed page files as a stream of (``raw``, ``_source_file``) rows, one per file.

    Auto Loader (``cloudFiles``) on Databricks, Spark's file source locally; files are
    read whole as text so bronze keeps each one byte for byte, and moved to the archive
    once read (``streaming.pipeline.archive``).
    """
    stream = config.bronze
    landing = literal_path(config.landing_path)
    if config.use_auto_loader:
        reader = (
            spark.readStream.format("cloudFiles")
            .option("cloudFiles.format", "text")
            .option("cloudFiles.schemaLocation", stream.schema_location)
            .option("cloudFiles.includeExistingFiles", "true")
        )
        if stream.max_files_per_trigger:
            reader = reader.option("cloudFiles.maxFilesPerTrigger", stream.max_files_per_trigger)
        reader = reader.options(**SPARK_READ_OPTIONS, **source_options(config))
        return as_landed_files(reader.load(landing))
    reader = spark.readStream.format("text")
    if stream.max_files_per_trigger:
        reader = reader.option("maxFilesPerTrigger", stream.max_files_per_trigger)
    files_df = reader.options(**SPARK_READ_OPTIONS, **source_options(config)).load(landing)
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
