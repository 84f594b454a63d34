"""Exactly-once helpers that need no running query."""

from __future__ import annotations

import pytest

from streaming.pipeline.exactly_once import checkpoint_query_id, reused

pytestmark = pytest.mark.spark


def test_reused_persists_for_the_block_only(spark):
    df = spark.range(3)
    with reused(df, cache=True) as inside:
        assert inside.is_cached
    assert not inside.is_cached


def test_reused_without_cache_hands_back_the_same_frame(spark):
    # Serverless compute (Spark Connect) has no DataFrame cache: the driver decides.
    df = spark.range(3)
    with reused(df, cache=False) as inside:
        assert inside is df and not inside.is_cached


def test_checkpoint_query_id_is_read_through_spark(spark, tmp_path):
    assert checkpoint_query_id(spark, str(tmp_path / "never-started")) is None
    (tmp_path / "metadata").write_text('{"id":"6f9c0f9e-0000-4000-8000-000000000001"}\n')
    assert checkpoint_query_id(spark, str(tmp_path)) == "6f9c0f9e-0000-4000-8000-000000000001"
