"""What ``status`` shows: streams' progress (from checkpoints), tables' state, DQ counts.

Read with Spark (any target, any runtime) or, for a local root, with delta-rs: the same
figures in a fraction of a second and with no JVM.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from checkpoints_config import PipelineConfig
from producers.landing import SET_ASIDE, landed_files, set_aside_files
from streaming.pipeline.checkpoints import delta_versions_done, has_commits, last_committed_batch
from streaming.pipeline.layers import LANDING, layer

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@dataclass(frozen=True)
class StreamStatus:
    name: str
    last_batch: int | None
    last_batch_at: str | None
    lag: str


@dataclass(frozen=True)
class TableStatus:
    name: str
    version: int | None
    rows: int | None
    last_operation: str | None


@dataclass(frozen=True)
class RuleStatus:
    rule: str
    passed: int
    failed: int


@dataclass(frozen=True)
class Status:
    streams: list[StreamStatus]
    tables: list[TableStatus]
    rules: list[RuleStatus]


def collect_status(spark: SparkSession, config: PipelineConfig) -> Status:
    """Read checkpoints and tables with Spark; starts no query and writes nothing."""
    from streaming.pipeline.tables import history, read_table, table_exists

    tables: dict[str, TableStatus] = {}
    for ref in config.all_tables():
        if not table_exists(spark, ref):
            tables[ref.key] = TableStatus(ref.name, None, None, None)
            continue
        last = history(spark, ref, 1).first()
        rows = read_table(spark, ref).count()
        tables[ref.key] = TableStatus(ref.name, last["version"], rows, last["operation"])
    rules = rule_totals(spark, config) if tables["dq_metrics"].version is not None else []
    return Status(stream_statuses(config, tables), list(tables.values()), rules)


def collect_status_local(config: PipelineConfig) -> Status:
    """``collect_status`` for a local root, read with delta-rs: no JVM, no Spark job.

    Raises:
        ImportError: the deltalake package (the ``local`` extra) is not installed.
    """
    from deltalake import DeltaTable

    from streaming.read.delta_rs_tables import count_rows, select

    tables: dict[str, TableStatus] = {}
    rules: list[RuleStatus] = []
    for ref in config.all_tables():
        if not has_commits(ref.path):
            tables[ref.key] = TableStatus(ref.name, None, None, None)
            continue
        table = DeltaTable(ref.path)
        last = table.history(1)[0]
        rows = count_rows(table)
        tables[ref.key] = TableStatus(ref.name, table.version(), rows, last["operation"])
        if ref.key == "dq_metrics":
            totals = "SELECT rule, sum(passed), sum(failed) FROM t GROUP BY rule ORDER BY rule"
            rules = [
                RuleStatus(rule, int(passed or 0), int(failed or 0))
                for rule, passed, failed in select(table, totals)
            ]
    return Status(stream_statuses(config, tables), list(tables.values()), rules)


def utc_text(seconds: float) -> str:
    """A file time as status prints it: UTC, to the second."""
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def stream_statuses(config: PipelineConfig, tables: dict[str, TableStatus]) -> list[StreamStatus]:
    """Each stream's last committed batch and its lag, from the checkpoint's files."""
    streams = []
    for stream in config.streams:
        checkpoint = Path(stream.checkpoint_location)
        commit = last_committed_batch(checkpoint)
        if commit is None:
            streams.append(StreamStatus(stream.name, None, None, "not started"))
            continue
        batch, commit_file = commit
        streams.append(
            StreamStatus(
                stream.name,
                batch,
                utc_text(commit_file.stat().st_mtime),
                lag(stream.name, checkpoint, config, tables),
            )
        )
    return streams


def rule_totals(spark: SparkSession, config: PipelineConfig) -> list[RuleStatus]:
    """Passed and failed records per data-quality rule, over every batch so far."""
    from pyspark.sql import functions as F

    from streaming.pipeline.tables import read_table

    totals = (
        read_table(spark, config.table("dq_metrics"))
        .groupBy("rule")
        .agg(F.sum("passed").alias("passed"), F.sum("failed").alias("failed"))
        .orderBy("rule")
        .collect()
    )
    return [RuleStatus(r.rule, int(r.passed or 0), int(r.failed or 0)) for r in totals]


def lag(name: str, checkpoint: Path, config: PipelineConfig, tables: dict[str, TableStatus]) -> str:
    """How far a stream is behind its source: files pending, or source versions behind."""
    source = layer(name).source
    if source == LANDING:
        landing = Path(config.landing_path)
        if not landing.is_dir():
            return "landing folder missing"
        pending = len(landed_files(landing)) - (tables["bronze"].rows or 0)
        aside = len(set_aside_files(landing))
        aside_note = f", {aside} set aside in {SET_ASIDE}/ (not read)" if aside else ""
        return f"{max(pending, 0)} files pending{aside_note}"
    done_through = delta_versions_done(checkpoint)
    source_version = tables[source].version
    if done_through is None or source_version is None:
        return "unknown"
    return f"{max(source_version - done_through, 0)} {source} versions behind"
