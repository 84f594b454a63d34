"""Replaying a micro-batch with the same batch id changes nothing (Delta idempotent writes)."""

from __future__ import annotations

import pytest

from streaming.runner import run_available_now
from streaming.streams import GoldBatchWriter, SilverBatchWriter
from streaming.tables import read_table
from tests.invariants import assert_invariants, gold_counts, table_versions
from tests.pages import item

pytestmark = pytest.mark.spark


@pytest.fixture
def ran(spark, config, landing):
    landing.page(
        [
            item("tt0076759", "Star Wars", "1977"),
            item("tt0080684", "The Empire Strikes Back", "1980"),
            item("tt0458290", "The Clone Wars", "2008–2020", "series"),
            item("bad", "Bad id", "1999"),
        ]
    )
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


def test_replaying_a_gold_batch_does_not_double_count(spark, ran):
    changes = silver_changes(spark, ran)
    before = gold_counts(spark, ran)
    versions = table_versions(spark, ran)

    GoldBatchWriter(ran)(changes, 0)  # batch 0 was committed by the stream

    assert gold_counts(spark, ran) == before
    assert table_versions(spark, ran) == versions
    assert_invariants(spark, ran)


def test_the_same_changes_under_a_new_batch_id_are_applied(spark, ran):
    # The counter-test: without the (app id, batch id) guard the replay would count twice.
    changes = silver_changes(spark, ran)
    before = gold_counts(spark, ran)

    GoldBatchWriter(ran)(changes, 1)

    assert gold_counts(spark, ran) == {key: 2 * count for key, count in before.items()}


def test_replaying_a_silver_batch_changes_no_table(spark, ran):
    bronze = read_table(spark, ran.table("bronze"))
    versions = table_versions(spark, ran)

    SilverBatchWriter(ran)(bronze, 0)

    assert table_versions(spark, ran) == versions
    assert_invariants(spark, ran)
