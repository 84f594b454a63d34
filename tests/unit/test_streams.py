"""Helpers at the stream edges that need no running query."""

from __future__ import annotations

import pytest

from streaming.streams import reused

pytestmark = pytest.mark.spark


def test_reused_persists_for_the_block_only(spark, monkeypatch):
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    df = spark.range(3)
    with reused(df) as inside:
        assert inside.is_cached
    assert not inside.is_cached


def test_reused_does_not_cache_on_serverless(spark, monkeypatch):
    # Serverless compute (Spark Connect) has no DataFrame cache: persist() would fail there.
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "client.2.5")
    df = spark.range(3)
    with reused(df) as inside:
        assert inside is df and not inside.is_cached
