"""Start the bronze → silver → gold chain: catch up and stop, or run until interrupted."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pyspark.errors import StreamingQueryException
from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQuery

from checkpoints_config import PipelineConfig, StreamConfig
from checkpoints_config.targets import on_databricks
from producers.landing import Listing, fingerprint, landing_listing, screen_landing
from streaming.errors import LakehouseError, failure_gist, first_line
from streaming.pipeline.checkpoints import (
    delta_versions_done,
    landing_seen,
    local_table_version,
    mark_landing_seen,
)
from streaming.pipeline.layers import LANDING, LAYERS, Layer, chain_and_beside
from streaming.pipeline.layers import layer as layer_named
from streaming.pipeline.lock import pipeline_lock
from streaming.pipeline.maintenance import APPEND_ONLY, compact_due, maintain
from streaming.pipeline.reset import check_checkpoints, finish_interrupted_reset
from streaming.pipeline.tables import COMPACT_AT_FILES, ensure_tables

Say = Callable[[str], None]
OnBatch = Callable[[str, dict], None]  # (stream, the batch's progress)
# How often an always-on run looks whether an append-only table is due for compaction
# (a directory listing and a small JSON read per table, no Spark job while none is).
COMPACT_CHECK_SECONDS = 30.0


def _quiet(_: str) -> None:
    pass


@dataclass
class StreamSummary:
    """What one query did during a run (from its recent progress)."""

    name: str
    batches: int = 0
    input_rows: int = 0
    last_batch_id: int | None = None

    @classmethod
    def of(cls, name: str, query: StreamingQuery) -> StreamSummary:
        summary = cls(name)
        for p in query.recentProgress:
            if p["numInputRows"]:
                summary.batches += 1
                summary.input_rows += int(p["numInputRows"])
                summary.last_batch_id = int(p["batchId"])
        return summary


@dataclass
class RunSummary:
    streams: list[StreamSummary] = field(default_factory=list)


def check_landing(config: PipelineConfig) -> None:
    """Fail early and clearly when a local landing folder is missing.

    In a volume the folder is made instead: an always-on job may well start before the
    producer lands its first page, and Auto Loader needs the folder to exist.
    """
    if config.on_unity_catalog:
        if on_databricks():  # the volume is mounted here
            Path(config.landing_path).mkdir(parents=True, exist_ok=True)
        return
    if not Path(config.landing_path).is_dir():
        raise LakehouseError(
            f"landing folder {config.landing_path} does not exist: "
            "land pages first (omdb-lakehouse produce)"
        )


def screen(config: PipelineConfig, say: Say) -> None:
    """Set aside the local landing entries bronze must not read, telling the user of each."""
    if config.on_unity_catalog:
        return  # volumes hold no links, and only the producer writes there
    for item in screen_landing(config.landing_path):
        say(f"set aside {item.path}: {item.reason}; moved to {item.moved_to}")


def run_available_now(
    spark: SparkSession,
    config: PipelineConfig,
    on_stream_done: Callable[[StreamSummary], None] | None = None,
    say: Say = _quiet,
    on_batch: OnBatch | None = None,
) -> RunSummary:
    """Catch every layer up with what has landed, then stop.

    The chain (bronze → silver → gold) runs one layer after the other; a layer beside it
    (quality, which reads bronze) starts once its source is caught up and runs while the
    chain goes on, on the other core. ``on_stream_done`` gets each layer's summary when
    it is done; ``on_batch`` each batch that read something, with its progress, as the
    run goes. The summary lists the layers in ``LAYERS``' order.
    """
    check_landing(config)
    with pipeline_lock(config):
        prepare(spark, config, say)
        chain, beside = chain_and_beside(LAYERS)
        done: dict[str, StreamSummary] = {}
        wrote: dict[str, bool] = {}  # by table: did this run write to it?

        def run(layer: Layer) -> StreamSummary:
            stream_summary = _run_layer(spark, config, layer, wrote, on_batch)
            wrote.update(dict.fromkeys(layer.outputs, stream_summary.batches > 0))
            return stream_summary

        with ThreadPoolExecutor(max_workers=max(len(beside), 1)) as pool:
            started: list[tuple[Layer, Future[StreamSummary]]] = []
            try:
                for layer in chain:
                    done[layer.name] = run(layer)
                    if on_stream_done:
                        on_stream_done(done[layer.name])
                    started += [
                        (other, pool.submit(run, other))
                        for other in beside
                        if other.source in layer.outputs
                    ]
            except BaseException:
                # The chain's failure is the one told: the layers beside it are stopped
                # (a batch cut short re-runs from its checkpoint) and not waited for.
                stop_queries(spark, [config.stream(layer.name) for layer, _ in started])
                raise
            for layer, future in started:
                done[layer.name] = future.result()
                if on_stream_done:
                    on_stream_done(done[layer.name])
        for name in compact_due(spark, config):
            say(f"compacted {name}: it held {COMPACT_AT_FILES} data files or more")
        return RunSummary([done[layer.name] for layer in LAYERS])


def stop_queries(spark: SparkSession, streams: Sequence[StreamConfig]) -> None:
    """Stop the active queries of ``streams``, if any."""
    names = {stream.query_name for stream in streams}
    for query in spark.streams.active:
        if query.name in names:
            query.stop()


def _run_layer(
    spark: SparkSession,
    config: PipelineConfig,
    layer: Layer,
    wrote: dict[str, bool],
    on_batch: OnBatch | None,
) -> StreamSummary:
    """One layer caught up, or left alone when it has nothing new to read."""
    if layer.source == LANDING:
        landed = landing_now(config)
        skip = landed is not None and fingerprint(landed) == landing_seen(
            _checkpoint(config, layer)
        )
    else:
        landed = None
        skip = not wrote.get(layer.source, True) and caught_up(config, layer)
    if skip:
        # Nothing new to read, and the checkpoint says so: starting the query would
        # only find that out (listing every landed file, seconds at 100,000 files).
        return StreamSummary(layer.name)
    stream_summary = _catch_up(spark, config, layer, on_batch)
    if landed is not None:
        # Every file listed was there when the query started, and available-now reads
        # all it found at its start; those it archived meanwhile are in neither
        # listing, one that landed meanwhile only in the second.
        mark_landing_seen(_checkpoint(config, layer), fingerprint(still_there(landed, config)))
    return stream_summary


def _checkpoint(config: PipelineConfig, layer: Layer) -> str:
    return config.stream(layer.name).checkpoint_location


def landing_now(config: PipelineConfig) -> Listing | None:
    """The local landing's listing; None on Databricks (Auto Loader keeps its own)."""
    return None if config.on_unity_catalog else landing_listing(config.landing_path)


