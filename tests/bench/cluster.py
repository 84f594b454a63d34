"""A backfill on `local[2]` against a two-worker standalone cluster on this machine.

The same landed pages (``tests.bench.generate``) are caught up by ``omdb-lakehouse run``
in a new process, once per sample on a fresh copy of the root, in turn: on ``local[2]``
(one JVM, two cores) and on a master with two one-core workers started here
(``streaming.runtime.cluster``: a driver JVM and an executor JVM per worker). What the
distribution costs, or saves, is the ratio of the two::

    python -m tests.bench.cluster --pages 1000 --repeat 3 --out bench-results
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from checkpoints_config import load_target
from streaming.runtime import cluster as standalone
from tests.bench.generate import generate
from tests.processes import cli, cli_env


def one_run(template: Path, work: Path, master: str) -> float:
    """Seconds of a whole ``run`` process over a fresh copy of ``template``."""
    root = work / "root"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(template, root)
    env = cli_env(OMDB_LAKEHOUSE_ROOT=str(root), OMDB_SPARK_MASTER=master)
    start = time.monotonic()
    done = subprocess.run(cli("run"), env=env, capture_output=True, text=True)
    seconds = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit(f"run on {master} failed: {done.stdout[-500:]}{done.stderr[-500:]}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="omdb-bench-cluster-") as folder:
        work = Path(folder)
        template = work / "template"
        generate(Path(load_target("local", root=template).landing_path), args.pages, seed=7)
        cluster = standalone.start(work / "cluster", workers=2, cores=1)
        try:
            samples: dict[str, list[float]] = {"local[2]": [], "2 workers": []}
            for n in range(args.repeat):
                for name, master in (("local[2]", "local[2]"), ("2 workers", cluster.master_url)):
                    samples[name].append(one_run(template, work, master))
                    print(f"  sample {n + 1}: {name} {samples[name][-1]:.1f} s", file=sys.stderr)
        finally:
            standalone.stop(work / "cluster")
    ratios = [c / w for c, w in zip(samples["2 workers"], samples["local[2]"], strict=True)]
    result = {
        "pages": args.pages,
        "seconds": samples,
        "median": {name: statistics.median(values) for name, values in samples.items()},
        "median_ratio_cluster_over_local": statistics.median(ratios),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"cluster-{args.pages}.json").write_text(json.dumps(result, indent=2))
    print(
        json.dumps(result["median"]),
        f"cluster / local: {result['median_ratio_cluster_over_local']:.2f}",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
