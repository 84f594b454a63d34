"""How a local Spark is configured, before any JVM starts."""

from __future__ import annotations

import pytest

from streaming.errors import LakehouseError
from streaming.runtime import session


def test_extra_confs_are_key_value_pairs(monkeypatch):
    monkeypatch.setenv(session.EXTRA_CONF_ENV, " a.b=1 ; c.d = x=y ;")
    assert session.extra_confs() == {"a.b": "1", "c.d": "x=y"}
    monkeypatch.setenv(session.EXTRA_CONF_ENV, "a.b=1;nonsense")
    with pytest.raises(LakehouseError, match="key=value pairs"):
        session.extra_confs()


def test_delta_jars_are_named_as_files_only_while_every_file_exists(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert "spark.jars.packages" in session.delta_jar_confs()  # nothing resolved yet

    jar = tmp_path / "delta-spark.jar"
    jar.write_bytes(b"")
    listed = session._jar_list_file()
    listed.parent.mkdir(parents=True)
    listed.write_text(f"file://{jar}\n")
    assert session.delta_jar_confs() == {"spark.jars": f"file://{jar}"}

    jar.unlink()  # a cleaned cache: back to resolving the coordinate
    assert "spark.jars.packages" in session.delta_jar_confs()


def test_java_options_with_spaces_stay_one_option(tmp_path):
    confs = session.local_confs(tmp_path / "My Projects" / "logs")
    assert "'-Dderby.system.home=" in confs["spark.driver.extraJavaOptions"]


def test_java_options_from_the_environment_add_to_ours(tmp_path, monkeypatch):
    monkeypatch.setenv(session.EXTRA_CONF_ENV, "spark.driver.extraJavaOptions=-XX:+UseSerialGC")
    options = session.local_confs(tmp_path)["spark.driver.extraJavaOptions"]
    assert "-Dlog4j.configurationFile=" in options
    assert options.endswith(" -XX:+UseSerialGC")


def test_a_short_lived_session_skips_what_only_a_long_one_pays_back(tmp_path, monkeypatch):
    monkeypatch.delenv(session.EXTRA_CONF_ENV, raising=False)
    long_lived = session.local_confs(tmp_path)
    short = session.local_confs(tmp_path, short_lived=True)
    compaction = "spark.databricks.delta.autoCompact.enabled"
    assert compaction not in long_lived and short[compaction] == "false"
    assert "spark.sql.codegen.wholeStage" not in long_lived
    assert short["spark.sql.codegen.wholeStage"] == "false"
    assert "TieredStopAtLevel" not in long_lived["spark.driver.extraJavaOptions"]
    assert "-XX:TieredStopAtLevel=1" in short["spark.driver.extraJavaOptions"].split()


def test_confs_from_the_environment_win_over_the_short_lived_ones(tmp_path, monkeypatch):
    monkeypatch.setenv(session.EXTRA_CONF_ENV, "spark.sql.codegen.wholeStage=true")
    assert session.local_confs(tmp_path, short_lived=True)["spark.sql.codegen.wholeStage"] == (
        "true"
    )


@pytest.mark.parametrize("version", ["4.0.0", "4.0.1-databricks", "4.2.0", "5.0"])
def test_spark_from_the_floor_on_is_accepted(version):
    session.check_spark_floor(version)


@pytest.mark.parametrize("version", ["3.5.2", "3.5.0-databricks-connect"])
def test_an_older_spark_is_refused_naming_what_to_deploy_on(version):
    with pytest.raises(LakehouseError, match=r"older than this code needs \(4\.0\).*17\.3 LTS"):
        session.check_spark_floor(version)


@pytest.mark.parametrize(
    ("pyspark_version", "delta_version", "coordinate"),
    [
        ("4.2.0", "4.4.0", "io.delta:delta-spark_4.2_2.13:4.4.0"),
        ("4.0.1", "4.0.1", "io.delta:delta-spark_2.13:4.0.1"),  # before Spark-named artifacts
    ],
)
def test_delta_jars_are_named_as_delta_publishes_them(
    monkeypatch, pyspark_version, delta_version, coordinate
):
    import pyspark

    monkeypatch.setattr(pyspark, "__version__", pyspark_version)
    monkeypatch.setattr(session.metadata, "version", lambda name: delta_version)
    assert session.delta_maven_coordinate() == coordinate
