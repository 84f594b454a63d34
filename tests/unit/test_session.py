"""How a local Spark is configured, before any JVM starts."""

from __future__ import annotations

import os
from types import SimpleNamespace

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


def test_this_client_has_the_functions_the_pipeline_calls():
    session.check_client_functions()


def test_a_client_without_them_is_refused_naming_what_it_lacks():
    # What an older Databricks Connect's pyspark holds: Spark 3.5's functions.
    from pyspark.sql import Column
    from pyspark.sql import functions as F

    older = {
        "pyspark.sql.functions": SimpleNamespace(
            **{n: getattr(F, n) for n in dir(F) if not n.endswith("valid_utf8")}
        ),
        "pyspark.sql.Column": SimpleNamespace(cast=Column.cast),
    }
    with pytest.raises(LakehouseError) as refused:
        session.check_client_functions(older)
    message = str(refused.value)
    assert "pyspark.sql.functions.is_valid_utf8" in message
    assert "pyspark.sql.Column.try_cast" in message and "17.3 LTS" in message


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


def test_a_local_master_s_driver_listens_on_loopback_only(tmp_path, monkeypatch):
    monkeypatch.delenv("OMDB_SPARK_MASTER", raising=False)
    confs = session.local_confs(tmp_path)
    assert confs["spark.driver.bindAddress"] == confs["spark.driver.host"] == "127.0.0.1"
    monkeypatch.setenv("OMDB_SPARK_MASTER", "spark://10.0.0.5:7077")  # a cluster's driver
    assert "spark.driver.bindAddress" not in session.local_confs(tmp_path)  # must be reachable


def test_the_master_is_the_one_asked_for_else_spark_submit_s_else_local(monkeypatch):
    monkeypatch.delenv("OMDB_SPARK_MASTER", raising=False)
    assert session.chosen_master() == "local[*]"
    assert session.chosen_master("spark://10.0.0.5:7077") == "spark://10.0.0.5:7077"
    monkeypatch.setenv("OMDB_SPARK_MASTER", "local[2]")
    assert session.chosen_master("spark://10.0.0.5:7077") == "local[2]"
    monkeypatch.delenv("PYSPARK_GATEWAY_PORT", raising=False)
    assert session.submitted_master() is None  # not under spark-submit: no JVM asked


@pytest.mark.parametrize(
    ("master", "loopback"),
    [
        ("local[*]", True),
        ("local-cluster[2,1,1024]", True),
        ("spark://127.0.0.1:7077", True),
        ("spark://localhost:7077", True),
        ("spark://10.0.0.5:7077", False),
        ("spark://127.0.0.1:7077,127.0.0.2:7077", True),
        ("k8s://https://kubernetes.default.svc:443", False),
        ("yarn", False),
    ],
)
def test_a_driver_binds_to_loopback_for_a_master_on_this_machine_s_loopback(master, loopback):
    assert session.on_loopback(master) is loopback


def test_no_local_session_substitutes_variables_into_a_statement(tmp_path):
    assert session.local_confs(tmp_path)["spark.sql.variable.substitute"] == "false"


def test_the_log_folder_of_a_read_only_root_is_this_user_s_own(tmp_path, monkeypatch):
    monkeypatch.setattr(session.tempfile, "tempdir", str(tmp_path))
    folder = session.user_log_dir()
    assert folder == tmp_path / f"omdb-lakehouse-{os.getuid()}"
    assert folder.stat().st_mode & 0o777 == 0o700
    assert session.user_log_dir() == folder  # the same on the next start


def test_a_log_folder_name_someone_planted_is_passed_over(tmp_path, monkeypatch):
    monkeypatch.setattr(session.tempfile, "tempdir", str(tmp_path))
    elsewhere = tmp_path / "attacker-owned"
    elsewhere.mkdir()
    (tmp_path / f"omdb-lakehouse-{os.getuid()}").symlink_to(elsewhere)  # a planted link
    folder = session.user_log_dir()
    assert folder.parent == tmp_path and folder.name.startswith("omdb-lakehouse-")
    assert not folder.is_symlink() and folder.stat().st_mode & 0o777 == 0o700
    (tmp_path / f"omdb-lakehouse-{os.getuid()}").unlink()
    open_to_all = tmp_path / f"omdb-lakehouse-{os.getuid()}"
    open_to_all.mkdir(mode=0o777)
    open_to_all.chmod(0o777)
    assert session.user_log_dir() != open_to_all


def test_a_token_never_shows_in_a_message():
    text = "no server at sc://localhost:1/;token=abc-DEF_123;user_id=x: refused"
    assert (
        session.redact_token(text) == "no server at sc://localhost:1/;token=***;user_id=x: refused"
    )


def test_no_local_session_runs_delta_s_auto_compaction_after_a_commit(tmp_path):
    # Delta 4.4's would rewrite the whole table after nearly every commit of a long run;
    # the writers compact when the log counts enough files instead.
    compaction = "spark.databricks.delta.autoCompact.enabled"
    assert session.local_confs(tmp_path)[compaction] == "false"
    assert session.local_confs(tmp_path, short_lived=True)[compaction] == "false"
