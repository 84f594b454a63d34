"""How often an always-on run compacts: `run --trigger continuous` as a user starts it, a
new process over a root with history, fed a page a second.

A root of ``--pages`` pages is caught up first (available-now, a process of its own);
then the continuous run starts in a new process and a page lands every ``--every``
seconds for ``--minutes``. At the end: each table's commits while fed, by operation, the
bytes its data files added on disk, and gold against the plain-Python computation.

    .venv/bin/python -m tests.bench.compaction --pages 2000 --minutes 3
    .venv/bin/python -m tests.bench.compaction --tree /path/to/other/checkout   # the same there
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from checkpoints_config import local
from streaming.pipeline.checkpoints import local_table_version
from streaming.read.storage import on_disk
from tests.bench.generate import generate
from tests.invariants import assert_invariants, operations_since


def command(*argv: str) -> list[str]:
    """The command line run from the tree under test (its folder first on the path)."""
    return [sys.executable, "-m", "streaming.cli", *argv]


def feed(args: argparse.Namespace) -> dict:
    tree = Path(args.tree).resolve()
    env = {**os.environ, "PYTHONPATH": str(tree)}
    root = Path(tempfile.mkdtemp(prefix="bench-compaction-", dir=args.out))
    config = local(root / "lakehouse")
    landing = Path(config.landing_path)
    generate(landing, args.pages, seed=5)
    history = command("run", "--root", str(root / "lakehouse"))
    subprocess.run(history, env=env, cwd=tree, check=True, capture_output=True)
    started = {ref.key: local_table_version(ref.path) for ref in config.all_tables()}
    disk_before = {ref.key: on_disk(ref.path).bytes for ref in config.all_tables()}
    always_on = command(
        "run", "--trigger", "continuous", "--interval", args.interval,
        "--root", str(root / "lakehouse"),
    )  # fmt: skip
    run = subprocess.Popen(always_on, env=env, cwd=tree, stderr=subprocess.PIPE, text=True)
    page, deadline = args.pages, time.monotonic() + args.minutes * 60
    while time.monotonic() < deadline and run.poll() is None:
        generate(landing, 1, seed=5, first_page=page)
        page += 1
        time.sleep(args.every)
    time.sleep(20)  # the last pages reach gold
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=300)
    if run.returncode != 0:
        raise SystemExit(f"the continuous run failed: {err[-2000:]}")
    assert_invariants(config)
    return {
        "tree": str(tree),
        "fed": page - args.pages,
        "commits": {
            ref.key: operations_since(ref.path, started[ref.key]) for ref in config.all_tables()
        },
        "added_mib": {
            ref.key: round((on_disk(ref.path).bytes - disk_before[ref.key]) / 2**20, 1)
            for ref in config.all_tables()
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000, help="pages of history first")
    parser.add_argument("--minutes", type=float, default=3, help="how long pages are fed")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between pages")
    parser.add_argument("--interval", default="1s", help="the streams' trigger interval")
    parser.add_argument("--tree", default=".", help="the checkout whose code runs")
    parser.add_argument("--out", default="bench-results", help="folder for the roots")
    args = parser.parse_args(argv)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    result = feed(args)
    print(f"{result['tree']}: {result['fed']} pages fed")
    for key, ops in result["commits"].items():
        print(f"  {key}: {ops}, {result['added_mib'][key]} MiB more on disk")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
