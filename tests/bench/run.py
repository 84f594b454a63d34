"""`make bench`: the pipeline against a one-shot peer and a naive Spark recompute.

Scenarios per size: (a) backfill with available-now, (b) a re-run with nothing new,
(c) +1 % new files in the same process and (c') in a fresh process, (d) a trickle of one
file every 200 ms into a continuous run, timed from landing to gold with nothing else
running, (e) the same trickle with a DataFusion `query` on gold started every 2 s, (f) the
same trickle into `serve`, with `query` (Spark SQL) and `status` timed as whole processes.
Gold is checked against a plain-Python computation first: no correct gold, no timing.
Writes one JSON file per run and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from checkpoints_config import PipelineConfig, Trigger, local
from producers.landing import SPARK_READ_OPTIONS
from streaming.pipeline.runner import run_available_now, run_continuous
from streaming.pipeline.streams import as_landed_files
from streaming.pipeline.tables import history, table_version
from streaming.pipeline.transforms import gold as gold_transforms
from streaming.pipeline.transforms import silver as silver_transforms
from streaming.pipeline.transforms.bronze import with_parsed_envelope
from streaming.runtime.session import get_spark
from tests.bench.generate import generate
from tests.bench.listener import BatchTimes
from tests.bench.peer import peer_gold
from tests.bench.targets import by_size, judge
from tests.invariants import files_per_commit, gold_counts, ground_truth

SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "300k": 300_000}


class GateError(RuntimeError):
    """Gold differs from the plain-Python ground truth: no timing is reported."""


def gate(spark, config: PipelineConfig) -> None:
    expected = ground_truth(config).gold
    if gold_counts(config) != expected:
        raise GateError("pipeline gold differs from the plain-Python ground truth")


def table_stats(spark, config: PipelineConfig) -> dict[str, dict]:
    """Per table: version, data files now, and the most files one commit added."""
    added = files_per_commit(spark, config)
    stats = {}
    for ref in config.all_tables():
        stats[ref.name] = {
            "version": table_version(spark, ref),
            "files": spark.sql(f"DESCRIBE DETAIL {ref.sql_name}").first()["numFiles"],
            "max_files_per_commit": max(added[ref.key], default=0),
        }
    return stats


def jvm_peak_rss_mb(spark) -> float | None:
    """The driver JVM's peak resident memory (VmHWM), in MiB."""
    proc = getattr(spark.sparkContext._gateway, "proc", None)
    if proc is None:
        return None
    for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def naive_recompute(spark, config: PipelineConfig, out: Path) -> float:
    """What the original notebooks did: read every file, rebuild gold, overwrite it."""
    start = time.perf_counter()
    files = as_landed_files(
        spark.read.format("text").options(**SPARK_READ_OPTIONS).load(config.landing_path)
    )
    titles = (
        files.transform(with_parsed_envelope)
        .transform(silver_transforms.explode_search_results)
        .transform(silver_transforms.clean_search_results)
        .transform(silver_transforms.filter_valid_records)
        .transform(silver_transforms.deduplicate_titles)
    )
    gold_transforms.release_counts(titles).write.format("delta").mode("overwrite").save(str(out))
    return time.perf_counter() - start


def timed_run(spark, config: PipelineConfig, listener: BatchTimes) -> dict:
    listener.clear()
    start = time.perf_counter()
    run_available_now(spark, config)
    seconds = time.perf_counter() - start
    time.sleep(0.5)  # listener events are delivered asynchronously
    return {"seconds": round(seconds, 3), "streams": listener.summary()}


def fresh_process_run(root: Path) -> dict:
    """`omdb-lakehouse run` in a new process: total wall time and its session start."""
    env = {**os.environ, "OMDB_LAKEHOUSE_ROOT": str(root)}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "streaming.runtime.session"],
        env=env,
        check=True,
        capture_output=True,
    )
    session = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "streaming.cli", "run"], env=env, check=True, capture_output=True
    )
    return {"seconds": round(time.perf_counter() - start, 3), "session_start": round(session, 3)}


