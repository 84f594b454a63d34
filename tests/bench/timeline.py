"""Where a Spark application's time went, from its event log: SQL executions and jobs.

Run a command with Spark's event log on (``spark.eventLog.enabled=true`` and
``spark.eventLog.dir``, e.g. through ``$OMDB_SPARK_CONF``), then:

    .venv/bin/python -m tests.bench.timeline EVENT_LOG_FILE [--top 25]

prints the SQL executions grouped by what they did (a Delta log replay or snapshot state
of a table, a read of a table, a MERGE or a write command, a stream's whole batch), with
their count, wall time and their jobs' time, and how much of the application no job was
running (driver work: planning, commits, listing, the JVM warming up).
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

_SQL = "org.apache.spark.sql.execution.ui.SparkListenerSQLExecution"
_TABLE = re.compile(r"/tables/([^/,\]\s]+)")


def with_event_log(env: dict[str, str], folder: Path) -> dict[str, str]:
    """``env`` with Spark's event log written into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    confs = [env.get("OMDB_SPARK_CONF", ""), "spark.eventLog.enabled=true"]
    confs += ["spark.eventLog.compress=false", "spark.eventLog.rolling.enabled=false"]
    confs.append(f"spark.eventLog.dir={folder}")
    return {**env, "OMDB_SPARK_CONF": ";".join(filter(None, confs))}


def label(event: dict) -> str:
    """What one SQL execution did, from its plan."""
    plan = event.get("physicalPlanDescription", "")
    node = event.get("sparkPlanInfo", {}).get("nodeName", "?")
    table = _TABLE.search(plan)
    name = table.group(1) if table else ""
    if event.get("rootExecutionId", event["executionId"]) == event["executionId"] and (
        event.get("description", "").startswith("omdb_")
    ):
        return f"batch of {event['description'].split()[0]}"
    if "DeltaLogFileIndex [" in plan:
        return f"log replay {name}"
    if "Delta Table State #" in plan:
        return f"snapshot state {name}"
    if node.startswith("Execute "):
        return node.removeprefix("Execute ") + (f" {name}" if name else "")
    return f"{node} {name}".strip()


@dataclass
class Execution:
    """One SQL execution: its description, start and end (ms), and its jobs' spans."""

    description: str
    start: int
    end: int | None = None
    jobs: list[tuple[int, int]] = field(default_factory=list)

    @property
    def wall(self) -> int:
        """Milliseconds from start to end (0 while unfinished)."""
        return self.end - self.start if self.end is not None else 0


@dataclass
class Timeline:
    """An application's span, its executions by id, and every job's span (ms)."""

    start: int | None = None
    end: int | None = None
    executions: dict[int, Execution] = field(default_factory=dict)
    jobs: list[tuple[int, int]] = field(default_factory=list)


def read(path: Path) -> Timeline:
    """The executions and jobs recorded in one event log file."""
    timeline = Timeline()
    job_starts: dict[int, tuple[int, int | None]] = {}
    for line in path.read_text().splitlines():
        event = json.loads(line)
        kind = event["Event"]
        if kind == "SparkListenerApplicationStart":
            timeline.start = event["Timestamp"]
        elif kind == "SparkListenerApplicationEnd":
            timeline.end = event["Timestamp"]
        elif kind == _SQL + "Start":
            timeline.executions[event["executionId"]] = Execution(label(event), event["time"])
        elif kind == _SQL + "End" and event["executionId"] in timeline.executions:
            timeline.executions[event["executionId"]].end = event["time"]
        elif kind == "SparkListenerJobStart":
            execution = (event.get("Properties") or {}).get("spark.sql.execution.id")
            job_starts[event["Job ID"]] = (
                event["Submission Time"],
                int(execution) if execution is not None else None,
            )
        elif kind == "SparkListenerJobEnd" and event["Job ID"] in job_starts:
            started, execution = job_starts.pop(event["Job ID"])
            span = (started, event["Completion Time"])
            timeline.jobs.append(span)
            if execution in timeline.executions:
                timeline.executions[execution].jobs.append(span)
    return timeline


def covered(spans: list[tuple[int, int]]) -> int:
    """Milliseconds during which at least one of ``spans`` was running."""
    total, reach = 0, None
    for start, end in sorted(spans):
        if reach is None or start > reach:
            total += end - start
            reach = end
        elif end > reach:
            total += end - reach
            reach = end
    return total


def summary(timeline: Timeline, top: int) -> str:
    """A table of the longest executions (grouped by description) and the idle share."""
    groups: dict[str, list[Execution]] = defaultdict(list)
    for execution in timeline.executions.values():
        groups[execution.description[:58]].append(execution)
    rows = sorted(groups.items(), key=lambda item: -sum(e.wall for e in item[1]))
    lines = [f"{'execution':<60}{'n':>4}{'wall s':>9}{'jobs s':>9}{'jobs':>6}"]
    for description, executions in rows[:top]:
        wall = sum(e.wall for e in executions) / 1000
        jobs = [span for e in executions for span in e.jobs]
        lines.append(
            f"{description:<60}{len(executions):>4}{wall:>9.2f}"
            f"{covered(jobs) / 1000:>9.2f}{len(jobs):>6}"
        )
    if timeline.start is not None and timeline.jobs:
        end = timeline.end or max(end for _, end in timeline.jobs)
        span = (end - timeline.start) / 1000
        busy = covered(timeline.jobs) / 1000
        lines.append(
            f"application {span:.2f} s: {len(timeline.jobs)} jobs running {busy:.2f} s, "
            f"none running {span - busy:.2f} s; {len(timeline.executions)} SQL executions"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("event_log", type=Path, help="one application's event log file")
    parser.add_argument("--top", type=int, default=25, help="executions shown")
    args = parser.parse_args(argv)
    print(summary(read(args.event_log), args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
