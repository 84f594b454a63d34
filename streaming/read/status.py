"""What ``status`` shows: streams' progress (from checkpoints), tables' state, DQ counts.

Read with Spark (any target, any runtime) or, for a local root, with delta-rs: the same
figures in a fraction of a second and with no JVM.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from checkpoints_config import PipelineConfig
from producers.landing import SET_ASIDE, landed_files, set_aside_files
from streaming.pipeline.archive import archived_pages
from streaming.pipeline.checkpoints import (
    delta_versions_done,
    has_commits,
    last_committed_batch,
    local_table_version,
)
from streaming.pipeline.layers import LANDING, LAYERS, chain_and_beside, layer
from streaming.read.storage import LastUpkeep, last_upkeep, on_disk

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
    live_bytes: int | None = None  # what the current version reads
    live_files: int | None = None
    disk_bytes: int | None = None  # everything under the folder (local tables)
    disk_files: int | None = None  # data files on disk: live, replaced, change data
    log_entries: int | None = None


@dataclass(frozen=True)
class LandingStatus:
    live: int  # pages in the landing folder, which bronze's source lists
    archived: int  # pages bronze has read and its source moved out of it


@dataclass(frozen=True)
class RuleStatus:
    rule: str
    passed: int
    failed: int


@dataclass(frozen=True)
class Freshness:
    """How far gold is behind the newest landed page."""

    newest_landed_at: str | None
    gold_updated_at: str | None
    caught_up: bool
    text: str


@dataclass(frozen=True)
class Status:
    streams: list[StreamStatus]
    tables: list[TableStatus]
    rules: list[RuleStatus]
    landing: LandingStatus | None = None  # a local root's
    last_maintenance: LastUpkeep | None = None
    freshness: Freshness | None = None  # a local root's


def _status(
    config: PipelineConfig,
    tables: dict[str, TableStatus],
    rules: list[RuleStatus],
    running: bool,
) -> Status:
    landing = landing_status(config)
    streams = stream_statuses(config, tables, landing)
    return Status(
        streams,
        list(tables.values()),
        rules,
        landing,
        last_upkeep(config),
        None if landing is None else gold_freshness(config, streams, running=running),
    )


def gold_freshness(
    config: PipelineConfig, streams: list[StreamStatus], *, running: bool
) -> Freshness:
    """The newest landed page's time against gold's last update, for a local root;
    ``running``: the streams are catching up by themselves (``serve``)."""
    newest = max((f.stat().st_mtime for f in landed_files(config.landing_path)), default=None)
    gold = _last_commit_time(config.table("gold").path)
    chain = {item.name for item in chain_and_beside(LAYERS)[0]}  # gold's way, not quality's
    caught_up = all(s.lag.startswith("0 ") for s in streams if s.name in chain)
    if newest is None:
        text = "nothing has landed yet"
    elif caught_up and gold is not None:
        text = (
            f"up to date: gold holds every landed file (newest landed {utc_text(newest)}, "
            f"gold updated {utc_text(gold)})"
        )
    else:
        age = dt.datetime.now(dt.timezone.utc).timestamp() - newest
        then = "the streams are catching up" if running else "`run` catches it up"
        text = f"behind: the newest file landed {age:.1f} s ago and gold lacks it ({then})"
    return Freshness(
        None if newest is None else utc_text(newest),
        None if gold is None else utc_text(gold),
        caught_up,
        text,
    )


def _last_commit_time(path: str) -> float | None:
    version = local_table_version(path)
    if version is None:
        return None
    return (Path(path) / "_delta_log" / f"{version:020d}.json").stat().st_mtime


def landing_status(config: PipelineConfig) -> LandingStatus | None:
    """How many pages are live and archived, if the landing folder exists."""
    if not Path(config.landing_path).is_dir():
        return None
    return LandingStatus(len(landed_files(config.landing_path)), len(archived_pages(config)))


def _with_disk(table: TableStatus, path: str | None) -> TableStatus:
    if path is None:
        return table
    disk = on_disk(path)
    return replace(
        table, disk_bytes=disk.bytes, disk_files=disk.data_files, log_entries=disk.log_entries
    )


def collect_status(spark: SparkSession, config: PipelineConfig, *, running: bool = False) -> Status:
    """Read checkpoints and tables with Spark; starts no query and writes nothing.
    ``running``: the streams run (``serve``), so gold catches up by itself."""
    from streaming.pipeline.tables import history, read_table, table_exists

    tables: dict[str, TableStatus] = {}
    for ref in config.all_tables():
        if not table_exists(spark, ref):
            tables[ref.key] = TableStatus(ref.name, None, None, None)
            continue
        last = history(spark, ref, 1).first()
        rows = read_table(spark, ref).count()
        detail = spark.sql(f"DESCRIBE DETAIL {ref.sql_name}").first()
        table = TableStatus(
            ref.name,
            last["version"],
            rows,
            last["operation"],
            live_bytes=detail["sizeInBytes"],
            live_files=detail["numFiles"],
        )
        tables[ref.key] = _with_disk(table, None if ref.full_name else ref.path)
    rules = rule_totals(spark, config) if tables["dq_metrics"].version is not None else []
    return _status(config, tables, rules, running)


def collect_status_local(config: PipelineConfig, *, running: bool = False) -> Status:
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
        sizes = table.get_add_actions(flatten=True).column("size_bytes").to_pylist()
        status = TableStatus(
            ref.name,
            table.version(),
            rows,
            last["operation"],
            live_bytes=sum(sizes),
            live_files=len(sizes),
        )
        tables[ref.key] = _with_disk(status, ref.path)
        if ref.key == "dq_metrics":
            totals = "SELECT rule, sum(passed), sum(failed) FROM t GROUP BY rule ORDER BY rule"
            rules = [
                RuleStatus(rule, int(passed or 0), int(failed or 0))
                for rule, passed, failed in select(table, totals)
            ]
    return _status(config, tables, rules, running)


def utc_text(seconds: float) -> str:
    """A file time as status prints it: UTC, to the second."""
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def stream_statuses(
    config: PipelineConfig, tables: dict[str, TableStatus], landing: LandingStatus | None
) -> list[StreamStatus]:
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
                lag(stream.name, checkpoint, config, tables, landing),
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


def lag(
    name: str,
    checkpoint: Path,
    config: PipelineConfig,
    tables: dict[str, TableStatus],
    landing: LandingStatus | None,
) -> str:
    """How far a stream is behind its source: files pending, or source versions behind."""
    source = layer(name).source
    if source == LANDING:
        if landing is None:
            return "landing folder missing"
        # Every page bronze read is a row of it; archived pages were all read.
        pending = landing.live + landing.archived - (tables["bronze"].rows or 0)
        aside = len(set_aside_files(Path(config.landing_path)))
        aside_note = f", {aside} set aside in {SET_ASIDE}/ (not read)" if aside else ""
        return f"{max(pending, 0)} files pending{aside_note}"
    done_through = delta_versions_done(checkpoint)
    source_version = tables[source].version
    if done_through is None or source_version is None:
        return "unknown"
    return f"{max(source_version - done_through, 0)} {source} versions behind"
