"""The JVM's class archive: named after the Java and the jars, used only once made."""

from __future__ import annotations

from streaming.runtime import class_archive
from streaming.runtime.session import JAVA_OPTIONS, delta_jar_confs, local_confs


def test_the_archive_is_named_after_the_jar_set_and_changes_with_it(tmp_path):
    jar = tmp_path / "delta-spark.jar"
    jar.write_bytes(b"one")
    first = class_archive.archive_path([f"file:{jar}"])
    assert first is not None and first == class_archive.archive_path([str(jar)])
    jar.write_bytes(b"another")  # a reinstalled jar: another archive
    assert class_archive.archive_path([str(jar)]) not in (None, first)
    jar.unlink()
    assert class_archive.archive_path([str(jar)]) is None  # a jar gone: no archive at all


def test_a_jvm_is_given_the_archive_only_once_it_is_made(tmp_path, monkeypatch):
    monkeypatch.setattr(class_archive, "CACHE", tmp_path / "cds")
    jar = tmp_path / "delta-spark.jar"
    jar.write_bytes(b"jar")
    assert class_archive.java_options([str(jar)]) == []
    archive = class_archive.archive_path([str(jar)])
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"made")
    assert class_archive.java_options([str(jar)]) == [f"-XX:SharedArchiveFile={archive}"]
    monkeypatch.setenv(class_archive.DISABLE_ENV, "off")
    assert class_archive.java_options([str(jar)]) == []


def test_local_sessions_start_with_the_archive_when_there_is_one(tmp_path, monkeypatch):
    monkeypatch.setattr(class_archive, "CACHE", tmp_path / "cds")
    jars = [j for j in delta_jar_confs().get("spark.jars", "").split(",") if j]
    archive = class_archive.archive_path(jars)
    assert "SharedArchiveFile" not in local_confs(tmp_path)[JAVA_OPTIONS]
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"made")
    assert f"-XX:SharedArchiveFile={archive}" in local_confs(tmp_path)[JAVA_OPTIONS].split()
