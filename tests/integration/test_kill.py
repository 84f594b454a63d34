"""SIGKILL at random moments while `run --trigger continuous` ingests waves of files.

Each kill costs a cold JVM (about half a minute here), so a run of the suite kills a
few times and every run picks new moments: the seed changes per run and a failure
names it. ``OMDB_KILLS`` and ``OMDB_KILL_SEED`` make a longer soak or replay a failure.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from streaming.pipeline.archive import archived_pages
from streaming.pipeline.checkpoints import last_committed_batch
from streaming.pipeline.runner import run_available_now
from tests.invariants import assert_invariants, every_page, rows
from tests.processes import cli, cli_env
from tests.waves import land_wave

pytestmark = [pytest.mark.spark, pytest.mark.slow]

KILLS = int(os.environ.get("OMDB_KILLS", "3"))
SEED = int(os.environ.get("OMDB_KILL_SEED", str(time.time_ns() % 1_000_000)))


def test_sigkill_loop_loses_nothing_and_counts_nothing_twice(spark, config, landing):
    rng = random.Random(SEED)
    env = cli_env(OMDB_LAKEHOUSE_ROOT=str(Path(config.table_root).parent))
    wave = 0
    for _ in range(KILLS):
        land_wave(landing, rng, wave=wave, pages=2)  # something new for bronze to commit
        wave += 1
        before = last_committed_batch(config.bronze.checkpoint_location)
        run = subprocess.Popen(
            cli("run", "--trigger", "continuous", "--interval", "0.5s"),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own group: the JVM dies with it
        )
        try:
            deadline = time.monotonic() + 120
            # Wait until the streams are live (bronze committed a batch), then land more
            # while they run and kill at a random moment of the work that follows.
            while last_committed_batch(config.bronze.checkpoint_location) == before:
                assert run.poll() is None, "run exited before being killed"
                assert time.monotonic() < deadline, "run never committed a batch"
                time.sleep(0.2)
            land_wave(landing, rng, wave=wave)
            wave += 1
            time.sleep(rng.uniform(0.0, 4.0))
        finally:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait(timeout=60)

    # After the last kill, catch up and compare with the ground truth.
    run_available_now(spark, config)
    try:
        truth = assert_invariants(config)
    except AssertionError as exc:
        raise AssertionError(f"after {KILLS} kills with OMDB_KILL_SEED={SEED}: {exc}") from exc
    assert len(truth.silver) > 10 and wave == 2 * KILLS
    # Archived under the kills too: each page is in the landing folder or the archive,
    # once, and bronze read each once.
    landed = [str(where) for _, where in every_page(config)]
    assert len(landed) == len(set(landed)) == len(rows(config, "bronze", ["_source_file"]))
    assert archived_pages(config), "bronze's source archived nothing"