def still_there(before: Listing, config: PipelineConfig) -> Listing:
    """The files of ``before`` that the landing folder holds unchanged now."""
    now = landing_listing(config.landing_path)
    return {path: seen for path, seen in before.items() if now.get(path) == seen}


def _catch_up(
    spark: SparkSession, config: PipelineConfig, layer: Layer, on_batch: OnBatch | None = None
) -> StreamSummary:
    """Run one layer's query until it has read everything there is, then stop it."""
    query = layer.start(spark, config)
    told = -1

    def tell() -> None:
        nonlocal told
        for progress in query.recentProgress:
            if progress["batchId"] > told and progress["numInputRows"] and on_batch:
                on_batch(layer.name, progress)
            told = max(told, progress["batchId"])

    try:
        while not query.awaitTermination(1):
            tell()
        tell()
    except StreamingQueryException as exc:
        raise LakehouseError(f"the {layer.name} stream failed: {failure_gist(exc)}") from exc
    finally:
        if query.isActive:
            query.stop()
    return StreamSummary.of(layer.name, query)


def caught_up(config: PipelineConfig, layer: Layer) -> bool:
    """True when a local layer's checkpoint has committed every version of its source table.

    Read from the files alone; anything unknown (a Unity Catalog target, the landing
    source, a checkpoint without a committed batch) counts as not caught up.
    """
    if config.on_unity_catalog or layer.source == LANDING:
        return False
    done = delta_versions_done(_checkpoint(config, layer))
    latest = local_table_version(config.table(layer.source).path)
    return done is not None and latest is not None and done >= latest


def prepare(spark: SparkSession, config: PipelineConfig, say: Say = _quiet) -> None:
    """Finish an interrupted reset, refuse to start over a lost checkpoint, create tables."""
    for line in finish_interrupted_reset(spark, config):
        say(line)
    screen(config, say)
    # In this order, a table about to be created is not read to learn it is empty
    # (five Spark reads, seconds, on every new root).
    check_checkpoints(spark, config)
    ensure_tables(spark, config)


