"""The one place a SparkSession is built: local Spark with Delta, or Databricks' own.

Locally, Delta's jars are resolved for the installed pyspark/delta-spark pair from
Maven Central (cached by Ivy), falling back to ``mvn dependency:get`` into ``~/.m2``.
The JVM's own output goes to a log file so the terminal shows only our messages.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path

from pyspark.sql import SparkSession

from streaming.errors import LakehouseError

_CONF_DIR = Path(__file__).parent / "conf"
SCALA_VERSION = "2.13"

# Tuned for many small landing files on a small machine; measured on a 2-core
# laptop, the first two cut a 2,000-file micro-batch's getBatch from 12.5 s to 0.5 s
# (no separate 1,000-task listing job; many files packed per task).
LOCAL_CONF: Mapping[str, str] = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
    "spark.sql.files.openCostInBytes": "1024",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.databricks.delta.snapshotPartitions": "2",
    # MERGE reads the txn confs once, then they reset: a forgotten conf cannot
    # silently skip a later write.
    "spark.databricks.delta.write.txnVersion.autoReset.enabled": "true",
    # No Hive metastore: Derby would lock out a second process (query while run runs).
    "spark.sql.catalogImplementation": "in-memory",
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.streaming.numRecentProgressUpdates": "100",
}


def on_databricks() -> bool:
    """True inside a Databricks runtime (cluster, job or serverless)."""
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


def delta_maven_coordinate() -> str:
    """Maven coordinate of Delta's jars matching the installed pyspark and delta-spark."""
    import pyspark

    spark_minor = ".".join(pyspark.__version__.split(".")[:2])
    delta_version = metadata.version("delta-spark")
    return f"io.delta:delta-spark_{spark_minor}_{SCALA_VERSION}:{delta_version}"


def get_spark(app_name: str = "omdb-lakehouse", *, log_dir: Path | None = None) -> SparkSession:
    """The SparkSession to use: Databricks' active one, or a local one with Delta.

    Args:
        app_name: Spark application name (local only).
        log_dir: where the local JVM writes its log; a temporary folder by default.

    Raises:
        LakehouseError: Java is missing or Delta's jars cannot be resolved.
    """
    if on_databricks():
        return SparkSession.builder.getOrCreate()
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    return _start_local(app_name, log_dir or Path(tempfile.gettempdir()) / "omdb-lakehouse")


def _local_builder(app_name: str, log_dir: Path) -> SparkSession.Builder:
    java_opts = (
        f"-Dlog4j.configurationFile={_CONF_DIR / 'log4j2.properties'} -Dderby.system.home={log_dir}"
    )
    builder = (
        SparkSession.builder.master(os.environ.get("OMDB_SPARK_MASTER", "local[*]"))
        .appName(app_name)
        .config("spark.jars.packages", delta_maven_coordinate())
        .config("spark.jars.ivySettings", str(_CONF_DIR / "ivysettings.xml"))
        .config("spark.driver.memory", os.environ.get("OMDB_SPARK_DRIVER_MEMORY", "2g"))
        .config("spark.driver.extraJavaOptions", java_opts)
        .config("spark.sql.warehouse.dir", str(log_dir / "warehouse"))
    )
    for key, value in LOCAL_CONF.items():
        builder = builder.config(key, value)
    return builder


def _start_local(app_name: str, log_dir: Path) -> SparkSession:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise LakehouseError("Java 17 is needed to run Spark locally, and no `java` was found")
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / "spark-jvm.log"
    coordinate = delta_maven_coordinate()
    for attempt in (1, 2):
        try:
            with _jvm_output_to(log_file):
                spark = _local_builder(app_name, log_dir).getOrCreate()
            spark.sparkContext.setLogLevel("WARN")
            return spark
        except Exception as exc:  # pyspark raises PySparkRuntimeError(JAVA_GATEWAY_EXITED)
            log_tail = log_file.read_text(errors="replace")[-4000:] if log_file.exists() else ""
            unresolved = "unresolved dependency" in log_tail or "download failed" in log_tail
            if attempt == 1 and unresolved and _fill_maven_cache(coordinate):
                continue
            if unresolved:
                raise LakehouseError(
                    f"cannot resolve Delta Lake's jars {coordinate} from Maven Central or "
                    f"~/.m2 (try: mvn dependency:get -Dartifact={coordinate}); see {log_file}"
                ) from exc
            raise LakehouseError(f"Spark did not start: {exc}; see {log_file}") from exc
    raise AssertionError("unreachable")


def _fill_maven_cache(coordinate: str) -> bool:
    """Fetch ``coordinate`` and its dependencies into ~/.m2 with Maven, if Maven is here."""
    mvn = shutil.which("mvn")
    if mvn is None:
        return False
    result = subprocess.run(
        [mvn, "-q", "-B", "dependency:get", f"-Dartifact={coordinate}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0


@contextlib.contextmanager
def _jvm_output_to(log_file: Path) -> Iterator[None]:
    """Point fds 1 and 2 at ``log_file`` while the JVM is spawned, so it inherits them."""
    saved = [os.dup(1), os.dup(2)]
    with open(log_file, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


if __name__ == "__main__":
    # `python -m streaming.session`: resolve and cache Delta's jars once (make jars).
    get_spark("omdb-lakehouse-setup").stop()
    print(f"Spark with Delta ready ({delta_maven_coordinate()})")
