"""Recovery: rebuild one layer (and the layers after it) from the layer below."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from pyspark.sql import SparkSession

from checkpoints_config import PipelineConfig
from producers.ledger import LocalFile
from streaming.errors import LakehouseError
from streaming.pipeline.archive import restore_archive
from streaming.pipeline.layers import LAYERS, downstream_of
from streaming.pipeline.layers import layer as layer_named
from streaming.pipeline.lock import pipeline_lock
from streaming.pipeline.tables import empty_table, read_table, table_exists


def checkpoint_started(checkpoint_location: str) -> bool:
    """True when the checkpoint holds a query (its ``metadata`` file exists)."""
    return (Path(checkpoint_location) / "metadata").exists()


def check_checkpoints(spark: SparkSession, config: PipelineConfig) -> None:
    """Refuse to start a stream whose checkpoint is gone while its tables hold data.

    Starting afresh would process everything again on top of what is there (gold would
    count twice); ``reset`` is the way back.
    """
    for layer in LAYERS:
        stream = config.stream(layer.name)
        if checkpoint_started(stream.checkpoint_location):
            continue
        for key in layer.outputs:
            ref = config.table(key)
            if table_exists(spark, ref) and not read_table(spark, ref).isEmpty():
                raise LakehouseError(
                    f"the {stream.name} checkpoint ({stream.checkpoint_location}) is missing "
                    f"but {ref.name} holds data: run `omdb-lakehouse reset --stream "
                    f"{stream.name}` to rebuild it from the layer below"
                )


def reset_stream(spark: SparkSession, config: PipelineConfig, stream: str) -> list[str]:
    """Empty the tables of ``stream`` and of every later stream, and drop their checkpoints.

    The next ``run`` rebuilds them from the layer below (bronze from the landing files,
    the archived ones moved back first; their bytes are never touched). Returns what
    was reset, for the user.

    Crash-safe: the reset is recorded under the root before anything changes and the
    record is removed only once all is done, so a reset interrupted at any point is
    completed by the next ``run`` (``finish_interrupted_reset``), never taken for a
    pipeline whose tables are simply empty.
    """
    layer_named(stream)  # an unknown name fails before anything changes
    with pipeline_lock(config, "reset"):
        _write_pending(config, stream)
        return _reset(spark, config, stream)


def finish_interrupted_reset(spark: SparkSession, config: PipelineConfig) -> list[str]:
    """Complete a reset that was interrupted, if one was; returns what it did."""
    pending = _pending_file(config)
    text = pending.read() if pending is not None else None
    if text is None:
        return []
    try:
        stream = json.loads(text)["stream"]
        layer_named(stream)
    except (ValueError, KeyError, TypeError, LakehouseError):
        raise LakehouseError(
            f"{pending.path} records an interrupted reset but cannot be read: run "
            "`omdb-lakehouse reset --stream bronze` to rebuild every layer"
        ) from None
    return [f"completing an interrupted reset from {stream}", *_reset(spark, config, stream)]


def _reset(spark: SparkSession, config: PipelineConfig, stream: str) -> list[str]:
    done = []
    if stream == "bronze" and (restored := restore_archive(config)):
        # Before the checkpoint goes: bronze rebuilds from every page, as they landed.
        done.append(f"moved {restored} archived pages back to the landing folder")
    for item in downstream_of(stream):
        for key in item.outputs:
            ref = config.table(key)
            if table_exists(spark, ref):
                empty_table(spark, ref)
                done.append(f"emptied {ref.name}")
        checkpoint = Path(config.stream(item.name).checkpoint_location)
        if checkpoint.exists():
            shutil.rmtree(checkpoint)
            done.append(f"removed the {item.name} checkpoint")
    pending = _pending_file(config)
    if pending is not None:
        pending.path.unlink(missing_ok=True)
    return done


def _pending_file(config: PipelineConfig) -> LocalFile | None:
    """The record of a reset in flight (replaced atomically: whole or absent)."""
    return (
        LocalFile(Path(config.state_path) / "reset-pending.json", private=True)
        if config.state_path
        else None
    )


def _write_pending(config: PipelineConfig, stream: str) -> None:
    pending = _pending_file(config)
    if pending is not None:
        pending.write(json.dumps({"stream": stream}))
