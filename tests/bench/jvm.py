"""Where a warm session's JVM spends its CPU: small available-now runs in one process.

Lands a seeded wave of pages (as the tests land them) before each run, and reports each
run's wall time and each stream's share, then what the JVM's own counters say of the
whole: its CPU time, the JIT's compile time and the garbage collectors' time. JVM options
(``--java-option``, through ``JAVA_TOOL_OPTIONS``) and session confs (``--conf``, through
``OMDB_SPARK_CONF``) let one variant be set against the defaults, one process each:

    .venv/bin/python -m tests.bench.jvm --waves 8
    .venv/bin/python -m tests.bench.jvm --waves 8 --java-option=-XX:+UseParallelGC
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import psutil

from checkpoints_config import local
from streaming.runtime.session import EXTRA_CONF_ENV


def jvm_counters(spark) -> dict[str, float]:
    """The JVM's CPU seconds so far (the operating system's count for this process's
    ``java`` child), its compile and GC seconds (its management beans)."""
    (java,) = [p for p in psutil.Process().children(recursive=True) if p.name() == "java"]
    cpu = java.cpu_times()
    management = spark._jvm.java.lang.management.ManagementFactory
    collectors = management.getGarbageCollectorMXBeans()
    return {
        "cpu": cpu.user + cpu.system,
        "jit": management.getCompilationMXBean().getTotalCompilationTime() / 1e3,
        "gc": sum(collectors.get(i).getCollectionTime() for i in range(collectors.size())) / 1e3,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waves", type=int, default=8, help="runs, each after a new wave")
    parser.add_argument("--java-option", action="append", default=[], help="a JVM option")
    parser.add_argument("--conf", action="append", default=[], help="a session conf, k=v")
    args = parser.parse_args(argv)
    if args.java_option:
        os.environ["JAVA_TOOL_OPTIONS"] = " ".join(args.java_option)
    if args.conf:
        os.environ[EXTRA_CONF_ENV] = ";".join(
            filter(None, [os.environ.get(EXTRA_CONF_ENV)]) + args.conf
        )

    # Imported after the environment is set: the session reads it when it starts.
    from streaming.pipeline.runner import run_available_now
    from streaming.runtime.session import get_spark
    from tests.pages import Landing
    from tests.waves import land_wave

    root = Path(tempfile.mkdtemp(prefix="bench-jvm-"))
    config = local(root / "lakehouse")
    landing, rng = Landing(config.landing_path), random.Random(7)
    spark = get_spark("omdb-bench-jvm", log_dir=root / "logs")
    started, walls = time.perf_counter(), []
    print(f"{'run':>3}{'wall s':>9}  streams (s)")
    for wave in range(args.waves):
        land_wave(landing, rng, wave)
        times: dict[str, float] = {}
        last = [time.perf_counter()]

        def done(summary, times=times, last=last) -> None:
            now = time.perf_counter()
            times[summary.name], last[0] = round(now - last[0], 2), now

        start = time.perf_counter()
        run_available_now(spark, config, on_stream_done=done)
        walls.append(time.perf_counter() - start)
        print(f"{wave:>3}{walls[-1]:>9.2f}  {times}")
    counters = jvm_counters(spark)
    spark.stop()
    total = time.perf_counter() - started
    print(
        f"runs after the first: median {statistics.median(walls[1:]):.2f} s; in all "
        f"{total:.1f} s, JVM CPU {counters['cpu']:.1f} s ({counters['cpu'] / total:.2f} cores), "
        f"JIT compiling {counters['jit']:.1f} s, GC {counters['gc']:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
