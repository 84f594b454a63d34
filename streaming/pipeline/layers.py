"""The pipeline's shape, declared once: each layer's source, the tables it writes, how it starts.

The runner starts the layers in this order, ``reset`` empties a layer's tables and those
of every layer it feeds, and ``status`` measures each layer's lag against its source.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from checkpoints_config import PipelineConfig
from checkpoints_config.model import StreamName
from streaming.errors import LakehouseError

if TYPE_CHECKING:  # the shape is read without pyspark (status); only starting needs it
    from pyspark.sql import SparkSession
    from pyspark.sql.streaming import StreamingQuery

LANDING = "landing"


def start_bronze(spark: SparkSession, config: PipelineConfig) -> StreamingQuery:
    """Landing files → bronze (append-only, exactly once by the Delta sink's log)."""
    from streaming.pipeline.streams import read_landing, start_stream
    from streaming.pipeline.transforms.bronze import with_parsed_envelope

    bronze_df = read_landing(spark, config).transform(with_parsed_envelope)
    return start_stream(bronze_df, config.bronze, sink=config.table("bronze"))


def start_silver(spark: SparkSession, config: PipelineConfig) -> StreamingQuery:
    """Bronze appends → silver MERGE (what gold needs, and nothing else)."""
    from streaming.pipeline.streams import read_table_stream, start_stream
    from streaming.pipeline.writers import SilverBatchWriter

    source = read_table_stream(
        spark, config.table("bronze"), max_files=config.silver.max_files_per_trigger
    )
    writer = SilverBatchWriter.on_driver(spark, config)
    return start_stream(source, config.silver, foreach_batch=writer)


def start_gold(spark: SparkSession, config: PipelineConfig) -> StreamingQuery:
    """Silver's change feed → gold MERGE."""
    from streaming.pipeline.streams import read_table_stream, start_stream
    from streaming.pipeline.writers import GoldBatchWriter

    source = read_table_stream(spark, config.table("silver"), change_feed=True)
    return start_stream(source, config.gold, foreach_batch=GoldBatchWriter(config))


def start_quality(spark: SparkSession, config: PipelineConfig) -> StreamingQuery:
    """Bronze appends → quarantine and DQ metrics, beside silver and off gold's path."""
    from streaming.pipeline.streams import read_table_stream, start_stream
    from streaming.pipeline.writers import QualityBatchWriter

    source = read_table_stream(
        spark, config.table("bronze"), max_files=config.quality.max_files_per_trigger
    )
    writer = QualityBatchWriter.on_driver(spark, config)
    return start_stream(source, config.quality, foreach_batch=writer)


@dataclass(frozen=True)
class Layer:
    """One stream of the chain: what it reads, which tables it writes, how it starts."""

    name: StreamName
    source: str  # LANDING, or the key of the table it reads
    outputs: tuple[str, ...]
    start: Callable[[SparkSession, PipelineConfig], StreamingQuery]


LAYERS: tuple[Layer, ...] = (
    Layer("bronze", LANDING, ("bronze",), start_bronze),
    Layer("silver", "bronze", ("silver",), start_silver),
    Layer("gold", "silver", ("gold",), start_gold),
    # Beside the chain, not in it: it reads bronze, and nothing waits for it.
    Layer("quality", "bronze", ("quarantine", "dq_metrics"), start_quality),
)


def layer(name: str) -> Layer:
    """The layer called ``name``."""
    for candidate in LAYERS:
        if candidate.name == name:
            return candidate
    raise LakehouseError(
        f"stream must be one of {', '.join(item.name for item in LAYERS)}, got {name!r}"
    )


def downstream_of(name: str) -> tuple[Layer, ...]:
    """Layer ``name`` and every layer fed by it, directly or not, in order."""
    chosen = [layer(name)]
    for candidate in LAYERS:  # in order: a layer comes after the one it reads
        fed = {key for item in chosen for key in item.outputs}
        if candidate not in chosen and candidate.source in fed:
            chosen.append(candidate)
    return tuple(chosen)


def chain_and_beside(layers: Sequence[Layer]) -> tuple[list[Layer], list[Layer]]:
    """The layers each fed by the one before (the chain to gold), and the others."""
    chain: list[Layer] = []
    beside: list[Layer] = []
    for item in layers:
        (chain if not chain or item.source in chain[-1].outputs else beside).append(item)
    return chain, beside
