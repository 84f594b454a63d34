"""`run --trigger continuous` in its own process, queried from this one while it runs.

Polling reads the tables with delta-rs: the waits cost the running pipeline no CPU.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from producers.job import run_producer
from producers.landing import SET_ASIDE
from producers.produce import Search
from streaming.cli import main
from streaming.pipeline.checkpoints import has_commits, local_table_version
from streaming.pipeline.tables import read_table
from tests.invariants import (
    assert_invariants,
    delta_rs_rows,
    gold_counts,
    ground_truth,
    operations_since,
)
from tests.processes import cli, cli_env

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"run exited early ({proc.returncode}): {proc.stderr.read()}")
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def silver_titles(config) -> list[str]:
    path = config.table("silver").path
    if not has_commits(path):
        return []
    return [r["movie_title"] for r in delta_rs_rows(path, ["movie_title"])]


def test_continuous_run_serves_queries_and_stops_cleanly_on_ctrl_c(spark, config, tmp_path, capsys):
    root = str(tmp_path / "lakehouse")
    # History first, in this process: two runs leave every table with several files, as a
    # root a continuous run is started on usually has.
    for term in ("batman", "star"):
        run_producer(config, [Search(term)], offline=True, say=lambda _: None)
        assert main(["run", "--root", root]) == 0
    capsys.readouterr()
    started_at = {ref.key: local_table_version(ref.path) for ref in config.all_tables()}
    env = cli_env(OMDB_LAKEHOUSE_ROOT=root)
    run = subprocess.Popen(
        cli("run", "--trigger", "continuous", "--interval", "1s", "--maintain-every", "15s"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: gold_counts(config), 240, "gold to fill", run)
        # More pages while it runs: they must reach gold without a restart.
        run_producer(config, [Search("matrix")], offline=True, say=lambda _: None)
        wait_for(
            lambda: any("Matrix" in (t or "") for t in silver_titles(config)),
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

        # A second Spark application (this process's) queries the tables while run writes.
        sql = "SELECT count(*) AS n FROM omdb_releases_silver"
        assert main(["query", sql, "--format", "json", "--root", root]) == 0
        assert json.loads(capsys.readouterr().out)[0]["n"] > 0
        assert run.poll() is None, "run stopped while being queried"

        # A second writer on the same root is refused, in one line, and changes nothing.
        assert main(["run", "--root", root]) == 1
        assert "is busy (run by pid" in capsys.readouterr().err

        expected = ground_truth(config).gold
        wait_for(lambda: gold_counts(config) == expected, 120, "gold to catch up", run)
        # The tables are vacuumed while the streams run (every 15 s here).
        wait_for(
            lambda: (
                "VACUUM END" in operations_since(config.table("silver").path, started_at["silver"])
            ),
            120,
            "a vacuum beside the running streams",
            run,
        )
    finally:
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    assert "stopped cleanly" in err and "Traceback" not in err
    # No table was compacted after its commits: none held 50 files (Delta 4.4's own auto
    # compaction, in a new process over tables with history, compacted after nearly each).
    while_running = {
        ref.key: operations_since(ref.path, started_at[ref.key]) for ref in config.all_tables()
    }
    assert while_running["bronze"].get("STREAMING UPDATE", 0) >= 1, while_running
    assert while_running["silver"].get("MERGE", 0) >= 1, while_running
    assert not any("OPTIMIZE" in ops for ops in while_running.values()), while_running
    assert "set aside" in err and "planted.json: a link" in err
    # Tables are vacuumed while the streams run.
    assert "maintenance: vacuuming the tables" in err and "maintenance failed" not in err
    assert "omdb_releases_silver: vacuumed" in err
    # A bronze batch may list the link in the moment before a screen moves it (the
    # documented window): then it is a page that is not an envelope, quarantined, and
    # its content reaches no table after bronze.
    read = [
        r for r in read_table(spark, config.table("bronze")).collect() if "not for bronze" in r.raw
    ]
    assert all(r._corrupt_reason == "not_an_envelope" for r in read)
    later = ("silver", "gold", "dq_metrics")
    assert not any(
        "not for bronze" in str(row)
        for name in later
        for row in read_table(spark, config.table(name)).collect()
    )
    # Gold's rows cannot tell whether silver has checked the link's page yet: a run after
    # the stop finishes what the continuous one left, then every record is counted once
    # and the link's page (if read) quarantined once.
    assert main(["run", "--root", root]) == 0
    assert_invariants(config, extra_corrupt_pages=len(read))
