"""What a local table and the landing folder hold on disk, and the last maintenance.

A table's live files are what its current version reads; what is on disk beyond them is
what replaced files, change data and the log cost until maintenance removes it. Read from
the file system alone (no Spark, no delta-rs), so a table of any name can be measured.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from checkpoints_config import PipelineConfig
from producers.ledger import LocalFile

LOG = "_delta_log"


@dataclass(frozen=True)
class OnDisk:
    bytes: int  # every file under the table's folder, the log included
    data_files: int  # files outside the log: live, replaced and change data
    log_entries: int  # files in the log: commits, checkpoints, checksums


def on_disk(path: str | os.PathLike[str]) -> OnDisk:
    """What a local table's folder holds (all zero when there is none)."""
    size = data = log = 0
    for folder, _, names in os.walk(path):
        in_log = Path(folder).name == LOG or LOG in Path(folder).parts
        for name in names:
            try:
                size += os.stat(os.path.join(folder, name)).st_size
            except FileNotFoundError:
                continue  # removed while listed (a VACUUM, a log cleanup)
            if in_log:
                log += 1
            else:
                data += 1
    return OnDisk(size, data, log)


@dataclass(frozen=True)
class LastUpkeep:
    """The last maintenance of a root: when, and what it freed on disk."""

    at: str
    freed_bytes: int
    tables: int


def _record(config: PipelineConfig) -> LocalFile | None:
    if config.on_unity_catalog or not config.state_path:
        return None  # Databricks: the tables' history shows predictive optimization's
    return LocalFile(Path(config.state_path) / "last-maintenance.json", private=True)


def remember_upkeep(config: PipelineConfig, freed_bytes: int, tables: int) -> None:
    """Record a maintenance just done, for ``status``."""
    record = _record(config)
    if record is not None:
        at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        record.write(json.dumps(asdict(LastUpkeep(at, freed_bytes, tables))))


def last_upkeep(config: PipelineConfig) -> LastUpkeep | None:
    """The last maintenance recorded for the root, if any (an unreadable record: none)."""
    record = _record(config)
    text = record.read() if record is not None else None
    if not text:
        return None
    try:
        return LastUpkeep(**json.loads(text))
    except (ValueError, TypeError):
        return None
