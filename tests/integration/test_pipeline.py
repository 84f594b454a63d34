"""The whole chain on local Spark + Delta: invariants, re-runs, newer and stale observations."""

from __future__ import annotations

import pytest

from checkpoints_config import PipelineConfig, local
from producers.landing import landing_fingerprint
from streaming.pipeline.checkpoints import landing_seen
from streaming.pipeline.layers import layer
from streaming.pipeline.runner import caught_up, run_available_now
from streaming.pipeline.tables import read_table
from streaming.read.spark_sql import answer_sql, reader_session
from tests.invariants import assert_invariants, files_per_commit, gold_counts, table_versions
from tests.pages import Landing, item

pytestmark = pytest.mark.spark


def land_fixture_pages(landing) -> None:
    landing.page(
        [
            item("tt0076759", "Star Wars", "1977", poster="https://img/sw.jpg"),
            item("tt0458290", "Star Wars: The Clone Wars", "2008–2020", "series"),
            item("tt12708542", "Star Wars: The Bad Batch", "2021–", "series"),
            item("tt0076759", "Star Wars", "1977"),  # duplicate within a page
        ],
        page=1,
        total=14,
    )
    landing.page(
        [
            item("tt0076759", "Star Wars", "1977"),  # duplicate across pages
            item("tt0080684", "Star Wars: Episode V", "1980", NewField="ignored"),
            item("tt9999999", "   ", "2001"),  # empty title
            item("nm0000001", "Not a title", "2002"),  # bad id
            item("tt1111111", "Odd type", "2003", "podcast"),
            item("tt2222222", "No year", "N/A"),
            item("tt3333333", "Star Wars Game", "2005-2006", "game"),
        ],
        page=2,
        total=14,
        surprise={"new": "field"},
    )
    landing.not_found()
    landing.raw('{"envelope_version": 1, "source": "omdb", "respo')  # truncated


@pytest.fixture(scope="module")
def ran(on_runtime, tmp_path_factory) -> PipelineConfig:
    """The fixture pages run once per runtime; the tests taking it only read, or change nothing."""
    config = local(tmp_path_factory.mktemp("pipeline") / "lakehouse")
    land_fixture_pages(Landing(config.landing_path))
    with on_runtime() as spark:
        run_available_now(spark, config)
    return config


def test_available_now_meets_the_invariants(any_spark, ran):
    truth = assert_invariants(ran)
    assert len(truth.silver) == 5
    assert truth.failed_records == 4
    assert truth.corrupt_pages == 1
    series = read_table(any_spark, ran.table("silver")).where("imdb_id = 'tt12708542'").first()
    assert (series.release_year, series.end_year, series.media_type) == (2021, None, "series")


def test_dq_metrics_count_every_rule_per_batch(any_spark, ran):
    metrics = {
        r.rule: (r.passed, r.failed)
        for r in read_table(any_spark, ran.table("dq_metrics")).collect()
    }
    assert metrics == {
        "movie_title_not_empty": (10, 1),
        "imdb_id_format": (10, 1),
        "media_type_allowed": (10, 1),
        "release_year_present": (10, 1),
        "page_well_formed": (3, 1),
    }


def test_a_query_loads_only_the_tables_it_names(any_spark, ran):
    reader = reader_session(any_spark, ran)  # where queries are answered
    names = [ref.name for ref in ran.all_tables()]
    for name in names:
        reader.catalog.dropTempView(name)
    gold = ran.table("gold").name

    columns, rows = answer_sql(any_spark, ran, f"SELECT sum(total_releases) AS n FROM {gold}")

    assert (columns, rows[0]["n"]) == (["n"], 5)
    assert [n for n in names if reader.catalog.tableExists(n)] == [gold]
    # Naming none (SHOW TABLES): every table, as before.
    answer_sql(any_spark, ran, "SHOW TABLES")
    assert all(reader.catalog.tableExists(n) for n in names)


def test_second_run_with_nothing_new_changes_no_table(any_spark, ran):
    before = table_versions(ran)
    # What lets the second run start no query: bronze's checkpoint vouches for every
    # landed file, silver and gold read every version.
    bronze_checkpoint = ran.stream("bronze").checkpoint_location
    assert landing_seen(bronze_checkpoint) == landing_fingerprint(ran.landing_path)
    assert all(caught_up(ran, layer(name)) for name in ("silver", "gold", "quality"))

    summary = run_available_now(any_spark, ran)

    assert table_versions(ran) == before
    assert [s.batches for s in summary.streams] == [0, 0, 0, 0]
    assert_invariants(ran)


def test_a_layer_with_unread_source_versions_is_not_caught_up(spark, config, landing):
    land_fixture_pages(landing)
    run_available_now(spark, config)
    landing.page([item("tt9000001", "Late", "2020")], term="late")
    layer("bronze").start(spark, config).awaitTermination()  # bronze alone: silver is behind

    assert not caught_up(config, layer("silver"))
    assert caught_up(config, layer("gold"))  # silver has not moved yet
    run_available_now(spark, config)
    assert_invariants(config)
    assert "tt9000001" in {r.imdb_id for r in read_table(spark, config.table("silver")).collect()}


def test_newer_observation_moves_one_count_and_stale_one_is_ignored(spark, config, landing):
    land_fixture_pages(landing)
    run_available_now(spark, config)
    gold_before = gold_counts(config)

    landing.page([item("tt0080684", "Star Wars: Episode V", "1981")], term="empire", minutes=60)
    landing.page([item("tt0080684", "Star Wars: Episode V", "1979")], term="empire", minutes=-60)
    run_available_now(spark, config)

    assert_invariants(config)
    row = read_table(spark, config.table("silver")).where("imdb_id = 'tt0080684'").first()
    assert row.release_year == 1981
    gold_after = gold_counts(config)
    expected = dict(gold_before)
    expected[(1980, "movie")] -= 1
    if expected[(1980, "movie")] == 0:
        del expected[(1980, "movie")]
    expected[(1981, "movie")] = expected.get((1981, "movie"), 0) + 1
    assert gold_after == expected


@pytest.fixture
def one_partition(spark):
    """The session with one shuffle partition: every batch may write one file per table."""
    keys = ("spark.sql.shuffle.partitions",)
    saved = {key: spark.conf.get(key, None) for key in keys}
    for key in keys:
        spark.conf.set(key, "1")
    yield 1
    for key, value in saved.items():
        if value is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, value)


def test_each_batch_commits_once_per_table_with_at_most_partitions_files(
    spark, config, landing, one_partition
):
    for wave in range(2):
        for page in range(40):
            landing.page([item(f"tt{wave:03d}{page:04d}", f"Title {page} " * 40, "1999")])
        landing.page([item(f"nm{wave:07d}", "Not a title", "1999")])  # one for quarantine
        landing.raw("{")  # and a corrupt page: quarantine gets records and pages
        run_available_now(spark, config)

    commits = files_per_commit(spark, config)
    for key, files in commits.items():
        assert len(files) == 2, f"{key}: one commit per batch, got {files}"
        assert all(1 <= n <= one_partition for n in files), f"{key}: {files}"
