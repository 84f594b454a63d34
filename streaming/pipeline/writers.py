"""The foreachBatch writers of silver, gold and quality: what each batch writes, exactly once.

Every MERGE is plain SQL over a temporary view of the batch, and is idempotent by its
data: silver keeps the newest observation per title (an older or replayed one changes
nothing); each gold row keeps the last silver commit version applied to it
(``_silver_version``) and a version already applied is skipped. The source of each
MERGE is first cut to the rows that will change the table, so a replayed batch finds
nothing to do and commits no version at all. A small batch's silver MERGE names its
titles, so Delta reads only the files that can hold them (``key_filter``). Appends
(quarantine, DQ metrics) carry Delta's idempotent-write options.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from checkpoints_config import PipelineConfig, TableRef
from checkpoints_config.targets import on_serverless
from streaming.pipeline.exactly_once import QueryIdentity, append_once, reused
from streaming.pipeline.tables import compact_if_due, read_table, sql_string
from streaming.pipeline.transforms import gold, silver

_SILVER_UPDATED = [c for c in silver.SILVER_COLUMNS if c != "first_seen_at"]
_GOLD_INSERTED = (*gold.GOLD_KEYS, "total_releases", "updated_at", "_silver_version")

# A batch with at most this many titles names them in its MERGE (a page has 10); a larger
# one (a backfill) touches most of silver's files anyway and is merged without the list.
PRUNE_AT_MOST_KEYS = 1000
# Past this many titles, neighbouring ones are named as one range: the filter's size,
# which Spark plans and Delta tests against every file several times per MERGE, stays
# bounded (300 equalities cost a new process 4 s; BENCHMARKS.md).
AT_MOST_RANGES = 16


def key_ranges(keys: Sequence[str], at_most: int = AT_MOST_RANGES) -> list[tuple[str, str]]:
    """The sorted distinct ``keys`` as at most ``at_most`` (first, last) runs, cut at the
    widest gaps between neighbours, so that the runs span as few other ids as they can."""
    ordered = sorted(set(keys))
    widest = sorted(
        range(1, len(ordered)),
        key=lambda i: _position(ordered[i]) - _position(ordered[i - 1]),
        reverse=True,
    )
    bounds = [0, *sorted(widest[: max(at_most - 1, 0)]), len(ordered)]
    return [(ordered[a], ordered[b - 1]) for a, b in itertools.pairwise(bounds) if b > a]


def _position(key: str) -> float:
    """Where a ``tt<digits>`` id falls in string order, as a fraction (0 for any other)."""
    digits = key[2:]
    return int(digits) / 10 ** len(digits) if digits.isdigit() else 0.0


def key_filter(column: str, keys: Sequence[str]) -> str:
    """SQL that is true where ``column`` is one of ``keys`` (past ``AT_MOST_RANGES`` keys,
    also between neighbouring ones).

    Written as equalities and ranges joined by OR, not IN: Delta's data skipping tests
    each against a file's min/max of the column, while an IN list is tested as one range
    from its smallest to its largest key, which spans nearly every file.
    """
    if not keys:
        return "false"
    terms = [
        f"{column} = '{sql_string(first)}'"
        if first == last
        else f"({column} >= '{sql_string(first)}' AND {column} <= '{sql_string(last)}')"
        for first, last in key_ranges(keys)
    ]
    return "(" + " OR ".join(terms) + ")"


def batch_keys(titles_df: DataFrame, at_most: int = PRUNE_AT_MOST_KEYS) -> list[str] | None:
    """The distinct ``imdb_id`` of a batch's titles, or None when there are more than
    ``at_most`` (one small Spark job)."""
    rows = titles_df.select("imdb_id").distinct().limit(at_most + 1).collect()
    return None if len(rows) > at_most else sorted(row["imdb_id"] for row in rows)


def merge_silver_sql(target: str, source: str, keys: Sequence[str] | None = None) -> str:
    """MERGE deduplicated titles into silver: a newer observation wins, an older one only
    lowers ``first_seen_at``; anything else (a replay) changes nothing.

    ``keys``, every ``imdb_id`` of the source when given, narrows the target to the
    files that can hold them; the outcome is the same, since no other row can match.
    """
    updates = ", ".join(f"{c} = s.{c}" for c in _SILVER_UPDATED)
    columns = [*silver.SILVER_COLUMNS, "_updated_at"]
    values = [f"s.{c}" for c in silver.SILVER_COLUMNS] + ["current_timestamp()"]
    on = "t.imdb_id = s.imdb_id" + ("" if keys is None else f" AND {key_filter('t.imdb_id', keys)}")
    return f"""
        MERGE INTO {target} t USING {source} s ON {on}
        WHEN MATCHED AND s.last_seen_at > t.last_seen_at THEN UPDATE SET {updates},
            first_seen_at = least(t.first_seen_at, s.first_seen_at),
            _updated_at = current_timestamp()
        WHEN MATCHED AND s.first_seen_at < t.first_seen_at THEN UPDATE SET
            first_seen_at = s.first_seen_at, _updated_at = current_timestamp()
        WHEN NOT MATCHED THEN INSERT ({", ".join(columns)}) VALUES ({", ".join(values)})
    """


def merge_gold_sql(target: str, source: str) -> str:
    """MERGE net count changes into gold, once per silver version; a count reaching zero
    deletes its row."""
    unseen = "s._silver_version > coalesce(t._silver_version, -1)"
    return f"""
        MERGE INTO {target} t USING {source} s
        ON t.release_year = s.release_year AND t.media_type = s.media_type
        WHEN MATCHED AND {unseen} AND t.total_releases + s.count_delta <= 0 THEN DELETE
        WHEN MATCHED AND {unseen} THEN UPDATE SET
            total_releases = t.total_releases + s.count_delta,
            updated_at = current_timestamp(),
            _silver_version = s._silver_version
        WHEN NOT MATCHED AND s.count_delta > 0 THEN INSERT ({", ".join(_GOLD_INSERTED)})
            VALUES (s.release_year, s.media_type, s.count_delta, current_timestamp(),
                    s._silver_version)
    """


def merge_changes(
    updates_df: DataFrame,
    ref: TableRef,
    changing: Callable[[DataFrame, DataFrame], DataFrame],
    merge_sql: Callable[[str, str], str],
    current_filter: str | None = None,
) -> None:
    """MERGE into ``ref`` the rows of ``updates_df`` that change it.

    Args:
        updates_df: the batch's rows for the table.
        ref: the target table.
        changing: ``(updates_df, current_df) -> rows that change the table``, so that a
            replay merges nothing (a MERGE whose source is empty commits no version).
        merge_sql: ``(target, source) -> MERGE statement``, idempotent by its conditions.
        current_filter: SQL over the table's columns that holds for every row ``updates_df``
            can match; the current rows are read only where it holds (the MERGE narrows
            its target alike).
    """
    spark = updates_df.sparkSession
    current_df = read_table(spark, ref)
    if current_filter is not None:
        current_df = current_df.where(current_filter)
    source_df = changing(updates_df, current_df)
    view = f"_omdb_{ref.key}_merge_source"
    source_df.createOrReplaceTempView(view)
    try:
        spark.sql(merge_sql(ref.sql_name, view))
    finally:
        spark.catalog.dropTempView(view)


class SilverBatchWriter:
    """foreachBatch of the silver stream: MERGE the batch's valid titles, nothing else.

    What failed a rule is quarantined and counted by the quality stream, from the same
    bronze rows with the same transforms, so that silver's batch, and gold after it,
    waits for no write gold does not need.
    """

    def __init__(self, config: PipelineConfig, *, cache: bool) -> None:
        self.config = config
        self.cache = cache

    @classmethod
    def on_driver(cls, spark: SparkSession, config: PipelineConfig) -> SilverBatchWriter:
        """The writer with what only the driver may decide: caching."""
        return cls(config, cache=not on_serverless())

    def __call__(self, bronze_df: DataFrame, batch_id: int) -> None:
        titles_df = (
            bronze_df.transform(silver.explode_search_results)
            .transform(silver.clean_search_results)
            .transform(silver.filter_valid_records)
            .transform(silver.deduplicate_titles)
        )
        # Read twice (the ids, the MERGE): read the files once.
        with reused(titles_df, self.cache) as titles:
            keys = batch_keys(titles)
            if keys == []:
                return  # no valid title (a page of errors, or bronze compacted): nothing to do
            merge_changes(
                titles,
                self.config.table("silver"),
                silver.filter_changing_titles,
                functools.partial(merge_silver_sql, keys=keys),
                current_filter=None if keys is None else key_filter("imdb_id", keys),
            )
        # Here, between two of its MERGEs, a compaction cannot conflict with one: about one
        # batch in COMPACT_AT_FILES pays it (no data change: gold reads none of it).
        compact_if_due(bronze_df.sparkSession, self.config.table("silver"))


class QualityBatchWriter:
    """foreachBatch of the quality stream: quarantine what fails a rule, record DQ counts.

    Two appends, each idempotent (Delta's txnAppId/txnVersion): if the batch dies between
    them, its re-run skips the one already committed and makes the other.
    """

    def __init__(self, config: PipelineConfig, identity: QueryIdentity, *, cache: bool) -> None:
        self.config = config
        self.identity = identity
        self.cache = cache

    @classmethod
    def on_driver(cls, spark: SparkSession, config: PipelineConfig) -> QualityBatchWriter:
        """The writer with what only the driver may decide: caching and the query id."""
        identity = QueryIdentity.read(spark, config.quality.checkpoint_location)
        return cls(config, identity, cache=not on_serverless())

    def __call__(self, bronze_df: DataFrame, batch_id: int) -> None:
        spark = bronze_df.sparkSession
        app_id = self.identity.get(spark)
        # Read several times below (quarantine, counts): read the files once.
        with reused(bronze_df, self.cache) as pages_df:
            results_df = pages_df.transform(silver.explode_search_results).transform(
                silver.clean_search_results
            )
            with reused(results_df, self.cache) as checked_df:
                counts = silver.rule_counts(checked_df, pages_df)
                if not silver.pages_in(counts):
                    return  # a batch of no page (bronze was compacted): nothing to count
                if any(failed for _, _, failed in counts):
                    self.write_quarantine(checked_df, pages_df, app_id, batch_id)
                self.write_metrics(spark, counts, app_id, batch_id)

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
        if not counts:
            return
        # Literals, not createDataFrame: a Python list would be unpickled by a Python
        # worker on each executor, which a cluster's executors need not have.
        rows = [
            F.struct(
                F.lit("quality").alias("stream"),
                F.lit(batch_id).cast("long").alias("batch_id"),
                F.lit(rule).alias("rule"),
                F.lit(passed).cast("long").alias("passed"),
                F.lit(failed).cast("long").alias("failed"),
            )
            for rule, passed, failed in counts
        ]
        metrics_df = (
            spark.range(1)
            .select(F.inline(F.array(*rows)))
            .withColumn("recorded_at", F.current_timestamp())
        )
        # A handful of rows: one file per batch, not one per default partition.
        append_once(metrics_df.coalesce(1), self.config.table("dq_metrics"), app_id, batch_id)


class GoldBatchWriter:
    """foreachBatch of the gold stream: apply silver's net changes to the release counts."""

    def __init__(self, config: PipelineConfig) -> None:
        self.config = config

    def __call__(self, changes_df: DataFrame, batch_id: int) -> None:
        deltas_df = changes_df.transform(gold.with_count_delta).transform(
            gold.aggregate_release_deltas
        )
        merge_changes(
            deltas_df, self.config.table("gold"), gold.filter_unapplied_deltas, merge_gold_sql
        )
        compact_if_due(changes_df.sparkSession, self.config.table("gold"))
