"""``omdb-lakehouse serve`` as its own process for a test module, and the CLI beside it
with no Java on PATH (an answer then proves it came from the server)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from checkpoints_config import local
from streaming.read.serve_client import ServeRecord, record_path
from tests.invariants import ground_truth
from tests.processes import cli, cli_env

START_SECONDS = 240  # a JVM start and the first batches, on a busy 2-core machine
GOLD_SECONDS = 240


def run_cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cli(*argv), env=env, capture_output=True, text=True)


class Served:
    def __init__(self, root: Path, process: subprocess.Popen, log: Path, no_java: dict) -> None:
        self.root, self.process, self.log, self.no_java = root, process, log, no_java
        self.config = local(root)

    @property
    def record(self) -> ServeRecord:
        return ServeRecord.load(record_path(self.config))

    def cli(self, *argv: str) -> subprocess.CompletedProcess:
        """The CLI on this root, with no Java to be found: only the server can answer."""
        return run_cli(*argv, "--root", str(self.root), env=self.no_java)

    def gold_total(self) -> int:
        sql = "SELECT coalesce(sum(total_releases), 0) AS n FROM omdb_releases_gold"
        done = self.cli("query", sql, "--format", "json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)[0]["n"]

    def land_and_wait_for_gold(self, *terms: str, max_pages: int = 2) -> int:
        """``produce`` pages of ``terms``, then wait until ``query`` (from this other
        process) sees gold hold them; gold's total."""
        landed = self.cli("produce", "--terms", ",".join(terms), "--max-pages", str(max_pages))
        assert landed.returncode == 0, landed.stderr
        expected = sum(ground_truth(self.config).gold.values())
        deadline = time.monotonic() + GOLD_SECONDS
        while self.gold_total() != expected:
            assert time.monotonic() < deadline, "gold did not catch up"
            time.sleep(1)
        return expected


def start_served(
    tmp_path_factory: pytest.TempPathFactory, *options: str, before=None
) -> Iterator[Served]:
    """Serve a new root until the module ends; ``before(config)`` prepares the root."""
    root = tmp_path_factory.mktemp("served")
    config = local(root)
    if before is not None:
        before(config)
    log = root.parent / f"{root.name}-serve.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            cli("serve", "--root", str(root), *options),
            env=cli_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    no_java = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"} | {
        "PATH": str(tmp_path_factory.mktemp("no-java"))
    }
    server = Served(root, process, log, no_java)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        path = record_path(config)
        if path.is_file() and ServeRecord.load(path).pid == process.pid:
            break
        time.sleep(0.5)
    else:
        process.kill()
        pytest.fail(f"serve did not start: {log.read_text()[-2000:]}")
    yield server
    if process.poll() is None:
        process.kill()
        process.wait()
