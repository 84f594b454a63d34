"""Pages bronze has read leave the landing folder; none is lost, changed or read twice,
and ``reset --stream bronze`` rebuilds the same tables from where they went.

Local Spark only: over Spark Connect the source is given the same options and runs in
the same server-side engine (the kill tests cover archiving under SIGKILL).
"""

from __future__ import annotations

import dataclasses
import hashlib
import random

import pytest

from checkpoints_config import PipelineConfig, local
from producers.landing import landed_files
from streaming.pipeline.archive import archived_pages
from streaming.pipeline.reset import reset_stream
from streaming.pipeline.runner import run_available_now
from streaming.read.status import collect_status_local
from tests.invariants import assert_invariants, every_page, gold_counts, rows
from tests.pages import Landing
from tests.waves import land_wave

pytestmark = pytest.mark.spark


def digests(config: PipelineConfig) -> dict[str, str]:
    """Every page's bytes, by where it landed."""
    return {
        str(landed): hashlib.sha256(now.read_bytes()).hexdigest()
        for now, landed in every_page(config)
    }


@pytest.fixture(scope="module")
def archived(spark, tmp_path_factory):
    """Two rounds of pages, each read in batches of two pages: all but the last batch's
    pages end up in the archive."""
    base = local(tmp_path_factory.mktemp("archived") / "lakehouse")
    config = dataclasses.replace(
        base, bronze=dataclasses.replace(base.bronze, max_files_per_trigger=2)
    )
    landing, rng = Landing(config.landing_path), random.Random(22)
    landed = {}
    for wave in range(2):
        land_wave(landing, rng, wave=wave, pages=3)
        landed |= {
            str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in landed_files(landing.path)
        }
        run_available_now(spark, config)
    return config, landed


def test_read_pages_leave_the_landing_folder_unchanged_and_counted_once(archived):
    config, landed = archived
    live, kept = landed_files(config.landing_path), archived_pages(config)
    # Six pages in batches of two: the last batch's pages are all that stay live.
    assert len(landed) == 6 and len(live) <= 2 and len(kept) == 6 - len(live)
    assert digests(config) == landed  # every page once, its bytes as landed
    assert all(page.path.is_relative_to(config.archive_path) for page in kept)
    bronze = rows(config, "bronze", ["_source_file"])
    assert sorted(r["_source_file"].removeprefix("file:") for r in bronze) == sorted(landed)
    assert_invariants(config)
    status = collect_status_local(config)
    assert (status.landing.live, status.landing.archived) == (len(live), len(kept))
    assert status.streams[0].lag == "0 files pending"


def test_reset_bronze_puts_archived_pages_back_and_rebuilds_the_same_tables(archived, spark):
    config, landed = archived
    gold_before = gold_counts(config)
    done = reset_stream(spark, config, "bronze")
    assert any("archived pages back" in line for line in done)
    assert archived_pages(config) == []
    assert sorted(str(p) for p in landed_files(config.landing_path)) == sorted(landed)
    run_available_now(spark, config)
    assert digests(config) == landed
    assert gold_counts(config) == gold_before
    assert_invariants(config)
