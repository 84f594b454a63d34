"""``serve``'s live page: the pipeline and gold as they change, for the user who opened the
URL ``serve`` printed (the endpoint's door, ``guarded_http``, lets nobody else in).

The page and its script are files of this package, the chart library is plotly's own
JavaScript from its wheel: nothing is fetched from anywhere but ``serve``. The page asks
``/live`` once a second; the answer carries gold's datasets only when gold's version
moved past the one the page holds, and gold is read again only then, with delta-rs (no
Spark job). What every tab asks in the same second is answered once.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Callable
from importlib import resources
from typing import Any

from checkpoints_config import PipelineConfig
from streaming.pipeline.checkpoints import delta_rs_reads, has_commits, local_table_version
from streaming.read.dashboard import DATASETS, dataset_sql

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
PAGE_FILES = ("live.html", "live.js", "live.css")
# Only serve's own address, and plotly's inline styles; no eval, no frames, no forms.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
STATUS_SECONDS = 1.0  # the tabs' status, computed at most this often
TREND_BATCHES = 12  # the quality batches each rule's trend shows

Sql = Callable[[str], dict[str, Any]]


def page_file(name: str) -> tuple[bytes, str] | None:
    """A file of the page, and its content type; None for any other name."""
    if name == "plotly.min.js":
        source = resources.files("plotly") / "package_data" / "plotly.min.js"
    elif name in PAGE_FILES:
        source = resources.files("streaming.runtime") / "live" / name
    else:
        return None
    return source.read_bytes(), CONTENT_TYPES["." + name.rsplit(".", 1)[1]]


def gold_seen(query: str) -> int | None:
    """The gold version a page says it holds (``/live?gold=N``); None for anything that is
    not a plain number of a version's size (a thousand digits would cost ``int`` more
    than the answer, and it refuses past 4,300)."""
    seen = urllib.parse.parse_qs(query).get("gold", [""])[0]
    return int(seen) if seen.isascii() and seen.isdigit() and len(seen) <= 19 else None


class LiveBoard:
    """What the page shows, from ``status`` (each stream, table, rule, freshness) and
    gold's datasets; ``sql`` answers a statement where delta-rs cannot read the root."""

    def __init__(self, config: PipelineConfig, status: Callable[[], dict], sql: Sql) -> None:
        self.config = config
        self._status = status
        self._sql = sql
        self._lock = threading.Lock()
        self._status_at = -STATUS_SECONDS
        self._status_now: dict[str, Any] = {}
        self._gold: tuple[int | None, dict[str, Any]] = (None, {})
        self._trend: tuple[int | None, dict[str, list[int]]] = (None, {})
        self.polls = self.gold_reads = 0  # what the tabs asked, and how often gold was read

    def snapshot(self, gold_seen: int | None) -> dict[str, Any]:
        """The page's figures; gold's datasets unless the page holds ``gold_seen`` already."""
        with self._lock:  # tabs asking at once share one answer
            self.polls += 1
            if time.monotonic() - self._status_at >= STATUS_SECONDS:
                self._status_now = self._status()
                self._status_at = time.monotonic()
            status = self._status_now
            version, datasets = self._gold_datasets()
            trend = self._rule_trend()
        rules = [rule | {"trend": trend.get(rule["rule"], [])} for rule in status["rules"]]
        answer = {**status, "rules": rules, "gold_version": version}
        if version is not None and version != gold_seen:
            answer["datasets"] = datasets
        return answer

    def _gold_datasets(self) -> tuple[int | None, dict[str, Any]]:
        gold = self.config.table("gold")
        version = local_table_version(gold.path)
        if version is not None and version != self._gold[0]:
            self._gold = (version, {d.name: self._run(dataset_sql(d, gold.name)) for d in DATASETS})
            self.gold_reads += 1
        return self._gold

    def _run(self, statement: str) -> dict[str, Any]:
        gold = self.config.table("gold")
        if not delta_rs_reads(gold.path):
            return self._sql(statement)
        from deltalake import DeltaTable

        from streaming.read.delta_rs_tables import answer

        columns, rows = answer(DeltaTable(gold.path), statement, name=gold.name)
        return {"columns": columns, "rows": [list(row) for row in rows]}

    def _rule_trend(self) -> dict[str, list[int]]:
        """Each rule's failed records in the quality stream's last batches, oldest first."""
        metrics = self.config.table("dq_metrics")
        version = local_table_version(metrics.path)
        if version == self._trend[0] or not has_commits(metrics.path):
            return self._trend[1]
        if not delta_rs_reads(metrics.path):
            return {}
        from deltalake import DeltaTable

        from streaming.read.delta_rs_tables import select

        recent = select(
            DeltaTable(metrics.path),
            "SELECT rule, batch_id, failed FROM t WHERE stream = 'quality' AND batch_id > "
            f"(SELECT max(batch_id) FROM t WHERE stream = 'quality') - {TREND_BATCHES} "
            "ORDER BY batch_id",
        )
        trend: dict[str, list[int]] = {}
        for rule, _, failed in recent:
            trend.setdefault(rule, []).append(int(failed or 0))
        self._trend = (version, trend)
        return trend
