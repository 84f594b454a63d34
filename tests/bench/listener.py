"""Per-batch durations of every query, from a StreamingQueryListener (all batches, not 100)."""

from __future__ import annotations

import statistics
import threading
from collections import defaultdict

from streaming.read.progress import ProgressListener
from tests.bench.hops import Span, span_of


class BatchTimes(ProgressListener):
    """Collects each progress event's ``durationMs`` phases per query name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.batches: dict[str, list[dict[str, int]]] = defaultdict(list)
        self.spans: dict[str, list[Span]] = defaultdict(list)  # by stream: "bronze"...

    def onQueryProgress(self, event) -> None:
        progress = event.progress
        if not progress.numInputRows:
            return
        with self._lock:
            self.batches[progress.name].append(dict(progress.durationMs))
            self.spans[progress.name.removeprefix("omdb_")].append(span_of(progress))

    def clear(self) -> None:
        with self._lock:
            self.batches.clear()
            self.spans.clear()

    def summary(self) -> dict[str, dict]:
        """Per query: batch count, p50/p95 of the whole trigger and of each phase (ms)."""
        out = {}
        with self._lock:
            for name, batches in sorted(self.batches.items()):
                phases = sorted({k for b in batches for k in b})
                out[name] = {"batches": len(batches)} | {
                    phase: {"p50": _pct(batches, phase, 50), "p95": _pct(batches, phase, 95)}
                    for phase in phases
                }
        return out


def _pct(batches: list[dict[str, int]], phase: str, pct: int) -> float:
    values = sorted(b.get(phase, 0) for b in batches)
    if len(values) == 1:
        return float(values[0])
    return float(statistics.quantiles(values, n=100, method="inclusive")[pct - 1])
