"""How a command reaches the tables: a running ``serve``, delta-rs without a JVM, or Spark."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from checkpoints_config import PipelineConfig
from streaming.cli.options import say
from streaming.errors import LakehouseError
from streaming.pipeline.checkpoints import delta_rs_reads


def remote_named() -> bool:
    """True when ``SPARK_REMOTE`` names a Spark Connect server: it then answers everything."""
    return bool(os.environ.get("SPARK_REMOTE", "").strip())


def served(config: PipelineConfig):
    """The running ``serve`` of a local root (its record), unless ``SPARK_REMOTE`` names one."""
    from streaming.read.serve_client import find_serve

    return None if remote_named() else find_serve(config, say)


def refuse_while_serving(config: PipelineConfig, command: str) -> None:
    """Refuse a writing command, in one line, while ``serve`` writes the same root."""
    record = served(config)
    if record is not None:
        raise LakehouseError(
            f"serve (pid {record.pid}) runs the streams on this root: it picks up new files "
            f"by itself; stop it (Ctrl-C, or kill {record.pid}) before `{command}`"
        )


def without_jvm(config: PipelineConfig) -> bool:
    """True when a local root can be read with delta-rs: installed, a path it can open, no
    Connect server named."""
    return (
        not config.on_unity_catalog
        and not remote_named()
        and delta_rs_reads(config.table_root)
        and importlib.util.find_spec("deltalake") is not None
    )


def log_dir(config: PipelineConfig) -> Path | None:
    """``<root>/logs`` when it can be written; None (a temporary folder) otherwise."""
    if config.on_unity_catalog or not config.table_root:
        return None
    folder = Path(config.table_root).parent / "logs"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # a root the user can only read: it can still be read
    return folder if os.access(folder, os.W_OK) else None


def spark(config: PipelineConfig, *, always_on: bool = False):
    """The Spark session for ``config`` (its JVM log under the root when it can be
    written); a new local one is tuned for a short process unless ``always_on``."""
    from streaming.runtime.session import get_spark

    return get_spark(log_dir=log_dir(config), short_lived=not always_on)
