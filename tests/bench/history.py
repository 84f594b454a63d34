"""`make bench`'s history scenario: a one-page increment on roots of growing history.

Per size: land N pages and catch up (the history), then, warm in the same session, land
one page at a time and run available-now, several times. Reports per increment the whole
run, each stream's batch time, and what silver's folder grew by on disk against its live
bytes: a batch that rewrites silver adds a whole copy of it, one that touches only its
titles adds a few KiB. Gold is checked against the plain-Python computation first.

    .venv/bin/python -m tests.bench.history --sizes 10k,100k --repeat 4
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from checkpoints_config import local
from streaming.pipeline.runner import run_available_now
from streaming.read.storage import on_disk
from streaming.runtime.session import get_spark
from tests.bench.generate import generate
from tests.bench.listener import BatchTimes
from tests.bench.run import SIZES, gate, warm_up


def live_bytes(spark, path: str) -> int:
    return int(spark.sql(f"DESCRIBE DETAIL delta.`{path}`").first()["sizeInBytes"])


def history(spark, pages: int, repeat: int, out: Path, seed: int = 7) -> dict:
    root = Path(tempfile.mkdtemp(prefix=f"bench-history-{pages}-", dir=out))
    config = local(root)
    landing = Path(config.landing_path)
    generate(landing, pages, seed=seed)
    start = time.perf_counter()
    run_available_now(spark, config)
    backfill = time.perf_counter() - start
    gate(spark, config)
    silver = config.table("silver").path
    listener = BatchTimes()
    spark.streams.addListener(listener)
    increments = []
    try:
        for i in range(repeat):
            generate(landing, 1, seed=seed, first_page=pages + i)  # ~5 % ids seen before
            before = on_disk(silver).bytes
            listener.clear()
            start = time.perf_counter()
            run_available_now(spark, config)
            seconds = time.perf_counter() - start
            time.sleep(0.5)  # listener events arrive asynchronously
            increments.append(
                {
                    "seconds": round(seconds, 3),
                    "streams": listener.summary(),
                    "silver_added_bytes": on_disk(silver).bytes - before,
                    "silver_live_bytes": live_bytes(spark, silver),
                }
            )
    finally:
        spark.streams.removeListener(listener)
    gate(spark, config)
    return {"pages": pages, "backfill_seconds": round(backfill, 1), "increments": increments}


def summary(result: dict) -> dict:
    runs = result["increments"]
    share = [r["silver_added_bytes"] / r["silver_live_bytes"] for r in runs]
    return {
        "pages": result["pages"],
        "one_page_increment_s": round(statistics.median(r["seconds"] for r in runs), 2),
        "silver_added_share": round(statistics.median(share), 4),
        "silver_live_mib": round(runs[-1]["silver_live_bytes"] / 2**20, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k", help="comma-separated: 1k, 10k, 100k")
    parser.add_argument("--repeat", type=int, default=4, help="increments per size (medians)")
    parser.add_argument("--out", default="bench-results", help="folder for the JSON results")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    spark = get_spark("omdb-bench-history", log_dir=out / "logs")
    warm_up(spark, out)
    results = [history(spark, SIZES[s], args.repeat, out) for s in args.sizes.split(",")]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"history-{stamp}.json").write_text(json.dumps(results, indent=2))
    rows = [summary(r) for r in results]
    base = rows[0]["one_page_increment_s"]
    for row in rows:
        row["vs_smallest"] = round(row["one_page_increment_s"] / base, 2)
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
