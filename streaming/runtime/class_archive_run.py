"""The run that makes the JVM's class archive (``streaming.runtime.class_archive``).

``python -m streaming.runtime.class_archive_run ROOT ARCHIVE``: one small offline
pipeline under ``ROOT`` in a JVM that writes the classes it loaded to ``ARCHIVE`` as it
exits. Started by ``class_archive.make`` in a process of its own.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from streaming.runtime.class_archive import DISABLE_ENV
from streaming.runtime.session import JAVA_OPTIONS, get_spark


def train(root: Path, dump_to: Path) -> None:
    """Run what a small increment runs (every layer, a query, status), then let the JVM
    exit on its own so that it writes the archive."""
    # A JVM that maps an archive cannot dump one: this one starts without.
    os.environ[DISABLE_ENV] = "off"
    os.environ["OMDB_SPARK_CONF"] = ";".join(
        filter(None, [os.environ.get("OMDB_SPARK_CONF", ""), _dump_option(dump_to)])
    )
    from checkpoints_config import local
    from producers.job import run_producer
    from producers.produce import Search
    from streaming.pipeline.runner import run_available_now
    from streaming.read.spark_sql import run_sql
    from streaming.read.status import collect_status

    config = local(root / "lakehouse")
    spark = get_spark("omdb-lakehouse-class-archive", log_dir=root / "logs")
    for term in ("star wars", "matrix"):  # a first run, then an increment
        run_producer(config, [Search(term)], max_pages=2, offline=True, say=lambda _: None)
        run_available_now(spark, config)
    gold = "SELECT media_type, sum(total_releases) FROM omdb_releases_gold GROUP BY 1"
    run_sql(spark, config, gold).collect()
    collect_status(spark, config)
    gateway = spark.sparkContext._gateway
    spark.stop()
    # The JVM exits when its standard input closes, and writes the archive as it exits.
    process = gateway.proc
    gateway.shutdown()
    process.stdin.close()
    process.wait(timeout=300)


def _dump_option(dump_to: Path) -> str:
    return f"{JAVA_OPTIONS}=-XX:ArchiveClassesAtExit={dump_to}"


if __name__ == "__main__":
    train(Path(sys.argv[1]), Path(sys.argv[2]))
