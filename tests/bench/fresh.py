"""`make bench`'s fresh-process breakdown: where a new process's small increment goes.

On a root of N pages already caught up, land one page (or ``--new`` pages) and time, in
a new Python process each time: imports, the session's start (JVM, Delta), preparing
the tables, and each layer's stream from its start to its stop, with the phases of its
batches (from a StreamingQueryListener). Medians over ``--repeat`` processes, once with
the JVM's class archive and once without (``OMDB_CLASS_ARCHIVE=off``), or once per
``--variant NAME:VAR=VALUE`` (an environment variable set for that variant's processes)
beside the default.

    .venv/bin/python -m tests.bench.fresh --pages 3000 --repeat 5
    .venv/bin/python -m tests.bench.fresh --repeat 3 \
        --variant "c1:OMDB_SPARK_CONF=spark.driver.extraJavaOptions=-XX:TieredStopAtLevel=1"

``--event-log`` also keeps each process's Spark event log and prints the first one's
timeline per variant (``tests/bench/timeline.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench import timeline

# Each stage ends where the next starts; bronze's includes preparing the run (locks,
# tables, the landing screen).
STAGES = ("imports", "session", "bronze", "silver", "gold", "total")


def one_process(root: str, first_page: int, new: int) -> dict:
    """The timed increment, in this process (run as ``python -m tests.bench.fresh --one``)."""
    start = time.perf_counter()
    from checkpoints_config import local
    from streaming.pipeline.runner import run_available_now
    from streaming.runtime.session import get_spark
    from tests.bench.generate import generate
    from tests.bench.listener import BatchTimes

    config = local(root)
    generate(Path(config.landing_path), new, seed=7, first_page=first_page)
    marks = {"imports": time.perf_counter()}
    # As `run` starts it: tuned for a short process (SHORT_LIVED_CONF).
    spark = get_spark("omdb-bench-fresh", log_dir=Path(root) / "logs", short_lived=True)
    marks["session"] = time.perf_counter()
    listener = BatchTimes()
    spark.streams.addListener(listener)

    def done(summary) -> None:
        marks[summary.name] = time.perf_counter()

    run_available_now(spark, config, on_stream_done=done)
    marks["total"] = time.perf_counter()
    time.sleep(0.5)  # listener events arrive asynchronously
    times, previous = {}, start
    for stage in STAGES[:-1]:
        times[stage] = round(marks[stage] - previous, 3)
        previous = marks[stage]
    times["total"] = round(marks["total"] - start, 3)
    return {"seconds": times, "batches": listener.summary()}


def prepare(pages: int, out: Path) -> str:
    from checkpoints_config import local
    from streaming.pipeline.runner import run_available_now
    from streaming.runtime.session import get_spark
    from tests.bench.generate import generate

    root = tempfile.mkdtemp(prefix=f"bench-fresh-{pages}-", dir=out)
    config = local(root)
    generate(Path(config.landing_path), pages, seed=7)
    spark = get_spark("omdb-bench-fresh-setup", log_dir=Path(root) / "logs")
    run_available_now(spark, config)
    spark.stop()
    return root


def variants(given: list[str] | None) -> dict[str, dict[str, str]]:
    """Each variant's environment: the default beside ``given``, or archive against none."""
    if not given:
        return {"archive": {}, "no archive": {"OMDB_CLASS_ARCHIVE": "off"}}
    chosen: dict[str, dict[str, str]] = {"default": {}}
    for text in given:
        name, _, assignment = text.partition(":")
        var, sep, value = assignment.partition("=")
        if not name or not sep or not var:
            raise SystemExit(f"--variant takes NAME:VAR=VALUE, got {text!r}")
        chosen.setdefault(name, {})[var] = value
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=3000, help="pages of history")
    parser.add_argument("--new", type=int, default=1, help="pages landed before each run")
    parser.add_argument("--repeat", type=int, default=5, help="processes per variant")
    parser.add_argument("--out", default="bench-results", help="folder for the JSON results")
    parser.add_argument(
        "--variant",
        action="append",
        metavar="NAME:VAR=VALUE",
        help="compare the default with VAR=VALUE set (repeat for more variables or variants)",
    )
    parser.add_argument(
        "--event-log", action="store_true", help="keep Spark's event logs; print timelines"
    )
    parser.add_argument("--one", nargs=2, metavar=("ROOT", "FIRST_PAGE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_process(args.one[0], int(args.one[1]), args.new)))
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    root = prepare(args.pages, out)
    environments = variants(args.variant)
    results: dict[str, list[dict]] = {variant: [] for variant in environments}
    page = args.pages
    for sample in range(args.repeat):
        for variant, extra in environments.items():  # interleaved: drift moves all alike
            env = {**os.environ, **extra}
            events = Path(root) / "events" / f"{variant}-{sample}".replace(" ", "-")
            if args.event_log:
                env = timeline.with_event_log(env, events)
            argv_one = ["--one", root, str(page), "--new", str(args.new)]
            done = subprocess.run(
                [sys.executable, "-m", "tests.bench.fresh", *argv_one],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            results[variant].append(json.loads(done.stdout.strip().splitlines()[-1]))
            page += args.new
            if args.event_log and sample == 0:
                print(f"-- {variant}")
                print(timeline.summary(timeline.read(next(events.iterdir())), top=30))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"fresh-{stamp}.json").write_text(json.dumps(results, indent=2))
    print(f"{'stage':<8}" + "".join(f"{v:>14}" for v in results))
    for stage in STAGES:
        medians = [statistics.median(r["seconds"][stage] for r in rs) for rs in results.values()]
        print(f"{stage:<8}" + "".join(f"{m:>13.2f}s" for m in medians))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
