"""Table maintenance on real tables: compaction and VACUUM change nothing downstream (on
local Spark and over Spark Connect), a stream that lags behind the retention is never
vacuumed past, and maintenance killed midway breaks nothing."""

from __future__ import annotations

import dataclasses
import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from checkpoints_config import Maintenance, Trigger
from streaming.pipeline.checkpoints import live_files
from streaming.pipeline.layers import LAYERS
from streaming.pipeline.maintenance import compact_due, maintain, vacuum_refusal
from streaming.pipeline.runner import run_available_now, run_continuous
from streaming.pipeline.tables import history, read_table
from streaming.read.status import collect_status_local
from tests.invariants import (
    assert_invariants,
    commits_since,
    gold_counts,
    ground_truth,
    operations_since,
    rows,
    table_versions,
)
from tests.processes import cli, cli_env
from tests.waves import land_wave

pytestmark = pytest.mark.spark

DOWNSTREAM = ("silver", "quarantine", "dq_metrics", "gold")
RETENTION = 5  # seconds


def run_in_waves(spark, config, landing, waves: int) -> None:
    """Several runs, so that every table holds several small files to compact."""
    rng = random.Random(7)
    for wave in range(waves):
        land_wave(landing, rng, wave)
        run_available_now(spark, config)


def operations(spark, ref) -> list[str]:
    return [row["operation"] for row in history(spark, ref).collect()]


def test_a_run_compacts_a_table_once_its_log_counts_enough_files(spark, config, landing):
    # A short process's session skips auto compaction; the run compacts by the log instead.
    run_in_waves(spark, config, landing, 2)
    bronze = config.table("bronze")
    assert live_files(bronze.path) == len(read_table(spark, bronze).inputFiles()) >= 2
    versions = table_versions(config)
    assert compact_due(spark, config, at_files=100) == []
    assert table_versions(config) == versions  # nothing due: no commit

    compacted = compact_due(spark, config, at_files=2)

    assert bronze.name in compacted
    assert live_files(bronze.path) == 1
    after = table_versions(config)
    run_available_now(spark, config)
    assert {k: table_versions(config)[k] for k in DOWNSTREAM} == {k: after[k] for k in DOWNSTREAM}
    assert_invariants(config)


def test_an_always_on_run_compacts_each_table_when_its_log_counts_enough_files(
    spark, config, landing, monkeypatch
):
    monkeypatch.setattr("streaming.pipeline.tables.COMPACT_AT_FILES", 3)
    always_on = config.with_trigger(Trigger("continuous", "0.5s"))
    # The quality stream's 30 s floor would keep quarantine behind for most of the test;
    # it is a table to compact like the others, so it runs as often here.
    always_on = dataclasses.replace(
        always_on, quality=dataclasses.replace(always_on.quality, trigger=always_on.gold.trigger)
    )
    stop, said = threading.Event(), []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            run_continuous(spark, always_on, stop, say=said.append, compact_seconds=1.0)
        except BaseException as error:
            failed.append(error)

    thread = threading.Thread(target=run)
    rng = random.Random(11)
    land_wave(landing, rng, 0)
    thread.start()
    try:
        for wave in range(1, 7):  # a batch per wave: each waits for gold to hold the last
            wait_until(lambda: gold_counts(config) == ground_truth(config).gold, failed)
            land_wave(landing, rng, wave)
        wait_until(lambda: gold_counts(config) == ground_truth(config).gold, failed)
        wait_until(lambda: quarantined_now(config) == failures(ground_truth(config)), failed)
        bronze = config.table("bronze").path
        wait_until(lambda: "OPTIMIZE" in operations_since(bronze, None), failed)
    finally:
        stop.set()
        thread.join(120)
    assert not failed, failed

    # Silver by its own writer between MERGEs, bronze beside the running streams; each
    # once it held three files: a compaction leaves one, so each needs two files added
    # since the one before.
    for key in ("silver", "bronze"):
        commits = list(commits_since(config.table(key).path, None))
        compactions = sum(1 for operation, _ in commits if operation == "OPTIMIZE")
        added = sum(files for operation, files in commits if operation != "OPTIMIZE")
        assert 1 <= compactions <= added // 2, (key, commits)
    assert any(line.startswith("compacted omdb_releases_bronze: it held") for line in said)
    assert_invariants(config)


