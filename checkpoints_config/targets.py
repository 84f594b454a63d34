"""The three targets: ``local`` (one folder), ``dev`` and ``prod`` (Unity Catalog volumes)."""

from __future__ import annotations

import os
from pathlib import Path

from checkpoints_config.model import (
    DAY,
    ConfigError,
    Maintenance,
    PipelineConfig,
    StreamConfig,
    TableNames,
    Trigger,
    validate_identifier,
)
from producers.landing import LANDING_SUBPATH

DEFAULT_ROOT = "./.lakehouse"
ROOT_ENV = "OMDB_LAKEHOUSE_ROOT"
TARGETS = ("local", "dev", "prod")

# Files per micro-batch: bounded so a large backfill commits steadily instead of
# in one huge first batch; prod clusters take bigger bites.
# A laptop keeps replaced files a day and commits a week: a stream stopped longer than
# a day is not vacuumed past (maintenance says so), one stopped over a week fails loudly
# (its commits are gone) and is rebuilt with `reset`. Databricks keeps Delta's defaults.
LOCAL_MAINTENANCE = Maintenance(deleted_file_retention=DAY, log_retention=7 * DAY)
_MAX_FILES = {"local": 5000, "dev": 2000, "prod": 10000}


_ROOT_PARTS = ("landing", "archive", "tables", "checkpoints", "state")
# The volumes a Unity Catalog target keeps landing files and checkpoints in, by default.
# Set by every Databricks runtime (cluster, job, serverless: "client.<n>" there).
RUNTIME_ENV = "DATABRICKS_RUNTIME_VERSION"


def on_databricks() -> bool:
    """True inside a Databricks runtime, where volumes are mounted under ``/Volumes``."""
    return RUNTIME_ENV in os.environ


def on_serverless() -> bool:
    """Databricks serverless compute (Spark Connect), which has no DataFrame cache."""
    return os.environ.get(RUNTIME_ENV, "").startswith("client.")


LANDING_VOLUME = "landing"
CHECKPOINT_VOLUME = "checkpoints"
# What Spark's file sources read as a pattern in a path (``streams.literal_path``).
SPARK_GLOB_CHARS = "[]{}*?\\"


def resolve_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The local root: ``root``, else ``$OMDB_LAKEHOUSE_ROOT``, else ``./.lakehouse``.

    Any folder name works (spaces, unicode, ``[ ] { } * ?``, ``%``, ``#``, ``:``), but a
    path holding both ``:`` and a glob character, which Spark cannot read literally, is
    refused, and so is a root inside another root's own folders.

    Raises:
        ConfigError: either of those.
    """
    chosen = root if root not in (None, "") else os.environ.get(ROOT_ENV) or DEFAULT_ROOT
    path = Path(chosen).expanduser().resolve()
    if ":" in str(path) and any(c in str(path) for c in SPARK_GLOB_CHARS):
        # Spark globs such a path (escaped) component by component, and Hadoop cannot
        # name a component holding ':' on that route.
        raise ConfigError(
            f"the root {str(path)!r} holds both ':' and one of {SPARK_GLOB_CHARS}, "
            "which Spark cannot read literally: choose another folder"
        )
    for parent in path.parents:
        if (parent / "state").is_dir() and (parent / "tables").is_dir():
            inside = path.relative_to(parent).parts[0]
            if inside in _ROOT_PARTS:
                raise ConfigError(
                    f"the root {path} lies inside the {inside} folder of the root {parent}: "
                    "choose a folder outside it"
                )
    return path


def landing_dir(root: Path) -> Path:
    """Where the producer lands OMDb search pages under a local root."""
    return root.joinpath("landing", *LANDING_SUBPATH)


def local(
    root: str | os.PathLike[str] | None = None, tables: TableNames | None = None
) -> PipelineConfig:
    """Everything under one local folder: landing files, tables, checkpoints."""
    base = resolve_root(root)
    checkpoints = base / "checkpoints"

    def stream(name: str) -> StreamConfig:
        return StreamConfig(
            name=name,  # type: ignore[arg-type]
            checkpoint_location=str(checkpoints / name),
            trigger=Trigger(),
            max_files_per_trigger=_MAX_FILES["local"],
        )

    return PipelineConfig(
        target="local",
        landing_path=str(landing_dir(base)),
        bronze=stream("bronze"),
        silver=stream("silver"),
        gold=stream("gold"),
        quality=stream("quality"),
        tables=tables or TableNames(),
        table_root=str(base / "tables"),
        state_path=str(base / "state"),
        maintenance=LOCAL_MAINTENANCE,
        archive_path=str(base / "archive"),
    )


def databricks(
    target: str,
    catalog: str,
    schema: str,
    landing_volume: str = LANDING_VOLUME,
    checkpoint_volume: str = CHECKPOINT_VOLUME,
    tables: TableNames | None = None,
) -> PipelineConfig:
    """A Unity Catalog target: landing files and checkpoints in volumes of ``catalog.schema``."""
    if target not in ("dev", "prod"):
        raise ConfigError(f"a Databricks target is dev or prod, got {target!r}")
    for value, what in (
        (catalog, "catalog"),
        (schema, "schema"),
        (landing_volume, "landing volume"),
        (checkpoint_volume, "checkpoint volume"),
    ):
        validate_identifier(value, what)
    volumes = f"/Volumes/{catalog}/{schema}"
    checkpoints = f"{volumes}/{checkpoint_volume}"

    def stream(name: str) -> StreamConfig:
        return StreamConfig(
            name=name,  # type: ignore[arg-type]
            checkpoint_location=f"{checkpoints}/{name}",
            trigger=Trigger(),
            max_files_per_trigger=_MAX_FILES[target],
            schema_location=f"{checkpoints}/{name}/_schemas" if name == "bronze" else None,
        )

    return PipelineConfig(
        target=target,
        landing_path="/".join((volumes, landing_volume, *LANDING_SUBPATH)),
        bronze=stream("bronze"),
        silver=stream("silver"),
        gold=stream("gold"),
        quality=stream("quality"),
        tables=tables or TableNames(),
        catalog=catalog,
        schema=schema,
        use_auto_loader=True,
        state_path=f"{checkpoints}/producer",
        # Auto Loader moves only within the source's volume, and not below the source.
        archive_path=f"{volumes}/{landing_volume}/archive",
    )


def load_target(
    name: str = "local",
    *,
    root: str | os.PathLike[str] | None = None,
    catalog: str | None = None,
    schema: str | None = None,
    landing_volume: str = LANDING_VOLUME,
    checkpoint_volume: str = CHECKPOINT_VOLUME,
) -> PipelineConfig:
    """The config of target ``name`` (local, dev or prod)."""
    if name == "local":
        return local(root)
    if name in ("dev", "prod"):
        if not catalog or not schema:
            raise ConfigError(f"target {name} needs --catalog and --schema")
        return databricks(name, catalog, schema, landing_volume, checkpoint_volume)
    raise ConfigError(f"target must be one of {', '.join(TARGETS)}, got {name!r}")
