"""The event-log timeline `make bench-fresh --event-log` prints: spans, labels, idle time."""

from __future__ import annotations

import json
from pathlib import Path

from tests.bench import timeline

SQL = "org.apache.spark.sql.execution.ui.SparkListenerSQLExecution"


def sql_start(execution: int, plan: str, node: str = "AdaptiveSparkPlan", root: int = 0) -> dict:
    return {
        "Event": SQL + "Start",
        "executionId": execution,
        "rootExecutionId": root,
        "description": "omdb_bronze\nid = 1",
        "physicalPlanDescription": plan,
        "sparkPlanInfo": {"nodeName": node},
        "time": 1000 + execution,
    }


def test_covered_counts_overlapping_spans_once() -> None:
    assert timeline.covered([(0, 10), (5, 15), (20, 25), (21, 22)]) == 20


def test_labels_name_what_delta_did_to_which_table() -> None:
    log = "Location: DeltaLogFileIndex [file:/r/tables/omdb_releases_bronze/_delta_log/0.json]"
    state = "Scan ExistingRDD Delta Table State #4 - file:///r/tables/omdb_releases_gold/_delta_log"
    assert timeline.label(sql_start(0, "", root=0)) == "batch of omdb_bronze"
    assert timeline.label(sql_start(1, log)) == "log replay omdb_releases_bronze"
    assert timeline.label(sql_start(2, state)) == "snapshot state omdb_releases_gold"
    merge = sql_start(3, "", node="Execute MergeIntoCommand")
    assert timeline.label(merge) == "MergeIntoCommand"


def test_the_summary_splits_the_application_into_jobs_and_driver_time(tmp_path: Path) -> None:
    state = "Delta Table State #1 - file:///r/tables/omdb_releases_silver/_delta_log"
    events = [
        {"Event": "SparkListenerApplicationStart", "Timestamp": 0},
        sql_start(1, state),
        {"Event": "SparkListenerJobStart", "Job ID": 0, "Submission Time": 1500,
         "Properties": {"spark.sql.execution.id": "1"}},
        {"Event": "SparkListenerJobEnd", "Job ID": 0, "Completion Time": 2500},
        {"Event": SQL + "End", "executionId": 1, "time": 3001},
        {"Event": "SparkListenerApplicationEnd", "Timestamp": 10_000},
    ]  # fmt: skip
    path = tmp_path / "events"
    path.write_text("\n".join(json.dumps(event) for event in events))
    read = timeline.read(path)
    assert read.executions[1].wall == 2000
    text = timeline.summary(read, top=5)
    assert "snapshot state omdb_releases_silver" in text
    assert "1 jobs running 1.00 s, none running 9.00 s" in text
