"""Recovery: rebuild one layer (and the layers after it) from the layer below."""

from __future__ import annotations

import shutil
from pathlib import Path

from pyspark.sql import SparkSession

from checkpoints_config import PipelineConfig
from streaming.errors import LakehouseError
from streaming.layers import LAYERS, downstream_of
from streaming.lock import pipeline_lock
from streaming.tables import empty_table, read_table, table_exists


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
    which are never touched). Returns what was reset, for the user.
    """
    done = []
    with pipeline_lock(config, "reset"):
        for layer in downstream_of(stream):
            for key in layer.outputs:
                ref = config.table(key)
                if table_exists(spark, ref):
                    empty_table(spark, ref)
                    done.append(f"emptied {ref.name}")
            checkpoint = Path(config.stream(layer.name).checkpoint_location)
            if checkpoint.exists():
                shutil.rmtree(checkpoint)
                done.append(f"removed the {layer.name} checkpoint")
    return done
