"""A class-data sharing archive of the local JVM's classes (Java's AppCDS), made once.

Every new local JVM loads, parses and verifies the same tens of thousands of Spark,
Scala and Delta classes before its first job. Java (13 and newer) can dump the classes a
run loaded into an archive (``-XX:ArchiveClassesAtExit``) that later JVMs map instead
(``-XX:SharedArchiveFile``). The project's set-up (``make jars``) makes it with one small
pipeline run; every local session and Spark Connect server started afterwards uses it.

The archive is named after what makes it valid: the Java binary and every jar on the
class path and in Delta's set (path, size, modification time). A changed install names
another archive, which the next ``make jars`` makes; a JVM given an archive that does
not match its class path ignores it and starts as it would without (``-Xshare:auto``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CACHE = Path.home() / ".cache" / "omdb-lakehouse" / "cds"
DISABLE_ENV = "OMDB_CLASS_ARCHIVE"  # "off": start without the archive (to compare)


def _java() -> Path | None:
    home = os.environ.get("JAVA_HOME")
    found = Path(home, "bin", "java") if home else None
    if found is None or not found.is_file():
        which = shutil.which("java")
        found = Path(which) if which else None
    return found.resolve() if found else None


def archive_path(jars: list[str]) -> Path | None:
    """Where the archive for this Java and these jars lives (whether made or not)."""
    import pyspark

    java = _java()
    if java is None:
        return None
    digest = hashlib.sha256()
    spark_jars = sorted(Path(pyspark.__file__).parent.joinpath("jars").glob("*.jar"))
    for path in [java, *spark_jars, *(Path(j.removeprefix("file:")) for j in jars)]:
        try:
            stat = path.stat()
        except OSError:
            return None
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return CACHE / f"{digest.hexdigest()[:24]}.jsa"


def wanted() -> bool:
    """False when ``$OMDB_CLASS_ARCHIVE`` is ``off``: JVMs start without the archive."""
    return os.environ.get(DISABLE_ENV, "").strip().lower() != "off"


def java_options(jars: list[str]) -> list[str]:
    """The JVM options that use the archive, when it is made (none otherwise)."""
    if not wanted():
        return []
    path = archive_path(jars)
    return [f"-XX:SharedArchiveFile={path}"] if path is not None and path.is_file() else []


def make(jars: list[str]) -> Path | None:
    """Make the archive with one small pipeline run in a new JVM, if not made yet.

    Returns the archive, or None when it could not be made (the pipeline runs without:
    the archive only saves time).
    """
    path = archive_path(jars)
    if path is None or path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    with tempfile.TemporaryDirectory(prefix="omdb-class-archive-") as root:
        done = subprocess.run(
            [sys.executable, "-m", "streaming.runtime.class_archive_run", root, str(partial)],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0 or not partial.is_file():
        partial.unlink(missing_ok=True)
        return None
    os.replace(partial, path)  # whole or absent: a JVM never maps half an archive
    return path
