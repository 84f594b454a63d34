"""Keeping the tables small for months: their properties, compaction and VACUUM.

Every table carries the target's retention and auto compaction as table properties
(``checkpoints_config.Maintenance``); tables made by an earlier version get them here.
Compaction (``OPTIMIZE``) commits no data change, so the streams downstream read nothing
new from it; it and the property changes run only with the root's lock held
(``omdb-lakehouse maintain``), because either could fail a concurrent write. ``VACUUM``
conflicts with no writer and also runs on a cadence in the always-on runners. It never
removes a file a stream still needs: a table whose reader lags behind by more than the
deleted-file retention is not vacuumed, and the line says how to recover. A Unity
Catalog table that Databricks' predictive optimization maintains is left to its VACUUM,
and the line says when that one may take what a lagging stream still needs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from pyspark.sql import SparkSession

from checkpoints_config import PipelineConfig, TableRef
from streaming.pipeline.checkpoints import delta_versions_done, has_commits
from streaming.pipeline.layers import LAYERS
from streaming.pipeline.tables import TABLES, TableSpec, compact_if_due, table_exists
from streaming.read.storage import on_disk, remember_upkeep

Say = Callable[[str], None]

# Tables only ever appended to: compacting them cannot conflict with their writer, so the
# always-on runner compacts them beside the running streams.
APPEND_ONLY = frozenset({"bronze", "quarantine", "dq_metrics"})


@dataclass(frozen=True)
class Upkeep:
    """What maintenance did to one table."""

    table: str
    properties_set: bool = False
    compacted: bool = False
    vacuumed: bool = False
    refused: str | None = None  # why VACUUM was not run
    bytes_before: int | None = None  # on disk, local tables only
    bytes_after: int | None = None
    listed: bool = False  # a LITE VACUUM the log could not back, done in full instead
    # Databricks' predictive optimization vacuums the table: we do not, and ``refused``
    # then says what its VACUUM, which knows nothing of the streams, may take from one.
    by_databricks: bool = False

    @property
    def freed(self) -> int | None:
        """Bytes it removed from the table's folder (None for a catalog table)."""
        if self.bytes_before is None or self.bytes_after is None:
            return None
        return max(self.bytes_before - self.bytes_after, 0)

    def line(self) -> str:
        done = [
            what
            for what, flag in (
                ("properties set", self.properties_set),
                ("compacted", self.compacted),
                ("vacuumed", self.vacuumed and not self.listed),
                ("vacuumed in full (the log no longer reaches its last VACUUM)", self.listed),
            )
            if flag
        ]
        size = ""
        if self.freed is not None:
            size = f", {_mib(self.bytes_after)} on disk ({_mib(self.freed)} freed)"
        if self.by_databricks:
            done.append("VACUUM left to predictive optimization")
        refused = ""
        if self.refused:
            why = (
                "at risk, since its VACUUM does not wait for a stream"
                if self.by_databricks
                else "not vacuumed"
            )
            refused = f"; {why}: {self.refused}"
        return f"  {self.table}: {', '.join(done) or 'nothing to do'}{size}{refused}"


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def maintain(
    spark: SparkSession, config: PipelineConfig, *, exclusive: bool, say: Say | None = None
) -> list[Upkeep]:
    """VACUUM every table; with the tables to itself, also set their properties and
    compact them.

    Args:
        exclusive: no stream writes the tables (the root's lock is held). Otherwise only
            VACUUM runs: a property change or a compaction can fail a concurrent write.
        say: told one line per table as it is done.
    """
    done = []
    wanted = config.maintenance.table_properties()
    for ref in config.all_tables():
        if not table_exists(spark, ref):
            continue
        before = disk_bytes(ref)
        spec = TABLES[ref.key]
        # Both run (no short circuit): a table may lack either.
        properties_set = exclusive and any(
            [
                set_properties(spark, ref, spec.all_properties(wanted)),
                set_clustering(spark, ref, spec),
            ]
        )
        if exclusive:
            spark.sql(f"OPTIMIZE {ref.sql_name}")
        refused = vacuum_refusal(spark, config, ref)
        # Two VACUUMs of one table would only race; Databricks' own runs on its schedule.
        by_databricks = ref.full_name is not None and predictive_optimization(spark, ref)
        # By hand, a full VACUUM also finds files no commit names (a writer killed
        # mid-write); on the cadence, LITE reads the log instead of listing the table.
        vacuumed = refused is None and not by_databricks
        listed = vacuumed and vacuum(spark, ref, lite=not exclusive)
        upkeep = Upkeep(
            ref.name,
            properties_set,
            exclusive,
            vacuumed,
            refused,
            before,
            disk_bytes(ref),
            listed,
            by_databricks,
        )
        if say:
            say(upkeep.line())
        done.append(upkeep)
    remember_upkeep(config, sum(u.freed or 0 for u in done), len(done))
    return done


def predictive_optimization(spark: SparkSession, ref: TableRef) -> bool:
    """Whether Databricks' predictive optimization maintains ``ref`` (a catalog table)."""
    return predictive_optimization_in(
        spark.sql(f"DESCRIBE TABLE EXTENDED {ref.sql_name}").collect()
    )


