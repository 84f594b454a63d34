"""Gold: silver's change feed turned into per-(release_year, media_type) count changes."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

GOLD_KEYS = ("release_year", "media_type")

_SIGN = {"insert": 1, "update_postimage": 1, "update_preimage": -1, "delete": -1}


def with_count_delta(changes_df: DataFrame) -> DataFrame:
    """``count_delta``: +1 for a row that now exists, -1 for one that no longer does."""
    sign = F.lit(0)
    for change_type, value in _SIGN.items():
        sign = F.when(F.col("_change_type") == change_type, F.lit(value)).otherwise(sign)
    return changes_df.withColumn("count_delta", sign)


def aggregate_release_deltas(deltas_df: DataFrame) -> DataFrame:
    """Net count change per gold key, with the newest silver version (``_commit_version``)
    behind it as ``_silver_version``; keys whose changes cancel out are dropped."""
    return (
        deltas_df.where(F.col("release_year").isNotNull() & F.col("media_type").isNotNull())
        .groupBy(*GOLD_KEYS)
        .agg(
            F.sum("count_delta").cast("long").alias("count_delta"),
            F.max("_commit_version").cast("long").alias("_silver_version"),
        )
        .where(F.col("count_delta") != 0)
    )


def filter_unapplied_deltas(deltas_df: DataFrame, gold_df: DataFrame) -> DataFrame:
    """Count changes gold has not applied yet: from a silver version newer than the row's
    ``_silver_version``, or a positive count for a key gold does not hold.

    A replayed batch is left with nothing, so its MERGE commits nothing.
    """
    current_df = gold_df.select(
        *GOLD_KEYS,
        F.coalesce("_silver_version", F.lit(-1)).alias("_applied_version"),
        F.lit(True).alias("_exists"),
    )
    return (
        deltas_df.join(current_df, list(GOLD_KEYS), "left")
        .where(
            (F.col("_exists").isNull() & (F.col("count_delta") > 0))
            | (F.col("_silver_version") > F.col("_applied_version"))
        )
        .select(*deltas_df.columns)
    )


def release_counts(silver_df: DataFrame) -> DataFrame:
    """Gold computed from scratch: titles per (release_year, media_type)."""
    return silver_df.groupBy(*GOLD_KEYS).agg(F.count(F.lit(1)).alias("total_releases"))


def releases_per_media_type(gold_df: DataFrame) -> DataFrame:
    """Releases and years with any, per media type; the most releases first."""
    return (
        gold_df.groupBy("media_type")
        .agg(F.sum("total_releases").alias("releases"), F.count("*").alias("years"))
        .orderBy(F.desc("releases"), "media_type")
    )


def busiest_years(gold_df: DataFrame, top: int) -> DataFrame:
    """The ``top`` release years with the most releases (the later year first on a tie)."""
    return (
        gold_df.groupBy("release_year")
        .agg(F.sum("total_releases").alias("releases"))
        .orderBy(F.desc("releases"), F.desc("release_year"))
        .limit(top)
    )
