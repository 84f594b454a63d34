"""A page's way to gold, hop by hop: the wait for each stream's batch, and that batch.

Each hop is read from what the streams and the tables recorded, not guessed from times
alone. A page is read by the first bronze batch that starts after it landed; that batch
committed the bronze version whose ``epochId`` is its batch id (the Delta sink's commit
info); the silver batch whose source offsets span that version read it, and committed
the silver MERGE made during it; the gold batch whose offsets span that silver version
counted it, and committed gold's MERGE. Each wait runs from the commit the stream needs
to the start of the batch that reads it; each batch from its start to its commit. A
page listed by a bronze batch that started a moment before it landed is counted one
bronze batch late, so the split errs long, never short. Pages whose titles changed
nothing in silver (re-observations) have no silver commit to follow and are left out.

From a Spark event log: the jobs each stream's batches ran (Spark names every job of a
batch, those of its foreachBatch included, ``<query> … batch = N``).
"""

from __future__ import annotations

import json
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

CHAIN = ("bronze", "silver", "gold")
HOPS = tuple(f"{kind} {stream}" for stream in CHAIN for kind in ("wait", "batch"))
_BATCH = re.compile(r"omdb_(\w+)\b.*?batch = (\d+)", re.S)


@dataclass(frozen=True)
class Span:
    """One batch of one stream that read rows: when its trigger started and ended (epoch
    s), and the versions of its Delta source it read (first, last), if it reads one."""

    batch_id: int
    start: float
    end: float
    reads: tuple[int, int] | None = None


@dataclass(frozen=True)
class Commit:
    """One commit of a table: its version, when (epoch s), and the streaming batch behind
    it when the Delta sink made it."""

    version: int
    at: float
    operation: str
    epoch: int | None = None


def span_of(progress) -> Span:
    """The span of a ``StreamingQueryProgress``."""
    start = datetime.fromisoformat(progress.timestamp.replace("Z", "+00:00")).timestamp()
    end = start + progress.durationMs["triggerExecution"] / 1000
    reads = _versions_read(progress.sources[0]) if progress.sources else None
    return Span(progress.batchId, start, end, reads)


def _versions_read(source) -> tuple[int, int] | None:
    """(first, last) Delta version a batch read, from its source's offsets."""
    try:
        begin = json.loads(source.startOffset) if source.startOffset else None
        end = json.loads(source.endOffset)
    except (TypeError, ValueError):
        return None
    if not isinstance(end, dict) or "reservoirVersion" not in end:
        return None
    # (v, -1): every version before v; (v, i): v up to its file i.
    last = end["reservoirVersion"] - (1 if end.get("index", -1) == -1 else 0)
    first = begin["reservoirVersion"] if isinstance(begin, dict) else 0
    return first, last


def commits(table_path: str | Path) -> list[Commit]:
    """Every commit a local table's log still holds, oldest first."""
    found = []
    for entry in sorted(Path(table_path, "_delta_log").glob("*.json")):
        for line in entry.read_text().splitlines():
            info = json.loads(line).get("commitInfo")
            if info is not None:
                epoch = (info.get("operationParameters") or {}).get("epochId")
                found.append(
                    Commit(
                        int(entry.stem),
                        info["timestamp"] / 1000,
                        info.get("operation", "?"),
                        int(epoch) if epoch is not None else None,
                    )
                )
    return found


def page_hops(
    landed: float, spans: dict[str, Sequence[Span]], logs: dict[str, Sequence[Commit]]
) -> list[float] | None:
    """Seconds of each of ``HOPS`` for a page landed at ``landed``; None when it cannot
    be followed to gold."""
    bronze = next((s for s in spans.get("bronze", ()) if s.start >= landed), None)
    if bronze is None:
        return None
    appended = next((c for c in logs["bronze"] if c.epoch == bronze.batch_id), None)
    hops = [bronze.start - landed]
    at, version, start = appended, appended, bronze.start
    for stream in CHAIN[1:]:
        if at is None or version is None:
            return None
        batch = next((s for s in spans.get(stream, ()) if _reads(s, version.version)), None)
        if batch is None:
            return None
        merged = next(
            (c for c in logs[stream] if c.operation == "MERGE" and batch.start <= c.at),
            None,
        )
        if merged is None or merged.at > batch.end + 1:
            return None
        hops += [at.at - start, max(batch.start - at.at, 0.0)]
        at, version, start = merged, merged, batch.start
    return [*hops, at.at - start]


def _reads(span: Span, version: int) -> bool:
    return span.reads is not None and span.reads[0] <= version <= span.reads[1]


def split(
    landed_at: Iterable[float],
    spans: dict[str, Sequence[Span]],
    logs: dict[str, Sequence[Commit]],
) -> dict[str, dict]:
    """p50 and p95 of every hop and of their sum, over the pages followed to gold."""
    rows = [hops for t in landed_at if (hops := page_hops(t, spans, logs)) is not None]
    columns = {name: [row[i] for row in rows] for i, name in enumerate(HOPS)}
    columns["landing to gold"] = [sum(row) for row in rows]
    return {name: _p50_p95(values) for name, values in columns.items()} | {
        "pages": {"count": len(rows)}
    }


def jobs_per_batch(event_log: Path) -> dict[str, dict]:
    """Per stream: batches, and the p50 and p95 of the Spark jobs one batch ran."""
    jobs: dict[tuple[str, int], int] = defaultdict(int)
    with event_log.open() as lines:
        for line in lines:
            if '"SparkListenerJobStart"' not in line:
                continue
            properties = json.loads(line).get("Properties") or {}
            found = _BATCH.search(properties.get("spark.job.description") or "")
            if found:
                jobs[(found.group(1), int(found.group(2)))] += 1
    per_stream: dict[str, list[float]] = defaultdict(list)
    for (stream, _), count in jobs.items():
        per_stream[stream].append(float(count))
    return {
        stream: {"batches": len(counts)} | _p50_p95(counts)
        for stream, counts in sorted(per_stream.items())
    }


def _p50_p95(values: list[float]) -> dict:
    if not values:
        return {"p50": None, "p95": None}
    p95 = statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]
    return {"p50": round(statistics.median(values), 2), "p95": round(p95, 2)}


def print_split(hop_split: dict[str, dict], jobs: dict[str, dict] | None = None) -> None:
    """The split as lines a person reads."""
    print(f"a page's way to gold, over {hop_split['pages']['count']} pages (p50 / p95 s):")
    for name in (*HOPS, "landing to gold"):
        values = hop_split[name]
        print(f"  {name:16} {values['p50']} / {values['p95']}")
    for stream, counts in (jobs or {}).items():
        print(
            f"  {stream}: {counts['batches']} batches, Spark jobs per batch "
            f"p50 {counts['p50']}, p95 {counts['p95']}"
        )
