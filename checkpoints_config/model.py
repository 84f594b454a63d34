"""Typed configuration of the pipeline: streams, triggers, tables, and where they live.

Everything that reaches SQL (catalog, schema, table names) is validated here, on
construction, so a bad value fails with one clear message before Spark sees it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Literal

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
INTERVAL = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?)\s*$"
)
_UNIT_NAMES = {"ms": "milliseconds", "s": "seconds", "m": "minutes", "h": "hours"}
_MILLIS = {"milliseconds": 1, "seconds": 1_000, "minutes": 60_000, "hours": 3_600_000}

TriggerMode = Literal["available-now", "continuous"]
StreamName = Literal["bronze", "silver", "gold", "quality"]
STREAMS: tuple[StreamName, ...] = ("bronze", "silver", "gold", "quality")
# The quality stream (quarantine and DQ counts, off gold's path) triggers at most this
# often in an always-on run: each of its batches costs two commits, and a slower trigger
# gathers many pages into one.
QUALITY_INTERVAL = "30 seconds"


class ConfigError(ValueError):
    """A configuration value is invalid; the message says which and why."""


def validate_identifier(value: str, what: str) -> str:
    """Return ``value`` if it is a plain SQL identifier, else raise ConfigError."""
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise ConfigError(
            f"{what} must be a plain identifier (letters, digits, underscore; "
            f"not starting with a digit), got {value!r}"
        )
    return value


def normalize_interval(text: str) -> str:
    """Turn ``"5s"``, ``"500 ms"`` or ``"2 minutes"`` into Spark's ``"5 seconds"`` form."""
    match = INTERVAL.match(str(text))
    if not match:
        raise ConfigError(f"interval must look like 5s, 500ms or 2 minutes, got {text!r}")
    number, unit = match.groups()
    unit = _UNIT_NAMES.get(unit, unit)
    if not unit.endswith("s"):
        unit += "s"
    unit = {"secs": "seconds", "mins": "minutes"}.get(unit, unit)
    # Spark counts trigger intervals in whole milliseconds.
    millis = float(number) * _MILLIS[unit]
    if millis < 1 or millis != int(millis):
        raise ConfigError(f"interval must be a whole number of milliseconds >= 1, got {text!r}")
    return f"{number} {unit}"


def interval_seconds(text: str) -> float:
    """The seconds in an interval written as ``normalize_interval`` reads it."""
    number, unit = normalize_interval(text).split()
    return float(number) * _MILLIS[unit] / 1000


@dataclass(frozen=True)
class Trigger:
    """When a stream runs: catch up and stop, or micro-batches every ``interval``."""

    mode: TriggerMode = "available-now"
    interval: str = "5 seconds"

    def __post_init__(self) -> None:
        if self.mode not in ("available-now", "continuous"):
            raise ConfigError(f"trigger must be available-now or continuous, got {self.mode!r}")
        object.__setattr__(self, "interval", normalize_interval(self.interval))

    @property
    def one_shot(self) -> bool:
        return self.mode == "available-now"

    def as_kwargs(self) -> dict[str, object]:
        """Keyword arguments for ``DataStreamWriter.trigger``."""
        if self.one_shot:
            return {"availableNow": True}
        return {"processingTime": self.interval}


@dataclass(frozen=True)
class StreamConfig:
    """One streaming query: its checkpoint, trigger and rate limit.

    ``schema_location`` is Auto Loader's schema tracking folder (bronze on Databricks).
    """

    name: StreamName
    checkpoint_location: str
    trigger: Trigger = field(default_factory=Trigger)
    max_files_per_trigger: int | None = None
    schema_location: str | None = None

    def __post_init__(self) -> None:
        if self.name not in STREAMS:
            raise ConfigError(f"stream must be one of {', '.join(STREAMS)}, got {self.name!r}")
        if not self.checkpoint_location:
            raise ConfigError(f"stream {self.name}: checkpoint_location is empty")
        if self.max_files_per_trigger is not None and self.max_files_per_trigger < 1:
            raise ConfigError(
                f"stream {self.name}: max_files_per_trigger must be >= 1, "
                f"got {self.max_files_per_trigger}"
            )

    @property
    def query_name(self) -> str:
        return f"omdb_{self.name}"


@dataclass(frozen=True)
class TableNames:
    """The pipeline's table names (kept from the original notebooks)."""

    bronze: str = "omdb_releases_bronze"
    silver: str = "omdb_releases_silver"
    quarantine: str = "omdb_releases_quarantine"
    gold: str = "omdb_releases_gold"
    dq_metrics: str = "omdb_releases_dq_metrics"

    def __post_init__(self) -> None:
        for key, value in self.items():
            validate_identifier(value, f"table name for {key}")

    def items(self) -> list[tuple[str, str]]:
        return [(key, getattr(self, key)) for key in TABLE_KEYS]


TABLE_KEYS = ("bronze", "silver", "quarantine", "gold", "dq_metrics")