def wait_until(predicate, failed: list, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert not failed, failed
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


def quarantined_now(config) -> int:
    return len(rows(config, "quarantine", ["result_index"]))


def failures(truth) -> int:
    return truth.failed_records + truth.corrupt_pages


def test_compaction_and_vacuum_upstream_change_nothing_downstream(any_spark, config, landing):
    spark = any_spark
    run_in_waves(spark, config, landing, 2)
    bronze = config.table("bronze")
    files_before = len(read_table(spark, bronze).inputFiles())
    # As a table made before maintenance existed: without its retention property.
    quarantine = config.table("quarantine")
    spark.sql(
        f"ALTER TABLE {quarantine.sql_name} UNSET TBLPROPERTIES "
        "('delta.deletedFileRetentionDuration')"
    )
    # And silver as made before it was clustered by title.
    silver = config.table("silver")
    spark.sql(f"ALTER TABLE {silver.sql_name} CLUSTER BY NONE")

    done = {u.table: u for u in maintain(spark, config, exclusive=True)}

    assert all(u.vacuumed for u in done.values()), done
    assert sorted(t for t, u in done.items() if u.properties_set) == sorted(
        [quarantine.name, silver.name]
    )
    detail = spark.sql(f"DESCRIBE DETAIL {silver.sql_name}").first()
    assert list(detail["clusteringColumns"]) == ["imdb_id"]
    wanted = config.maintenance.table_properties()
    for ref in config.all_tables():
        shown = spark.sql(f"SHOW TBLPROPERTIES {ref.sql_name}").collect()
        assert {r["key"]: r["value"] for r in shown}.items() >= wanted.items(), ref.name
    assert "OPTIMIZE" in operations(spark, bronze)
    assert len(read_table(spark, bronze).inputFiles()) < files_before
    # status shows it: what it freed, and each table's live files beside its folder's.
    status = collect_status_local(config)
    freed = sum(max(u.bytes_before - u.bytes_after, 0) for u in done.values())
    assert (status.last_maintenance.tables, status.last_maintenance.freed_bytes) == (5, freed)
    shown = {t.name: t for t in status.tables}
    assert shown[bronze.name].live_files == len(read_table(spark, bronze).inputFiles())
    assert all(t.disk_bytes >= t.live_bytes > 0 and t.log_entries > 1 for t in status.tables)

    after_maintenance = table_versions(config)
    run_available_now(spark, config)  # bronze and silver hold commits no stream has read

    versions = table_versions(config)
    assert {k: versions[k] for k in DOWNSTREAM} == {k: after_maintenance[k] for k in DOWNSTREAM}
    assert_invariants(config)


def test_a_stream_behind_the_retention_is_not_vacuumed_past_and_recovers(spark, config, landing):
    # A retention of seconds, so that a stream falls behind it within the test.
    config = dataclasses.replace(
        config, maintenance=Maintenance(deleted_file_retention=RETENTION, log_retention=3600)
    )
    run_in_waves(spark, config, landing, 2)
    land_wave(landing, random.Random(8), 2)
    for layer in LAYERS:
        if layer.name == "gold":
            continue  # gold stays behind silver
        layer.start(spark, config).awaitTermination()
    time.sleep(RETENTION + 1)

    lines: list[str] = []
    done = {u.table: u for u in maintain(spark, config, exclusive=False, say=lines.append)}

    silver = done[config.tables.silver]
    assert not silver.vacuumed and "gold stream has not read it since" in silver.refused
    assert "omdb-lakehouse reset --stream gold" in silver.refused
    assert any("not vacuumed: the gold stream" in line for line in lines)
    assert done[config.tables.bronze].vacuumed  # silver and quality have read all of bronze
    assert done[config.tables.gold].vacuumed  # no stream reads gold

    run_available_now(spark, config)  # gold catches up, from files still there
    assert_invariants(config)
    assert vacuum_refusal(spark, config, config.table("silver")) is None


@pytest.mark.slow
def test_maintenance_killed_midway_leaves_every_table_readable_and_the_next_run_exact(
    spark, config, landing
):
    run_in_waves(spark, config, landing, 2)
    seed = time.time_ns() % 1_000_000
    env = cli_env(OMDB_LAKEHOUSE_ROOT=str(Path(config.table_root).parent))
    upkeep = subprocess.Popen(
        cli("maintain"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own group: the JVM dies with it
    )
    try:
        # Once the first table is done the JVM is mid-maintenance: kill at a random
        # moment of the rest (a compaction or VACUUM of a later table).
        for line in upkeep.stdout:
            if line.startswith("  "):
                break
        time.sleep(random.Random(seed).uniform(0.0, 3.0))
        assert upkeep.poll() is None, "maintain ended before it could be killed"
    finally:
        os.killpg(upkeep.pid, signal.SIGKILL)
        upkeep.wait(timeout=60)

    for ref in config.all_tables():
        read_table(spark, ref).count()  # every table reads
    land_wave(landing, random.Random(9), 3)
    run_available_now(spark, config)
    try:
        assert_invariants(config)
    except AssertionError as exc:
        raise AssertionError(f"killed with seed {seed}: {exc}") from exc


def truncate_log(path: str) -> int:
    """What log cleanup does to entries past the log retention: every log file before the
    newest checkpoint goes; the checkpoint's version."""
    log = Path(path) / "_delta_log"
    newest = max(int(f.name[:20]) for f in log.glob("*.checkpoint.parquet"))
    for entry in log.iterdir():
        if entry.name[:20].isdigit() and int(entry.name[:20]) < newest:
            entry.unlink()
    return newest


def test_a_table_whose_log_was_truncated_after_a_full_vacuum_keeps_being_vacuumed(
    spark, config, landing
):
    # Day 30 on Unity Catalog, in seconds: a full VACUUM (by hand, or predictive
    # optimization's), MERGEs replacing files since, and the log's older entries cleaned
    # up past its retention. Gold: no stream reads it, so no reader's lag holds VACUUM back.
    config = dataclasses.replace(
        config, maintenance=Maintenance(deleted_file_retention=RETENTION, log_retention=3600)
    )
    run_in_waves(spark, config, landing, 1)
    maintain(spark, config, exclusive=True)
    gold = config.table("gold")
    spark.sql(f"ALTER TABLE {gold.sql_name} SET TBLPROPERTIES ('delta.checkpointInterval' = '1')")
    rng = random.Random(9)
    land_wave(landing, rng, 1)
    run_available_now(spark, config)  # gold's MERGE replaces files
    assert truncate_log(gold.path) > 0
    time.sleep(RETENTION + 1)  # the replaced files are older than the retention

    for _ in range(2):  # the cadence's VACUUM, twice: LITE is refused each time now
        lines: list[str] = []
        done = {u.table: u for u in maintain(spark, config, exclusive=False, say=lines.append)}
        assert done[gold.name].vacuumed and done[gold.name].listed, done[gold.name]
        assert any("omdb_releases_gold: vacuumed in full" in line for line in lines), lines
    assert "VACUUM END" in operations(spark, gold)

    assert_invariants(config)  # VACUUM removed nothing a table reads
