"""Exactly once by data: the helpers every foreachBatch writer uses, whatever the layer.

No session conf is set anywhere: appends carry Delta's idempotent-write pair as writer
options (``txnAppId`` = the id of the query owning the checkpoint, ``txnVersion`` =
the batch id), and MERGEs are made idempotent by conditions on the data they write
(see ``streaming.pipeline.writers``). That is what runs alike on local Spark, Spark Connect and
Databricks serverless, which refuses most session confs.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

from pyspark.sql import DataFrame, SparkSession

from checkpoints_config import TableRef
from streaming.pipeline.streams import literal_path


def checkpoint_query_id(spark: SparkSession, checkpoint_location: str) -> str | None:
    """The id of the query that owns a checkpoint, read through Spark; None before its first start.

    It survives restarts and changes when the checkpoint is deleted, which makes it the
    right ``txnAppId``: a fresh checkpoint restarting at batch 0 is not taken for a replay.
    Spark reads it, so the answer is the same on a laptop, over Spark Connect (where the
    server, not the client, sees the files) and in a volume or cloud location.
    """
    path = f"{checkpoint_location.rstrip('/')}/metadata"
    try:
        line = spark.read.text(literal_path(path)).first()
    except Exception as exc:  # PATH_NOT_FOUND: the query never started with this checkpoint
        if "PATH_NOT_FOUND" in str(exc) or "does not exist" in str(exc):
            return None
        raise
    return json.loads(line[0])["id"] if line else None


class QueryIdentity:
    """A checkpoint's query id: read on the driver before the stream starts when the
    checkpoint exists, else through Spark by the first batch (Spark writes it at start)."""

    def __init__(self, checkpoint_location: str, query_id: str | None = None) -> None:
        self.checkpoint_location = checkpoint_location
        self.query_id = query_id

    @classmethod
    def read(cls, spark: SparkSession, checkpoint_location: str) -> QueryIdentity:
        """The identity as known on the driver now (before the query starts)."""
        return cls(checkpoint_location, checkpoint_query_id(spark, checkpoint_location))

    def get(self, spark: SparkSession) -> str:
        if self.query_id is None:
            self.query_id = checkpoint_query_id(spark, self.checkpoint_location)
        if self.query_id is None:
            raise RuntimeError(f"no query id in checkpoint {self.checkpoint_location}")
        return self.query_id


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
def reused(df: DataFrame, cache: bool) -> Iterator[DataFrame]:
    """``df`` persisted for the block when ``cache`` (decided on the driver), unpersisted after."""
    if not cache:
        yield df
        return
    persisted = df.persist()
    try:
        yield persisted
    finally:
        persisted.unpersist()