@dataclass(frozen=True)
class TableRef:
    """How to reach one table: a Unity Catalog name, or a path (local Delta)."""

    key: str
    name: str
    full_name: str | None = None
    path: str | None = None

    def __post_init__(self) -> None:
        if (self.full_name is None) == (self.path is None):
            raise ConfigError(f"table {self.name}: exactly one of full_name and path is needed")

    @property
    def sql_name(self) -> str:
        """How SQL names the table: ``catalog.schema.name``, or ``delta.`<path>``` locally."""
        if self.full_name:
            return self.full_name
        return "delta.`" + str(self.path).replace("`", "``") + "`"


HOUR = 3600
DAY = 24 * HOUR


@dataclass(frozen=True)
class Maintenance:
    """How long each table keeps what it no longer needs, and how often it is cleaned.

    ``deleted_file_retention`` (seconds) is how long a file a MERGE or a compaction
    replaced stays on disk, so that a stream that lags behind by less can still read it;
    ``log_retention`` how long commits stay in the log (Delta refuses it shorter).
    ``every`` is how often the always-on runners clean up while the streams run.
    """

    deleted_file_retention: int = 7 * DAY
    log_retention: int = 30 * DAY
    every: float = HOUR

    def __post_init__(self) -> None:
        if self.deleted_file_retention < 0 or self.every <= 0:
            raise ConfigError("retention must be >= 0 seconds and the cadence > 0")
        if self.log_retention < self.deleted_file_retention:
            raise ConfigError("the log must be kept at least as long as deleted files")

    def table_properties(self) -> dict[str, str]:
        """The Delta table properties every pipeline table carries."""
        return {
            # Small files from each micro-batch are compacted by the writer itself, after
            # its commit: no other writer, so no conflict with a running MERGE.
            "delta.autoOptimize.autoCompact": "true",
            "delta.deletedFileRetentionDuration": f"interval {self.deleted_file_retention} seconds",
            "delta.logRetentionDuration": f"interval {self.log_retention} seconds",
        }


@dataclass(frozen=True)
class PipelineConfig:
    """Where everything of one target lives.

    Locally (``catalog`` is None) tables are Delta folders under ``table_root``;
    on Databricks they are ``catalog.schema.name`` in Unity Catalog.
    """

    target: str
    landing_path: str
    bronze: StreamConfig
    silver: StreamConfig
    gold: StreamConfig
    quality: StreamConfig
    tables: TableNames = field(default_factory=TableNames)
    catalog: str | None = None
    schema: str | None = None
    table_root: str | None = None
    use_auto_loader: bool = False
    state_path: str | None = None  # the producer's ledger folder
    maintenance: Maintenance = field(default_factory=Maintenance)
    # Where bronze moves the pages it has read, out of the folder it lists; None: never.
    archive_path: str | None = None

    def __post_init__(self) -> None:
        if not self.landing_path:
            raise ConfigError("landing_path is empty")
        if self.archive_path is not None and _is_within(self.archive_path, self.landing_path):
            # The source would list its own archive and read every page again.
            raise ConfigError("archive_path must not lie inside landing_path")
        for stream in STREAMS:
            if getattr(self, stream).name != stream:
                raise ConfigError(f"the {stream} slot holds the config of another stream")
        if self.catalog is None and self.schema is None:
            if not self.table_root:
                raise ConfigError("a local target needs table_root")
        else:
            validate_identifier(self.catalog or "", "catalog")
            validate_identifier(self.schema or "", "schema")

    @property
    def on_unity_catalog(self) -> bool:
        return self.catalog is not None

    @property
    def streams(self) -> tuple[StreamConfig, ...]:
        return (self.bronze, self.silver, self.gold, self.quality)

    def stream(self, name: str) -> StreamConfig:
        if name not in STREAMS:
            raise ConfigError(f"stream must be one of {', '.join(STREAMS)}, got {name!r}")
        return getattr(self, name)

    def table(self, key: str) -> TableRef:
        if key not in TABLE_KEYS:
            raise ConfigError(f"unknown table {key!r}")
        name = getattr(self.tables, key)
        if self.on_unity_catalog:
            return TableRef(key, name, full_name=f"`{self.catalog}`.`{self.schema}`.`{name}`")
        return TableRef(key, name, path=f"{self.table_root.rstrip('/')}/{name}")

    def all_tables(self) -> list[TableRef]:
        return [self.table(key) for key in TABLE_KEYS]

    def with_maintenance_every(self, interval: str) -> PipelineConfig:
        """The same config with the always-on runners cleaning up every ``interval``."""
        every = interval_seconds(interval)
        return replace(self, maintenance=replace(self.maintenance, every=every))

    def with_trigger(self, trigger: Trigger) -> PipelineConfig:
        """The same config with every stream on ``trigger``; in an always-on run the
        quality stream's interval is at least ``QUALITY_INTERVAL``."""
        chosen = {s.name: replace(s, trigger=trigger) for s in self.streams}
        if not trigger.one_shot and interval_seconds(trigger.interval) < interval_seconds(
            QUALITY_INTERVAL
        ):
            chosen["quality"] = replace(
                self.quality, trigger=replace(trigger, interval=QUALITY_INTERVAL)
            )
        return replace(self, **chosen)


def _is_within(path: str, folder: str) -> bool:
    return PurePosixPath(path).is_relative_to(PurePosixPath(folder))
