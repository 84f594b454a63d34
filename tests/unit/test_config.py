"""checkpoints_config: typed, validated, per target."""

from __future__ import annotations

import dataclasses

import pytest

from checkpoints_config import (
    ConfigError,
    Maintenance,
    StreamConfig,
    TableNames,
    Trigger,
    load_target,
    local,
)
from checkpoints_config.model import DAY, interval_seconds, normalize_interval


def test_local_target_puts_everything_under_the_root(tmp_path):
    config = local(tmp_path)
    assert config.landing_path == str(tmp_path / "landing" / "omdb" / "search")
    assert config.silver.checkpoint_location == str(tmp_path / "checkpoints" / "silver")
    assert config.table("gold").path == str(tmp_path / "tables" / "omdb_releases_gold")
    assert config.table("gold").full_name is None
    assert config.archive_path == str(tmp_path / "archive")
    assert not config.use_auto_loader


def test_root_comes_from_the_environment_when_not_given(tmp_path, monkeypatch):
    monkeypatch.setenv("OMDB_LAKEHOUSE_ROOT", str(tmp_path / "env-root"))
    assert local().table_root == str(tmp_path / "env-root" / "tables")
    assert local(tmp_path / "flag").table_root == str(tmp_path / "flag" / "tables")


def test_databricks_targets_use_volumes_and_unity_catalog_names():
    config = load_target("prod", catalog="main", schema="omdb")
    assert config.landing_path == "/Volumes/main/omdb/landing/omdb/search"
    assert config.bronze.checkpoint_location == "/Volumes/main/omdb/checkpoints/bronze"
    assert config.bronze.schema_location == "/Volumes/main/omdb/checkpoints/bronze/_schemas"
    assert config.table("silver").full_name == "`main`.`omdb`.`omdb_releases_silver`"
    assert config.use_auto_loader
    # Auto Loader moves files only within the source's volume, and not below the source.
    assert config.archive_path == "/Volumes/main/omdb/landing/archive"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"catalog": "main; DROP TABLE x", "schema": "omdb"},
        {"catalog": "main", "schema": "om`db"},
        {"catalog": "main", "schema": ""},
        {"catalog": None, "schema": "omdb"},
    ],
)
def test_bad_catalog_or_schema_is_refused(kwargs):
    with pytest.raises(ConfigError):
        load_target("dev", **kwargs)


def test_table_names_are_validated_before_any_sql():
    with pytest.raises(ConfigError, match="table name for gold"):
        TableNames(gold="gold; DROP TABLE silver")


def test_unknown_target_is_refused():
    with pytest.raises(ConfigError, match="target must be one of"):
        load_target("staging")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5s", "5 seconds"),
        ("500ms", "500 milliseconds"),
        ("2 minutes", "2 minutes"),
        ("1 min", "1 minutes"),
        ("1.5s", "1.5 seconds"),
    ],
)
def test_intervals_are_normalized(text, expected):
    assert normalize_interval(text) == expected


@pytest.mark.parametrize("text", ["", "fast", "0s", "-1s", "5 parsecs", "0.0001ms", "1.5ms"])
def test_bad_intervals_are_refused(text):
    with pytest.raises(ConfigError, match="interval"):
        normalize_interval(text)


def test_trigger_kwargs():
    assert Trigger().as_kwargs() == {"availableNow": True}
    assert Trigger("continuous", "2s").as_kwargs() == {"processingTime": "2 seconds"}
    with pytest.raises(ConfigError):
        Trigger("sometimes")


def test_with_trigger_sets_every_stream_and_the_quality_stream_no_faster_than_its_floor(tmp_path):
    config = local(tmp_path).with_trigger(Trigger("continuous", "1s"))
    chain = {s.name: s.trigger.as_kwargs()["processingTime"] for s in config.streams}
    assert chain == {
        "bronze": "1 seconds",
        "silver": "1 seconds",
        "gold": "1 seconds",
        "quality": "30 seconds",
    }
    slow = local(tmp_path).with_trigger(Trigger("continuous", "2 minutes"))
    assert {s.trigger.interval for s in slow.streams} == {"2 minutes"}
    once = local(tmp_path).with_trigger(Trigger())
    assert {s.trigger.one_shot for s in once.streams} == {True}


def test_stream_config_validates_its_limits():
    with pytest.raises(ConfigError, match="max_files_per_trigger"):
        StreamConfig("bronze", "/cp", max_files_per_trigger=0)
    with pytest.raises(ConfigError, match="stream must be one of"):
        StreamConfig("platinum", "/cp")


def test_a_root_of_any_legal_name_is_kept_as_given(tmp_path):
    for name in ["My Projects", "runs [2026] {a,b} *?", "été 東京", "100%", "#1", "a:b"]:
        assert local(tmp_path / name).landing_path.startswith(str(tmp_path / name))


def test_a_root_spark_cannot_read_literally_is_refused_in_one_line(tmp_path):
    for path in (tmp_path / "a:b [1]", tmp_path / "a:b" / "[1]"):
        with pytest.raises(ConfigError, match="choose another folder"):
            local(path)


@pytest.mark.parametrize("inside", ["tables", "checkpoints", "landing", "state"])
def test_a_root_inside_another_roots_folders_is_refused(tmp_path, inside):
    for folder in ("tables", "state"):
        (tmp_path / "outer" / folder).mkdir(parents=True)
    with pytest.raises(ConfigError, match=f"inside the {inside} folder"):
        local(tmp_path / "outer" / inside / "inner")
    assert local(tmp_path / "outer-sibling").table_root  # a folder beside it is fine


def test_a_laptop_keeps_replaced_files_a_day_and_databricks_keeps_deltas_defaults(tmp_path):
    laptop = local(tmp_path).maintenance
    assert (laptop.deleted_file_retention, laptop.log_retention) == (DAY, 7 * DAY)
    cloud = load_target("dev", catalog="main", schema="omdb").maintenance
    assert (cloud.deleted_file_retention, cloud.log_retention) == (7 * DAY, 30 * DAY)
    assert laptop.table_properties() == {
        "delta.autoOptimize.autoCompact": "true",
        "delta.deletedFileRetentionDuration": "interval 86400 seconds",
        "delta.logRetentionDuration": "interval 604800 seconds",
    }


def test_maintenance_refuses_a_log_kept_shorter_than_deleted_files_or_no_cadence():
    with pytest.raises(ConfigError, match="log must be kept at least as long"):
        Maintenance(deleted_file_retention=DAY, log_retention=3600)
    with pytest.raises(ConfigError, match="cadence"):
        Maintenance(every=0)


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("2 minutes", 120), ("1h", 3600)])
def test_the_maintenance_cadence_is_an_interval(tmp_path, text, seconds):
    assert interval_seconds(text) == seconds
    assert local(tmp_path).with_maintenance_every(text).maintenance.every == seconds
    with pytest.raises(ConfigError, match="interval must look like"):
        local(tmp_path).with_maintenance_every("often")


def test_an_archive_inside_the_landing_folder_is_refused(tmp_path):
    config = local(tmp_path)
    with pytest.raises(ConfigError, match="archive_path must not lie inside landing_path"):
        dataclasses.replace(config, archive_path=config.landing_path + "/archive")
