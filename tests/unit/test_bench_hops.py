"""The freshness bench's hop split: a page followed through batches and commits."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from tests.bench.hops import Commit, Span, _versions_read, jobs_per_batch, page_hops

SPANS = {
    "bronze": [Span(2, -3.0, -1.0), Span(3, 0.5, 2.0)],
    "silver": [Span(0, -0.5, 2.0, (0, 6)), Span(1, 2.5, 6.0, (7, 7))],
    "gold": [Span(1, 3.0, 5.0, (0, 3)), Span(2, 6.2, 8.0, (4, 4))],
}
LOGS = {
    "bronze": [Commit(6, -1.2, "STREAMING UPDATE", 2), Commit(7, 1.8, "STREAMING UPDATE", 3)],
    "silver": [Commit(3, 1.5, "MERGE"), Commit(4, 5.5, "MERGE")],
    "gold": [Commit(9, 4.8, "MERGE"), Commit(10, 7.9, "MERGE")],
}


def test_a_page_is_followed_through_the_batch_and_commit_that_carried_it():
    hops = page_hops(0.0, SPANS, LOGS)

    assert hops == pytest.approx([0.5, 1.3, 0.7, 3.0, 0.7, 1.7])
    assert sum(hops) == pytest.approx(7.9)  # landing to gold's commit


def test_a_page_no_later_batch_carried_is_left_out():
    assert page_hops(2.5, SPANS, LOGS) is None  # no bronze batch started after it


def offsets(start, end) -> SimpleNamespace:
    return SimpleNamespace(
        startOffset=json.dumps(start) if start else None, endOffset=json.dumps(end)
    )


def test_the_versions_a_batch_read_come_from_its_delta_offsets():
    first_batch = offsets(None, {"reservoirVersion": 8, "index": -1})
    assert _versions_read(first_batch) == (0, 7)
    part_read = offsets({"reservoirVersion": 5, "index": -1}, {"reservoirVersion": 8, "index": 2})
    assert _versions_read(part_read) == (5, 8)
    assert _versions_read(offsets(None, {"logOffset": 3})) is None  # not a Delta source


def test_jobs_are_counted_per_batch_of_each_stream(tmp_path):
    def job(job_id: int, description: str | None) -> str:
        properties = {"spark.job.description": description} if description else {}
        return json.dumps(
            {"Event": "SparkListenerJobStart", "Job ID": job_id, "Properties": properties}
        )

    log = tmp_path / "events"
    lines = [
        job(1, "omdb_silver\nid = a\nrunId = b\nbatch = 4"),
        job(2, "omdb_silver\nid = a\nrunId = b\nbatch = 4"),
        job(3, "omdb_silver\nid = a\nrunId = b\nbatch = 5"),
        job(4, "omdb_gold\nid = c\nrunId = d\nbatch = 4"),
        job(5, None),  # a job of no stream: a query, a maintenance command
    ]
    log.write_text("\n".join(lines) + "\n")

    counts = jobs_per_batch(log)

    assert counts["silver"]["batches"] == 2 and counts["silver"]["p50"] == 1.5
    assert counts["gold"] == {"batches": 1, "p50": 1.0, "p95": 1.0}
