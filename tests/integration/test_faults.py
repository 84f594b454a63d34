"""Exactly once under faults, modelled on Spark's and Delta's own streaming test suites.

Each scenario runs the real queries on local Spark + Delta, then checks the DESIGN.md
invariants against a ground truth computed from the landed files in plain Python.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from streaming.cli import main
from streaming.errors import LakehouseError
from streaming.pipeline.runner import run_available_now
from streaming.pipeline.tables import read_table
from tests.invariants import assert_invariants, table_versions
from tests.pages import item
from tests.waves import land_wave

pytestmark = pytest.mark.spark


def last_commit(checkpoint: str) -> Path:
    commits = [p for p in Path(checkpoint, "commits").iterdir() if p.name.isdigit()]
    return max(commits, key=lambda p: int(p.name))


def test_stop_land_more_and_restart_counts_every_record_once(spark, config, landing):
    rng = random.Random(1)
    land_wave(landing, rng, wave=0)
    run_available_now(spark, config)
    assert_invariants(config)

    land_wave(landing, rng, wave=1)
    land_wave(landing, rng, wave=2)
    run_available_now(spark, config)

    assert_invariants(config)


def test_a_batch_whose_commit_was_lost_reruns_without_effect(any_spark, config, landing):
    spark = any_spark
    # The sink wrote but the process died before the checkpoint's commit file: on
    # restart the batch runs again with the same id and must be skipped. One layer at
    # a time, last first, so each re-run has only that layer's batch to redo.
    land_wave(landing, random.Random(2), wave=0)
    run_available_now(spark, config)
    versions = table_versions(config)
    for stream in ("quality", "gold", "silver", "bronze"):
        lost = last_commit(config.stream(stream).checkpoint_location)
        lost.unlink()
        lost.with_name(f".{lost.name}.crc").unlink(missing_ok=True)  # a crash leaves neither

        run_available_now(spark, config)

        assert lost.exists(), f"{stream}'s batch was not re-run"
        assert table_versions(config) == versions, f"{stream}'s re-run wrote"
    assert_invariants(config)


def test_a_failure_between_the_quality_writes_recovers_consistently(any_spark, config, landing):
    spark = any_spark
    landing.page([item("tt0000009", "Nine", "2009")], term="first")
    run_available_now(spark, config)
    landing.page([item("tt0000001", "One", "2001"), item("bad", "Bad id", "2002")])
    landing.raw("{truncated")
    # A real failure after the quarantine append, on any runtime: the DQ metrics' log
    # gets a commit that cannot be read, so the append that follows fails.
    versions = table_versions(config)
    metrics_log = Path(config.table("dq_metrics").path, "_delta_log")
    broken = metrics_log / f"{versions['dq_metrics'] + 1:020d}.json"
    broken.write_text("{not a commit")

    with pytest.raises(LakehouseError, match="quality stream failed"):
        run_available_now(spark, config)
    after_failure = table_versions(config)
    assert after_failure["quarantine"] == versions["quarantine"] + 1, "quarantine goes first"
    # Gold does not wait for the quality stream: it counted the new title before it failed.
    assert after_failure["gold"] == versions["gold"] + 1

    broken.unlink()
    run_available_now(spark, config)

    assert table_versions(config)["quarantine"] == after_failure["quarantine"]  # not redone
    assert_invariants(config)
    metrics = read_table(spark, config.table("dq_metrics"))
    assert metrics.count() == metrics.select("stream", "batch_id", "rule").distinct().count()
    quarantine = read_table(spark, config.table("quarantine"))
    assert quarantine.count() == 2


def test_a_file_landed_twice_or_rewritten_is_read_once(spark, config, landing):
    first = landing.page([item("tt0000001", "One", "2001"), item("tt0000002", "Two", "2002")])
    run_available_now(spark, config)
    gold_before = read_table(spark, config.table("gold")).drop("updated_at").collect()
    versions = table_versions(config)

    shutil.copy(first, first.with_name("page-001--copy--dup.json"))  # landed twice
    # Rewritten in place, although landed files are immutable by contract: ignored.
    envelope = json.loads(first.read_text())
    envelope["response"]["Search"][0]["Year"] = "1999"
    first.write_text(json.dumps(envelope))
    run_available_now(spark, config)

    assert sorted(read_table(spark, config.table("gold")).drop("updated_at").collect()) == sorted(
        gold_before
    )
    assert read_table(spark, config.table("bronze")).count() == 2
    silver = read_table(spark, config.table("silver")).where("imdb_id = 'tt0000001'").first()
    assert silver.release_year == 2001
    # Neither adds a bronze row, so silver has nothing to commit.
    assert table_versions(config)["silver"] == versions["silver"]


def test_bad_files_do_not_stop_the_stream(spark, config, landing):
    landing.page([item("tt0000001", "Good", "2001")], term="good")
    landing.raw('{"envelope_version": 1, "source": "omdb", "response": {"Sea', name="p-1.json")
    landing.raw("", name="p-2.json")
    landing.raw(" \n", name="p-5.json")
    landing.raw('{"title": "not an envelope"}', name="p-3.json")
    landing.raw(b"\xff\xfe\x00garbage", name="p-4.json")
    latin1 = landing.page([item("tt0000003", "Caf\u00e9", "2003")], term="latin-1")
    latin1.write_bytes(latin1.read_bytes().replace("Caf\u00e9".encode(), b"Caf\xe9"))
    landing.page([item("tt0000004", "Future", "2004")], term="future", minutes=60 * 24 * 3650)
    landing.page(
        [item("tt0000002", "New fields", "2002", Rating="PG", Genres=["a", "b"])],
        term="unknown fields",
        Plot={"nested": True},
    )

    run_available_now(spark, config)

    truth = assert_invariants(config)
    assert set(truth.silver) == {"tt0000001", "tt0000002"}
    bronze = read_table(spark, config.table("bronze"))
    # The zero-byte file holds no page: Spark's file scan skips it, nothing is lost.
    assert bronze.count() == 8
    reasons = sorted(
        r._corrupt_reason for r in bronze.where("_corrupt_reason IS NOT NULL").collect()
    )
    assert reasons == [
        "empty_file",
        "fetched_at_in_future",
        "malformed_json",
        "not_an_envelope",
        "not_utf8",
        "not_utf8",
    ]
    assert "\ufffd" in bronze.where("raw LIKE '%Caf%'").first().raw  # readable by any reader
    quarantined = read_table(spark, config.table("quarantine")).where("result_index IS NULL")
    assert quarantined.count() == 6


def dq_totals(spark, config) -> dict[str, tuple[int, int]]:
    """Passed and failed per rule, over every DQ-metrics row."""
    rows = read_table(spark, config.table("dq_metrics")).groupBy("rule").sum("passed", "failed")
    return {r["rule"]: (r["sum(passed)"], r["sum(failed)"]) for r in rows.collect()}


def test_a_deleted_checkpoint_is_refused_then_reset_rebuilds(spark, config, landing, capsys):
    land_wave(landing, random.Random(3), wave=0)
    run_available_now(spark, config)
    root = str(Path(config.table_root).parent)
    counted = dq_totals(spark, config)
    # One layer at a time on the same root: each reset rebuilds from the layer below. A
    # root made before the quality stream existed is the first case: it has no quality
    # checkpoint, and `reset --stream quality` counts the rules again from bronze.
    for stream in ("quality", "gold", "silver", "bronze"):
        shutil.rmtree(config.stream(stream).checkpoint_location)
        capsys.readouterr()

        assert main(["run", "--root", root]) == 1
        err = capsys.readouterr().err
        assert f"reset --stream {stream}" in err and len(err.strip().splitlines()) == 2
        assert_invariants(config)  # refusing changed nothing

        assert main(["reset", "--stream", stream, "--root", root]) == 0
        assert main(["run", "--root", root]) == 0
        assert_invariants(config)
        assert dq_totals(spark, config) == counted
    before = table_versions(config)
    assert main(["run", "--root", root]) == 0
    assert table_versions(config) == before


def test_an_unwritable_root_is_one_clear_line_and_nothing_is_written(
    spark, config, landing, capsys
):
    landing.page([item("tt0000001", "One", "2001")])
    state = Path(config.state_path)
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text("a file where the state folder should be")
    root = str(Path(config.table_root).parent)

    assert main(["run", "--root", root]) == 1

    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].startswith("error: cannot write under")
    assert "Traceback" not in err
    assert not Path(config.table_root).exists()
