"""`make bench`'s soak: a continuous run fed pages for a while, with maintenance on a
short cadence, sampling what each table holds on disk as time goes.

A page lands every ``--every`` seconds (10 results, about 5 % of ids seen before, so
re-runs of a producer are imitated); the run vacuums every ``--maintain-every`` with a
deleted-file retention of ``--retention`` seconds (a laptop's day does not fit a
benchmark) and ``--log-retention`` seconds of commits. Every ``--sample`` seconds each
table's live bytes and files, the bytes and data files in its folder and its log
entries are recorded, with the landing
folder's live and archived pages. At the end: gold against the plain-Python
computation, every batch's time (p95 of the first and the last minutes), freshness
(landing to the first time gold's total, polled every 0.5 s, counts the page's new titles,
over the pages that brought one), a page's way to gold hop by hop (``tests.bench.hops``),
the Spark jobs each stream's batches ran (from the run's event log), the CPU share the
process took while fed and, over ``--idle`` seconds before the first page, with nothing
landing, and a plot of the samples.

    .venv/bin/python -m tests.bench.soak --pages 10000 --minutes 30
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

from checkpoints_config import Maintenance, Trigger, local
from producers.landing import landed_files
from streaming.pipeline.archive import archived_pages
from streaming.pipeline.checkpoints import local_table_version
from streaming.pipeline.runner import run_available_now, run_continuous
from streaming.read.storage import on_disk
from streaming.runtime.session import get_spark
from tests.bench import timeline
from tests.bench.generate import BASE_TIME, generate
from tests.bench.hops import commits, jobs_per_batch, print_split, split
from tests.bench.listener import BatchTimes
from tests.bench.run import freshness_from, gate
from tests.invariants import delta_rs_rows, gold_counts, operations_since, titles_by_fetch


def sample(spark, config, started: float) -> dict:
    """One row per table of what is live and what is on disk, and the landing's pages."""
    tables = {}
    for ref in config.all_tables():
        detail = spark.sql(f"DESCRIBE DETAIL delta.`{ref.path}`").first()
        disk = on_disk(ref.path)
        tables[ref.key] = {
            "live_bytes": int(detail["sizeInBytes"]),
            "live_files": int(detail["numFiles"]),
            **dataclasses.asdict(disk),
        }
    return {
        "t": round(time.time() - started, 1),
        "tables": tables,
        "landing_live": len(landed_files(config.landing_path)),
        "landing_archived": len(archived_pages(config)),
    }


def soak(spark, args, out: Path) -> dict:
    root = Path(tempfile.mkdtemp(prefix="bench-soak-", dir=out))
    base = local(root)
    upkeep = Maintenance(
        args.retention, max(args.retention, args.log_retention), args.maintain_every
    )
    history = dataclasses.replace(base, maintenance=upkeep)
    landing = Path(history.landing_path)
    generate(landing, args.pages, seed=11)
    run_available_now(spark, history)  # the history, caught up before the clock runs
    config = history.with_trigger(Trigger("continuous", args.interval))
    caught_up = {ref.key: local_table_version(ref.path) for ref in config.all_tables()}
    listener = BatchTimes()
    spark.streams.addListener(listener)
    stop, errors = threading.Event(), []

    def run() -> None:
        try:
            run_continuous(spark, config, stop)
        except BaseException as exc:
            errors.append(exc)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    idle = idle_share(args.idle)
    watch = GoldWatch(config)
    watch.start()
    started, cpu_before = time.time(), cpu_seconds()
    samples, landed_at = [sample(spark, config, started)], []
    next_sample = started + args.sample
    page = args.pages
    while time.time() - started < args.minutes * 60 and not errors:
        generate(landing, 1, seed=11, first_page=page)
        landed_at.append(time.time())
        page += 1
        if time.time() >= next_sample:
            samples.append(sample(spark, config, started))
            next_sample += args.sample
        time.sleep(args.every)
    # Let gold count the last pages, then stop and check.
    time.sleep(30)
    stop.set()
    watch.stop.set()
    runner.join(timeout=300)
    spark.streams.removeListener(listener)
    if errors:
        raise errors[0]
    samples.append(sample(spark, config, started))
    gate(spark, config)
    return {
        "pages": args.pages,
        "landed": len(landed_at),
        "freshness": soak_freshness(config, args.pages, landed_at, watch.totals),
        "hops": split(
            landed_at,
            listener.spans,
            {key: commits(config.table(key).path) for key in ("bronze", "silver", "gold")},
        ),
        "idle_cpu_share": idle,
        "cpu_share": round((cpu_seconds() - cpu_before) / ((time.time() - started) * cores()), 2),
        "gold_total": sum(gold_counts(config).values()),
        "batches": dict(listener.batches),
        "samples": samples,
        "operations": {
            ref.key: operations_since(ref.path, caught_up[ref.key]) for ref in config.all_tables()
        },
    }


