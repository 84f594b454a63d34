"""`run --trigger continuous` in its own process, queried from another while it runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from producers.job import run_producer
from producers.landing import SET_ASIDE
from producers.produce import Search
from streaming.cli import main
from streaming.tables import read_table
from tests.invariants import assert_invariants

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "streaming.cli", *args]


def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"run exited early ({proc.returncode}): {proc.stderr.read()}")
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_continuous_run_serves_queries_and_stops_cleanly_on_ctrl_c(spark, config, tmp_path, capsys):
    root = str(tmp_path / "lakehouse")
    run_producer(config, [Search("batman")], offline=True)
    env = {**os.environ, "OMDB_LAKEHOUSE_ROOT": root}
    run = subprocess.Popen(
        cli("run", "--trigger", "continuous", "--interval", "1s"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        gold = config.table("gold")

        def gold_has_rows() -> bool:
            try:
                return read_table(spark, gold).count() > 0
            except Exception:  # the table may not exist yet
                return False

        wait_for(gold_has_rows, 240, "gold to fill", run)
        # More pages while it runs: they must reach gold without a restart.
        run_producer(config, [Search("matrix")], offline=True)
        wait_for(
            lambda: (
                read_table(spark, config.table("silver"))
                .where("movie_title LIKE '%Matrix%'")
                .count()
                > 0
            ),
            120,
            "the new pages to reach silver",
            run,
        )

        # A link planted while it runs is set aside within seconds, never read.
        outside = tmp_path / "outside.json"
        outside.write_text('{"secret": "not for bronze"}')
        link = Path(config.landing_path) / "planted.json"
        link.symlink_to(outside)
        wait_for(lambda: not os.path.lexists(link), 30, "the planted link to be set aside", run)
        assert (Path(config.landing_path) / SET_ASIDE / "planted.json").is_symlink()

        query = subprocess.run(
            cli("query", "SELECT count(*) AS n FROM omdb_releases_silver", "--format", "json"),
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert query.returncode == 0, query.stderr
        assert json.loads(query.stdout)[0]["n"] > 0
        assert run.poll() is None, "run stopped while being queried"

        # A second writer on the same root is refused, in one line, and changes nothing.
        assert main(["run", "--root", root]) == 1
        assert "is busy (run by pid" in capsys.readouterr().err

        def caught_up() -> bool:
            try:
                assert_invariants(spark, config)
                return True
            except AssertionError:
                return False

        wait_for(caught_up, 120, "gold to catch up with every landed page", run)
    finally:
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    assert "stopped cleanly" in err and "Traceback" not in err
    assert "set aside" in err and "planted.json: a link" in err
    assert_invariants(spark, config)
    assert "not for bronze" not in "".join(
        r.raw for r in read_table(spark, config.table("bronze")).collect()
    )