def compact_appended(spark: SparkSession, config: PipelineConfig, say: Say) -> None:
    """Compact the append-only tables that are due, beside the running streams (silver and
    gold are compacted by their own writers, between their MERGEs); a failure is told, and
    the streams go on."""
    try:
        for name in compact_due(spark, config, keys=APPEND_ONLY):
            say(f"compacted {name}: it held {COMPACT_AT_FILES} data files or more")
    except Exception as error:  # the streams matter more than one compaction
        say(f"compaction failed, the streams go on: {first_line(error)}")


def upkeep(spark: SparkSession, config: PipelineConfig, say: Say) -> None:
    """VACUUM the tables while the streams run (compaction is ``compact_appended``'s and
    the writers' own: here it would conflict with a running MERGE); a failure is told, and
    the streams go on."""
    say("maintenance: vacuuming the tables")
    try:
        maintain(spark, config, exclusive=False, say=say)
    except Exception as error:  # the streams matter more than one cleanup
        say(f"maintenance failed, the streams go on: {first_line(error)}")


def run_continuous(
    spark: SparkSession,
    config: PipelineConfig,
    stop: threading.Event,
    poll_seconds: float = 0.5,
    say: Say = _quiet,
    screen_seconds: float = 2.0,
    compact_seconds: float = COMPACT_CHECK_SECONDS,
) -> RunSummary:
    """Run every layer as always-on micro-batches until ``stop`` is set.

    A query that fails stops the others and raises; stopping is clean: a batch cut
    short is re-run from its checkpoint next time, and its writes are idempotent.
    Landing is screened for entries bronze must not read every ``screen_seconds``, or
    less often on a landing so large that screening would take over 10 % of a core.
    """
    check_landing(config)
    with pipeline_lock(config):
        return keep_running(
            spark,
            config,
            stop,
            poll_seconds=poll_seconds,
            say=say,
            screen_seconds=screen_seconds,
            compact_seconds=compact_seconds,
        )


def keep_running(
    spark: SparkSession,
    config: PipelineConfig,
    stop: threading.Event,
    *,
    poll_seconds: float = 0.5,
    say: Say = _quiet,
    screen_seconds: float = 2.0,
    compact_seconds: float = COMPACT_CHECK_SECONDS,
    on_started: Callable[[dict[str, StreamingQuery]], None] | None = None,
    restart_seconds: float | None = None,
) -> RunSummary:
    """``run_continuous`` for a caller that holds the root's lock (``serve``).

    ``on_started`` gets the running queries, once all have started. A stream that fails
    raises, unless ``restart_seconds`` is given: then it is told, the other streams go
    on, and it starts again from its checkpoint that many seconds later.
    """
    queries: dict[str, StreamingQuery] = {}
    prepare(spark, config, say)
    next_screen = time.monotonic() + screen_seconds
    next_upkeep = time.monotonic() + config.maintenance.every
    next_compact = time.monotonic() + compact_seconds
    restart_at: dict[str, float] = {}
    try:
        for layer in LAYERS:
            queries[layer.name] = layer.start(spark, config)
        if on_started:
            on_started(queries)
        while not stop.is_set():
            for name, query in queries.items():
                if not query.isActive and name not in restart_at:
                    error = query.exception()
                    reason = failure_gist(error) if error else "stopped"
                    failed = f"the {name} stream failed: {reason}"
                    if restart_seconds is None:
                        raise LakehouseError(failed)
                    say(f"{failed}; the others go on, it starts again in {restart_seconds:g} s")
                    restart_at[name] = time.monotonic() + restart_seconds
            for name, at in list(restart_at.items()):
                if time.monotonic() >= at:
                    del restart_at[name]
                    try:
                        queries[name] = layer_named(name).start(spark, config)
                    except Exception as error:  # told like a failure; tried again later
                        say(f"the {name} stream did not start again: {first_line(error)}")
                        restart_at[name] = time.monotonic() + (restart_seconds or 0)
            if time.monotonic() >= next_screen:
                started = time.monotonic()
                screen(config, say)
                took = time.monotonic() - started
                next_screen = time.monotonic() + max(screen_seconds, 10 * took)
            if time.monotonic() >= next_compact:
                compact_appended(spark, config, say)
                next_compact = time.monotonic() + compact_seconds
            if time.monotonic() >= next_upkeep:
                upkeep(spark, config, say)
                next_upkeep = time.monotonic() + config.maintenance.every
            stop.wait(poll_seconds)
    finally:
        for query in queries.values():
            if query.isActive:
                query.stop()
    return RunSummary([StreamSummary.of(name, query) for name, query in queries.items()])