def trickle(
    spark,
    config: PipelineConfig,
    listener: BatchTimes,
    seconds: float,
    every: float,
    *,
    first: int,
    query_every: float | None = None,
) -> dict:
    """(d) one new file every ``every`` s into a continuous run, timed landing → gold.

    (e) With ``query_every``, a DataFusion `query` on gold is started that often (when
    the previous one has finished) while files trickle in: freshness under a paced read
    load. Without it, nothing else runs: freshness alone. Either way one Spark-engine
    `query` is timed after gold has caught up, the streams still running.
    """
    landing = Path(config.landing_path)
    listener.clear()
    base_total = sum(gold_counts(config).values())
    stop = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            run_continuous(spark, config.with_trigger(Trigger("continuous", "0.5s")), stop)
        except BaseException as exc:
            errors.append(exc)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    time.sleep(15)  # let the three queries start before the clock runs
    query_seconds: dict[str, list[float]] = {"datafusion": [], "spark": []}
    env = {**os.environ, "OMDB_LAKEHOUSE_ROOT": str(Path(config.table_root).parent)}

    def query(engine: str) -> subprocess.Popen:
        sql = "SELECT sum(total_releases) FROM omdb_releases_gold"
        return subprocess.Popen(
            [sys.executable, "-m", "streaming.cli", "query", sql, "--engine", engine],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    running: subprocess.Popen | None = None
    query_started = 0.0

    def pace_queries() -> None:
        nonlocal running, query_started
        if running is not None and running.poll() is not None:
            query_seconds["datafusion"].append(time.perf_counter() - query_started)
            running = None
        if query_every and running is None and time.perf_counter() - query_started >= query_every:
            running, query_started = query("datafusion"), time.perf_counter()

    landed_at = land_trickle(landing, first, seconds, every, on_each=pace_queries)
    n = len(landed_at)
    if running is not None:
        running.wait()
        query_seconds["datafusion"].append(time.perf_counter() - query_started)
    # Wait until gold has counted every trickled title; then one Spark query, then stop.
    wait_until = time.time() + 120
    while sum(gold_counts(config).values()) < base_total + n and time.time() < wait_until:
        time.sleep(1)
    query_started = time.perf_counter()
    query("spark").wait()
    query_seconds["spark"].append(time.perf_counter() - query_started)
    stop.set()
    runner.join(timeout=120)
    if errors:
        raise errors[0]
    gate(spark, config)
    return {
        "files": n,
        **freshness(spark, config, landed_at, one_new_title_each(landed_at, base_total)),
        "streams": listener.summary(),
        **{
            f"query_{engine}_s_p50": round(statistics.median(times), 3) if times else None
            for engine, times in query_seconds.items()
        },
        "queries": {engine: len(times) for engine, times in query_seconds.items()},
    }


def freshness(spark, config: PipelineConfig, landed_at: list[float], needed: list[int]) -> dict:
    """Landing → gold: for the i-th page, the first gold commit whose total reaches
    ``needed[i]`` (the distinct titles once it is counted), minus its landing time."""
    commits = sorted(
        (row["version"], row["timestamp"].timestamp())
        for row in history(spark, config.table("gold")).collect()
    )
    totals = []
    for version, stamp in commits:
        df = (
            spark.read.format("delta")
            .option("versionAsOf", version)
            .load(config.table("gold").path)
        )
        totals.append((stamp, df.groupBy().sum("total_releases").first()[0] or 0))
    return freshness_from(totals, landed_at, needed)


def freshness_from(
    totals: list[tuple[float, int]], landed_at: list[float], needed: list[int]
) -> dict:
    """Freshness from gold's total at known times: (when, total) in time order."""
    lags = []
    for t, total_needed in zip(landed_at, needed, strict=True):
        done = next(
            (stamp for stamp, total in totals if total >= total_needed and stamp >= t - 1), None
        )
        if done is not None:
            lags.append(max(done - t, 0.0))
    return {
        "freshness_p50_s": round(statistics.median(lags), 3) if lags else None,
        "freshness_p95_s": round(statistics.quantiles(lags, n=20)[-1], 3)
        if len(lags) > 1
        else None,
        "counted": len(lags),
    }


def one_new_title_each(landed_at: list[float], base_total: int) -> list[int]:
    """Gold's total once each trickled page (one new title each) is counted."""
    return [base_total + i + 1 for i in range(len(landed_at))]


def _percentiles(name: str, times: list[float]) -> dict:
    if not times:
        return {f"{name}_count": 0}
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
    return {
        f"{name}_count": len(times),
        f"{name}_p50_s": round(statistics.median(times), 3),
        f"{name}_p95_s": round(p95, 3),
    }


def serving(spark, config: PipelineConfig, seconds: float, every: float, *, first: int) -> dict:
    """(f) `serve` on the root while a file lands every ``every`` s: freshness, and `query`
    (Spark SQL, one every second) and `status` (one every 5 s) each timed as a whole process.
    """
    root = Path(config.table_root).parent
    landing = Path(config.landing_path)
    base_total = sum(gold_counts(config).values())
    log = root / "logs" / "bench-serve.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    cli = [sys.executable, "-m", "streaming.cli"]
    with open(log, "w") as out:
        server = subprocess.Popen(
            [*cli, "serve", "--root", str(root), "--interval", "0.5s"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    record = Path(config.state_path) / "serve.json"
    deadline = time.time() + 300
    while not record.exists() and server.poll() is None and time.time() < deadline:
        time.sleep(0.5)
    if not record.exists():
        server.kill()
        raise RuntimeError(f"serve did not start; see {log}")
    time.sleep(15)  # its queries' first batches, as in the trickle
    sql = (
        "SELECT release_year, media_type, total_releases FROM omdb_releases_gold "
        "WHERE release_year >= 2000 ORDER BY total_releases DESC LIMIT 10"
    )
    timings: dict[str, list[float]] = {"query": [], "status": []}
    stop = threading.Event()

    def clients() -> None:
        last_status = 0.0
        while not stop.is_set():
            started = time.perf_counter()
            kind = "status" if started - last_status >= 5 else "query"
            argv = ["status"] if kind == "status" else ["query", sql]
            done = subprocess.run([*cli, *argv, "--root", str(root)], capture_output=True)
            if done.returncode == 0:
                timings[kind].append(time.perf_counter() - started)
            if kind == "status":
                last_status = started
            stop.wait(max(0.0, 1.0 - (time.perf_counter() - started)))

    load = threading.Thread(target=clients, daemon=True)
    load.start()
    landed_at = land_trickle(landing, first, seconds, every)
    n = len(landed_at)
    stop.set()
    load.join()
    wait_until = time.time() + 120
    while sum(gold_counts(config).values()) < base_total + n and time.time() < wait_until:
        time.sleep(1)
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=120)
    gate(spark, config)
    return {
        "files": n,
        **freshness(spark, config, landed_at, one_new_title_each(landed_at, base_total)),
        **_percentiles("query", timings["query"]),
        **_percentiles("status", timings["status"]),
    }


def land_trickle(
    landing: Path,
    first: int,
    seconds: float,
    every: float,
    on_each: Callable[[], None] | None = None,
) -> list[float]:
    """Land one new-title page every ``every`` s for ``seconds``; returns each landing time."""
    landed_at: list[float] = []
    deadline = time.time() + seconds
    while time.time() < deadline:
        generate_one(landing, first + len(landed_at))
        landed_at.append(time.time())
        if on_each:
            on_each()
        time.sleep(every)
    return landed_at


def generate_one(landing: Path, number: int) -> None:
    """One page with one brand-new title (so gold's total grows by exactly one)."""
    from tests.pages import Landing, item

    Landing(landing).page(
        [item(f"tt{number:09d}", f"Trickle {number}", "2020")], term=f"trickle {number}"
    )


def warm_up(spark, out: Path) -> None:
    """One small run first: session start and JIT warm-up stay out of the timings."""
    root = Path(tempfile.mkdtemp(prefix="bench-warmup-", dir=out))
    config = local(root)
    generate(Path(config.landing_path), 20, seed=99)
    run_available_now(spark, config)
    shutil.rmtree(root, ignore_errors=True)


def bench_size(label: str, pages: int, repeat: int, out: Path, with_trickle: bool) -> dict:
    results: dict = {"size": label, "pages": pages, "runs": []}
    spark = get_spark("omdb-lakehouse-bench")
    warm_up(spark, out)
    listener = BatchTimes()
    spark.streams.addListener(listener)
    for attempt in range(repeat):
        root = Path(tempfile.mkdtemp(prefix=f"bench-{label}-", dir=out))
        config = local(root)
        landing = Path(config.landing_path)
        generate(landing, pages, seed=attempt)
        run: dict = {"attempt": attempt}
        run["backfill"] = timed_run(spark, config, listener)
        gate(spark, config)
        run["backfill"]["pages_per_s"] = round(pages / run["backfill"]["seconds"], 1)
        run["peer_seconds"] = round(peer_gold(landing, root / "peer_gold")[1], 3)
        run["naive_spark_seconds"] = round(naive_recompute(spark, config, root / "naive_gold"), 3)
        run["rerun_nothing_new"] = timed_run(spark, config, listener)
        generate(landing, max(pages // 100, 1), seed=attempt, first_page=pages)
        run["plus_1pct_same_process"] = timed_run(spark, config, listener)
        gate(spark, config)
        generate(landing, max(pages // 100, 1), seed=attempt, first_page=pages + pages // 100 + 1)
        run["plus_1pct_fresh_process"] = fresh_process_run(root)
        gate(spark, config)
        if with_trickle and attempt == 0:
            run["trickle_alone"] = trickle(
                spark, config, listener, seconds=60, every=0.2, first=10_000_000
            )
            run["trickle_with_queries"] = trickle(
                spark, config, listener, seconds=60, every=0.2, first=20_000_000, query_every=2.0
            )
            run["serving"] = serving(spark, config, seconds=60, every=0.2, first=30_000_000)
        run["tables"] = table_stats(spark, config)
        run["jvm_peak_rss_mb"] = jvm_peak_rss_mb(spark)
        results["runs"].append(run)
        shutil.rmtree(root, ignore_errors=True)
    spark.streams.removeListener(listener)
    return results


def medians(result: dict) -> dict:
    def med(path: list[str]) -> float | None:
        values = []
        for run in result["runs"]:
            value = run
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if value is not None:
                values.append(value)
        return round(statistics.median(values), 3) if values else None

    backfill = med(["backfill", "seconds"])
    peer = med(["peer_seconds"])
    return {
        "backfill_s": backfill,
        "pages_per_s": med(["backfill", "pages_per_s"]),
        "peer_s": peer,
        "ours_over_peer": round(backfill / peer, 1) if backfill and peer else None,
        "naive_spark_s": med(["naive_spark_seconds"]),
        "rerun_s": med(["rerun_nothing_new", "seconds"]),
        "plus_1pct_same_s": med(["plus_1pct_same_process", "seconds"]),
        "plus_1pct_fresh_s": med(["plus_1pct_fresh_process", "seconds"]),
        "fresh_session_start_s": med(["plus_1pct_fresh_process", "session_start"]),
        "jvm_peak_rss_mb": med(["jvm_peak_rss_mb"]),
    }


def table(report: dict) -> str:
    """The medians per size as an aligned, readable table."""
    columns = [
        ("size", "size"),
        ("backfill_s", "backfill s"),
        ("pages_per_s", "pages/s"),
        ("peer_s", "peer s"),
        ("ours_over_peer", "ours/peer"),
        ("naive_spark_s", "naive Spark s"),
        ("rerun_s", "re-run s"),
        ("plus_1pct_same_s", "+1% same s"),
        ("plus_1pct_fresh_s", "+1% fresh s"),
        ("fresh_session_start_s", "session start s"),
        ("jvm_peak_rss_mb", "JVM peak MiB"),
    ]
    rows = [
        [size["size"], *(size["medians"].get(k) for k, _ in columns[1:])]
        for size in report["sizes"]
    ]
    cells = [[title for _, title in columns]] + [
        ["-" if v is None else str(v) for v in r] for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    for size in report["sizes"]:
        for kind in ("trickle_alone", "trickle_with_queries", "serving"):
            trickle = next((r[kind] for r in size["runs"] if kind in r), None)
            if trickle:
                brief = {k: v for k, v in trickle.items() if k != "streams"}
                lines.append(f"{size['size']} {kind}: " + json.dumps(brief))
    return "\n".join(lines)


def targets_text(reports: list[dict]) -> str:
    """Every target with its measured figure: met, MISSED, or not measured."""
    return "\n".join(["targets:", *(v.line() for v in judge(by_size(reports)))])


def environment() -> dict:
    return {
        "python": platform.python_version(),
        "pyspark": metadata.version("pyspark"),
        "delta_spark": metadata.version("delta-spark"),
        "deltalake": metadata.version("deltalake"),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("--sizes", default="1k,10k", help="comma-separated: 1k, 10k, 100k")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (medians reported)")
    parser.add_argument("--out", default="bench-results", help="folder for the JSON results")
    parser.add_argument("--trickle", action="store_true", help="also run (d) and (e), 60 s each")
    parser.add_argument(
        "--show",
        nargs="+",
        metavar="JSON",
        help="run nothing: judge the targets over results written before (later files win)",
    )
    args = parser.parse_args(argv)
    if args.show:
        reports = [json.loads(Path(name).read_text()) for name in args.show]
        print(targets_text(reports))
        return 0
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    report = {"environment": environment(), "sizes": []}
    for label in args.sizes.split(","):
        if label not in SIZES:
            parser.error(f"unknown size {label!r}; use {', '.join(SIZES)}")
        repeat = 1 if label == "100k" else args.repeat
        result = bench_size(label, SIZES[label], repeat, out, args.trickle and label == "10k")
        result["medians"] = medians(result)
        report["sizes"].append(result)
        print(f"{label}: " + json.dumps(result["medians"]), flush=True)
    path = out / f"bench-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2))
    print(table(report))
    print(targets_text([report]))
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