class GoldWatch(threading.Thread):
    """Gold's total every ``every`` seconds, read by delta-rs (no Spark job): time travel
    cannot tell it afterwards, since the soak's retention lets VACUUM remove old files."""

    def __init__(self, config, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.path, self.every = config.table("gold").path, every
        self.totals: list[tuple[float, int]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(self.every):
            try:
                rows = delta_rs_rows(self.path, ["total_releases"])
            except Exception:  # a file vacuumed under the read: the next poll sees it
                continue
            self.totals.append((time.time(), sum(row["total_releases"] for row in rows)))


def soak_freshness(
    config, first_page: int, landed_at: list[float], totals: list[tuple[float, int]]
) -> dict:
    """Landing → gold for each fed page that brought a title gold had not counted (a page
    of re-observations only changes no total, so its arrival cannot be told)."""
    titles = titles_by_fetch(config)
    pages, needed, before = [], [], titles.get(BASE_TIME + timedelta(seconds=first_page - 1))
    for i, landed in enumerate(landed_at):
        total = titles.get(BASE_TIME + timedelta(seconds=first_page + i))
        if total is not None and before is not None and total > before:
            pages.append(landed)
            needed.append(total)
        before = total if total is not None else before
    return freshness_from(totals, pages, needed)


def cpu_seconds() -> float:
    """CPU time of this process and its children (the JVM) so far."""
    import psutil

    me = psutil.Process()
    times = [me.cpu_times()] + [child.cpu_times() for child in me.children(recursive=True)]
    return sum(t.user + t.system for t in times)


def idle_share(seconds: float, settle: float = 10.0) -> float | None:
    """The share of every core the always-on streams take with nothing landing, over
    ``seconds`` after ``settle`` seconds for them to start."""
    if seconds <= 0:
        return None
    time.sleep(settle)
    before, started = cpu_seconds(), time.time()
    time.sleep(seconds)
    return round((cpu_seconds() - before) / ((time.time() - started) * cores()), 3)


def cores() -> int:
    return os.cpu_count() or 1


def p95(values: list[float]) -> float | None:
    if len(values) < 2:
        return values[0] if values else None
    return statistics.quantiles(values, n=20)[-1]


def window_p95(result: dict, stream: str, first: bool, seconds: float) -> float | None:
    """p95 of a stream's batch times in the first or last ``seconds`` of the soak."""
    times = [b["triggerExecution"] / 1000 for b in result["batches"].get(stream, [])]
    count = len(times)
    # Batches are in order; take the share of them that the window is of the whole.
    share = min(seconds / (result["samples"][-1]["t"] or 1), 1.0)
    n = max(int(count * share), 1)
    return p95(times[:n] if first else times[-n:])


def on_disk_ratio(table: dict) -> float:
    return table["bytes"] / max(table["live_bytes"], 1)


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = result["samples"]
    t = [s["t"] / 60 for s in samples]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for key in samples[0]["tables"]:
        ratio = [
            s["tables"][key]["bytes"] / max(s["tables"][key]["live_bytes"], 1) for s in samples
        ]
        axes[0].plot(t, ratio, label=key)
        axes[1].plot(t, [s["tables"][key]["data_files"] for s in samples], label=key)
        axes[2].plot(t, [s["tables"][key]["log_entries"] for s in samples], label=key)
    for axis, title in zip(
        axes, ("bytes on disk / live", "data files on disk", "_delta_log entries"), strict=True
    ):
        axis.set_title(title)
        axis.set_xlabel("minutes")
        axis.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10_000, help="pages of history first")
    parser.add_argument("--minutes", type=float, default=30, help="how long pages are fed")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between pages")
    parser.add_argument("--interval", default="1s", help="the streams' trigger interval")
    parser.add_argument("--maintain-every", type=float, default=120, help="vacuum cadence (s)")
    parser.add_argument("--retention", type=int, default=60, help="deleted-file retention (s)")
    parser.add_argument("--log-retention", type=int, default=300, help="commits kept (s)")
    parser.add_argument(
        "--idle", type=float, default=60, help="seconds of nothing landing first, for CPU"
    )
    parser.add_argument("--sample", type=float, default=30, help="seconds between samples")
    parser.add_argument("--out", default="bench-results", help="folder for the results")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    events = (out / "events").resolve()
    os.environ.update(timeline.with_event_log(dict(os.environ), events))
    spark = get_spark("omdb-bench-soak", log_dir=out / "logs")
    result = soak(spark, args, out)
    app_id = spark.sparkContext.applicationId
    spark.stop()  # the event log is whole once the application ends
    result["jobs_per_batch"] = jobs_per_batch(events / app_id)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"soak-{stamp}.json").write_text(json.dumps(result, indent=2))
    plot(result, out / f"soak-{stamp}.png")
    window = min(300.0, result["samples"][-1]["t"] / 3)
    for stream in sorted(result["batches"]):
        first, last = (
            window_p95(result, stream, True, window),
            window_p95(result, stream, False, window),
        )
        ratio = f"{last / first:.2f}" if first and last else "n/a"
        print(
            f"{stream}: batch p95 first {window:.0f} s {first:.2f} s, "
            f"last {last:.2f} s (ratio {ratio})"
        )
    end = result["samples"][-1]
    for key, table in end["tables"].items():
        print(
            f"{key}: on disk {on_disk_ratio(table):.2f} x live, "
            f"{table['data_files']} data files, {table['log_entries']} log entries"
        )
    print(f"landing: {end['landing_live']} live, {end['landing_archived']} archived")
    for key, ops in result["operations"].items():
        print(f"{key}: commits while fed: {ops}")
    print_split(result["hops"], result["jobs_per_batch"])
    print(
        f"CPU: this process and its JVM used {result['cpu_share']:.0%} of every core while fed, "
        f"{result['idle_cpu_share'] or 0:.1%} idle"
    )
    fresh = result["freshness"]
    print(
        f"freshness (landing to gold) over {fresh['counted']} pages: "
        f"p50 {fresh['freshness_p50_s']} s, p95 {fresh['freshness_p95_s']} s (target 5 s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