def predictive_optimization_in(rows: Collection[Sequence[str | None]]) -> bool:
    """Whether ``DESCRIBE TABLE EXTENDED``'s rows (name, value, comment) say predictive
    optimization is on: ``ENABLE``, set on the table or inherited (``ENABLE (inherited
    from SCHEMA …)``). A table outside Unity Catalog has no such row."""
    for row in rows:
        name, value = (row[0] or "").strip().lower(), (row[1] or "").strip().upper()
        if name == "predictive optimization":
            return value.startswith("ENABLE")
    return False


def vacuum(spark: SparkSession, ref: TableRef, *, lite: bool) -> bool:
    """VACUUM ``ref``, LITE if asked; True when LITE was refused and it ran in full.

    LITE needs the log to reach back to the last VACUUM. Once log cleanup has dropped
    entries past the log retention, and always after a full VACUUM (which records no
    version for LITE to start from), Delta refuses it (``DELTA_CANNOT_VACUUM_LITE``):
    then the full VACUUM, which lists the table, does the work.
    """
    if not lite:
        spark.sql(f"VACUUM {ref.sql_name}")
        return False
    try:
        spark.sql(f"VACUUM {ref.sql_name} LITE")
    except Exception as error:
        if "DELTA_CANNOT_VACUUM_LITE" not in str(error):
            raise
        spark.sql(f"VACUUM {ref.sql_name}")
        return True
    return False


def compact_due(
    spark: SparkSession,
    config: PipelineConfig,
    keys: Collection[str] | None = None,
    at_files: int | None = None,
) -> list[str]:
    """``compact_if_due`` for each local table (of ``keys``, else all); the names of those
    compacted. Call it with no stream writing the tables, or for ``APPEND_ONLY`` ones."""
    return [
        ref.name
        for ref in config.all_tables()
        if (keys is None or ref.key in keys) and compact_if_due(spark, ref, at_files)
    ]


def set_properties(spark: SparkSession, ref: TableRef, wanted: dict[str, str]) -> bool:
    """Set the table properties of ``wanted`` that ``ref`` lacks or holds otherwise."""
    current = {
        row["key"]: row["value"]
        for row in spark.sql(f"SHOW TBLPROPERTIES {ref.sql_name}").collect()
    }
    missing = {k: v for k, v in wanted.items() if current.get(k) != v}
    if not missing:
        return False
    pairs = ", ".join(f"'{k}' = '{v}'" for k, v in missing.items())
    spark.sql(f"ALTER TABLE {ref.sql_name} SET TBLPROPERTIES ({pairs})")
    return True


def set_clustering(spark: SparkSession, ref: TableRef, spec: TableSpec) -> bool:
    """Cluster ``ref`` as ``spec`` says if it is clustered otherwise (a table made before
    its spec named the columns); the next compaction lays its files out by them."""
    if not spec.cluster_by:
        return False
    detail = spark.sql(f"DESCRIBE DETAIL {ref.sql_name}").first()
    if tuple(detail["clusteringColumns"] or ()) == spec.cluster_by:
        return False
    spark.sql(f"ALTER TABLE {ref.sql_name} CLUSTER BY ({spec.cluster_sql()})")
    return True


def vacuum_refusal(spark: SparkSession, config: PipelineConfig, ref: TableRef) -> str | None:
    """Why ``ref`` must not be vacuumed now, or None.

    A stream reading ``ref`` needs every file added from the version it is at; a later
    compaction or MERGE may have replaced those files, and VACUUM deletes replaced files
    older than the retention. So when a commit after the reader's version is older than
    the retention, VACUUM could delete what the reader still has to read (predictive
    optimization's VACUUM too, which nothing here can hold back).
    """
    retention = config.maintenance.deleted_file_retention
    for layer in LAYERS:
        if layer.source != ref.key:
            continue
        done = delta_versions_done(config.stream(layer.name).checkpoint_location)
        if done is None:
            continue  # never ran: it starts from the table as it is now
        # The reader is at version done + 1 (maybe part-read); a file it still needs was
        # added there or later, so only a commit after that one can have replaced it.
        written = commit_time(spark, ref, done + 2)
        if written is not None and time.time() - written > retention:
            since = datetime.fromtimestamp(written, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            return (
                f"the {layer.name} stream has not read it since {since}, longer than the "
                f"retention ({retention // 3600} h): run the pipeline to let it catch up, "
                f"or rebuild it with `omdb-lakehouse reset --stream {layer.name}`"
            )
    return None


def commit_time(spark: SparkSession, ref: TableRef, version: int) -> float | None:
    """When ``version`` of ``ref`` was committed (seconds since the epoch), if it exists."""
    row = (
        spark.sql(f"DESCRIBE HISTORY {ref.sql_name}")
        .where(f"version = {int(version)}")
        .selectExpr("CAST(timestamp AS DOUBLE) AS seconds")  # whatever the session's zone
        .first()
    )
    return None if row is None else row["seconds"]


def disk_bytes(ref: TableRef) -> int | None:
    """Bytes under a local table's folder, log included; None for a catalog table."""
    if ref.full_name or not has_commits(ref.path):
        return None
    return on_disk(ref.path).bytes
