"""What open tabs of the live page cost ``serve``: its processes' CPU (Python and JVM) with
no tab, then with ``--tabs`` tabs polling, over ``--seconds`` each, nothing landing; and
how long ``/live`` takes to answer. Chromium's own CPU is the reader's, not counted.

    .venv/bin/python -m tests.bench.live_tabs --tabs 3 --seconds 60
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

from checkpoints_config import local
from streaming.read.serve_client import ServeRecord, record_path
from tests.browser import launch
from tests.processes import cli, cli_env


def tree_cpu(pid: int) -> float:
    """CPU seconds the process and its children took so far."""
    root = psutil.Process(pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def cpu_share(pid: int, seconds: float) -> float:
    """The share of one core ``pid``'s tree took over ``seconds``."""
    start, began = tree_cpu(pid), time.monotonic()
    time.sleep(seconds)
    return (tree_cpu(pid) - start) / (time.monotonic() - began)


def answer_ms(record: ServeRecord, samples: int = 30) -> float:
    """Median milliseconds of ``/live`` for a client that holds gold already."""
    took = []
    for _ in range(samples):
        request = urllib.request.Request(
            f"{record.sql_url}/live?gold=999999999",
            headers={"Authorization": f"Bearer {record.token}"},
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request) as response:
            response.read()
        took.append((time.perf_counter() - started) * 1000)
        time.sleep(0.1)
    return statistics.median(took)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tabs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="live-tabs-"))
    config = local(root)
    env = cli_env()
    produced = subprocess.run(
        cli("produce", "--root", str(root), "--terms", "star wars,batman,matrix"),
        env=env,
        capture_output=True,
        text=True,
    )
    assert produced.returncode == 0, produced.stderr
    serve = subprocess.Popen(
        cli("serve", "--root", str(root)),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not (record_path(config).is_file() and ServeRecord.load(record_path(config))):
            time.sleep(0.5)
        record = ServeRecord.load(record_path(config))
        time.sleep(30)  # the first batches, then quiet
        idle = cpu_share(serve.pid, args.seconds)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = launch(playwright)
            for _ in range(args.tabs):
                browser.new_page().goto(record.page_url)
            time.sleep(5)
            watched = cpu_share(serve.pid, args.seconds)
            ms = answer_ms(record)
            browser.close()
        per_tab = (watched - idle) / args.tabs
        print(f"serve, nothing landing, no tab: {idle:.1%} of a core")
        print(f"serve with {args.tabs} tabs polling each second: {watched:.1%} of a core")
        print(f"one tab: {per_tab:+.1%} of a core; /live answers in {ms:.1f} ms (median)")
    finally:
        serve.terminate()
        serve.wait(60)


if __name__ == "__main__":
    main()
