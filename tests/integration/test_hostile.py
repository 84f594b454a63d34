"""Hostile paths and hostile landing files: each works, or is refused or set aside, never stuck."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from checkpoints_config import local
from producers.landing import SET_ASIDE
from streaming.cli import main
from streaming.pipeline.reset import _write_pending
from streaming.pipeline.runner import run_available_now
from streaming.pipeline.tables import empty_table, read_table
from tests.invariants import assert_invariants
from tests.pages import Landing, item
from tests.waves import land_wave

pytestmark = pytest.mark.spark

TEN_YEARS = 60 * 24 * 365 * 10  # minutes


@pytest.mark.parametrize("name", ["My Projects [2026] {a,b} *? été %20 #1", "a:b été #1 x=1"])
def test_a_root_named_with_spaces_globs_unicode_percent_hash_or_colon_works(
    spark, tmp_path, capsys, name
):
    # Spark's file source reads [ ] { } * ? in a path as a pattern, and Hadoop reads
    # % and # in URIs: the root is passed so that every one is read literally. delta-rs
    # reads a path as a URL ('%' decoded, '#' and '?' cut it short): status and report
    # use Spark there, and read this root's tables, not a folder named by a prefix.
    root = tmp_path / name
    config = local(root)
    landing = Landing(config.landing_path)
    landing.page([item("tt0000001", "One", "2001")])
    landing.page([item("tt0000002", "Two", "2002", kind="series")], minutes=1)

    assert main(["run", "--root", str(root)]) == 0
    truth = assert_invariants(config)
    assert set(truth.silver) == {"tt0000001", "tt0000002"}

    capsys.readouterr()
    assert main(["status", "--format", "json", "--root", str(root)]) == 0
    tables = {t["name"]: t["rows"] for t in json.loads(capsys.readouterr().out)["tables"]}
    assert tables["omdb_releases_silver"] == 2
    assert main(["report", "--root", str(root), "--out", str(tmp_path / "report")]) == 0
    assert (tmp_path / "report" / "report.html").stat().st_size > 0
    sql = "SELECT count(*) AS n FROM omdb_releases_gold"
    assert main(["query", sql, "--engine", "datafusion", "--root", str(root)]) == 1
    assert "use --engine spark" in capsys.readouterr().err


def test_hostile_landing_entries_are_set_aside_or_quarantined_never_a_stuck_stream(
    spark, config, landing, tmp_path, capsys
):
    good = landing.page([item("tt0000001", "Good", "2001")])
    folder = good.parent
    secret = tmp_path / "outside.json"
    secret.write_text('{"secret": "not for bronze"}')
    os.symlink(secret, folder / "link.json")
    os.symlink(tmp_path / "gone.json", folder / "dangling.json")
    colon = landing.page([item("tt0000002", "Colon", "2002")], minutes=1)
    colon.rename(colon.with_name("a:b.json"))
    latin1 = landing.page([item("tt0000003", "Caf\u00e9", "2003")], minutes=2)
    latin1.write_bytes(latin1.read_bytes().replace("Caf\u00e9".encode(), b"Caf\xe9"))
    landing.page([item("tt0000004", "From the future", "2004")], minutes=TEN_YEARS)
    root = str(Path(config.table_root).parent)

    assert main(["run", "--root", root]) == 0

    err = capsys.readouterr().err
    assert err.count("set aside ") == 3 and "a link" in err and "':'" in err
    bronze = read_table(spark, config.table("bronze"))
    assert "not for bronze" not in "".join(r.raw for r in bronze.collect())
    reasons = {r._corrupt_reason for r in bronze.collect()}
    assert reasons == {None, "not_utf8", "fetched_at_in_future"}
    quarantined = read_table(spark, config.table("quarantine")).where("result_index IS NULL")
    assert sorted(r.failed_rules[0] for r in quarantined.collect()) == [
        "page_well_formed:fetched_at_in_future",
        "page_well_formed:not_utf8",
    ]
    truth = assert_invariants(config)
    assert set(truth.silver) == {"tt0000001"}
    (moved,) = Path(config.landing_path).rglob("a:b.json")
    assert moved.is_relative_to(Path(config.landing_path) / SET_ASIDE)

    assert main(["status", "--root", root, "--format", "json"]) == 0
    bronze_lag = json.loads(capsys.readouterr().out)["streams"][0]["lag"]
    assert bronze_lag == f"0 files pending, 3 set aside in {SET_ASIDE}/ (not read)"


def test_a_reset_interrupted_after_emptying_silver_is_completed_by_the_next_run(
    spark, config, landing, capsys
):
    land_wave(landing, random.Random(5), wave=0)
    run_available_now(spark, config)
    # The state a `reset --stream silver` killed mid-way leaves: its record written,
    # silver emptied, the checkpoints still in place.
    _write_pending(config, "silver")
    empty_table(spark, config.table("silver"))

    assert main(["run", "--root", str(Path(config.table_root).parent)]) == 0

    assert "completing an interrupted reset from silver" in capsys.readouterr().err
    assert_invariants(config)
    assert not (Path(config.state_path) / "reset-pending.json").exists()
