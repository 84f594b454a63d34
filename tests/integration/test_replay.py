"""Replaying a micro-batch changes nothing: the writes are idempotent by their data.

Each test runs on local Spark and over Spark Connect.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from checkpoints_config import PipelineConfig, local
from streaming.pipeline.runner import run_available_now
from streaming.pipeline.tables import read_table
from streaming.pipeline.writers import GoldBatchWriter, QualityBatchWriter, SilverBatchWriter
from tests.conf_guard import MARK
from tests.invariants import assert_invariants, gold_counts, table_versions
from tests.pages import Landing, item

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def ran(on_runtime, tmp_path_factory) -> PipelineConfig:
    """One run per runtime, shared: a replay that does what it should changes no table."""
    config = local(tmp_path_factory.mktemp("replayed") / "lakehouse")
    Landing(config.landing_path).page(
        [
            item("tt0076759", "Star Wars", "1977"),
            item("tt0080684", "The Empire Strikes Back", "1980"),
            item("tt0458290", "The Clone Wars", "2008–2020", "series"),
            item("bad", "Bad id", "1999"),
        ]
    )
    with on_runtime() as spark:
        run_available_now(spark, config)
    return config


def silver_changes(spark, config):
    """Silver's whole change feed: what gold's first batch read."""
    return (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", 0)
        .load(config.table("silver").path)
    )


def test_replaying_a_gold_batch_does_not_double_count(any_spark, ran):
    spark = any_spark
    changes = silver_changes(spark, ran)
    before = gold_counts(ran)
    versions = table_versions(ran)

    GoldBatchWriter(ran)(changes, 0)  # batch 0 was committed by the stream

    assert gold_counts(ran) == before
    assert table_versions(ran) == versions
    assert_invariants(ran)


def test_the_same_changes_from_a_newer_silver_version_are_applied(any_spark, ran, tmp_path):
    spark = any_spark
    # The counter-test: without the guard on each row's silver version the replay
    # would count twice. It writes, so it writes to a copy of the shared run.
    changes = silver_changes(spark, ran).withColumn("_commit_version", F.lit(10**6))
    copy = local(tmp_path / "lakehouse")
    shutil.copytree(Path(ran.table_root).parent, Path(copy.table_root).parent)
    before = gold_counts(copy)

    GoldBatchWriter(copy)(changes, 1)

    assert gold_counts(copy) == {key: 2 * count for key, count in before.items()}
    assert gold_counts(ran) == before


@pytest.mark.parametrize("writer", [SilverBatchWriter, QualityBatchWriter])
def test_replaying_a_silver_or_quality_batch_changes_no_table(any_spark, ran, writer):
    spark = any_spark
    bronze = read_table(spark, ran.table("bronze"))
    versions = table_versions(ran)

    writer.on_driver(spark, ran)(bronze, 0)

    assert table_versions(ran) == versions
    assert_invariants(ran)


def test_the_conf_guard_trips_inside_foreach_batch_on_the_server(connect_spark, tmp_path):
    # The guard that keeps the pipeline serverless-safe must itself work where
    # foreachBatch runs: in the Connect server's Python workers, not in this process.
    def sets_a_txn_conf(batch_df, batch_id):
        batch_df.sparkSession.conf.set("spark.databricks.delta.write.txnAppId", "x")

    source = tmp_path / "in"
    source.mkdir()
    (source / "one.txt").write_text("one line\n")
    query = (
        connect_spark.readStream.format("text")
        .load(str(source))
        .writeStream.foreachBatch(sets_a_txn_conf)
        .option("checkpointLocation", str(tmp_path / "checkpoint"))
        .trigger(availableNow=True)
        .start()
    )
    with pytest.raises(Exception, match=MARK):
        query.awaitTermination()
