"""A run's progress as it happens: one line per micro-batch that read something, and a
listener base for progress events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyspark.sql.streaming import StreamingQueryListener

from checkpoints_config import PipelineConfig
from streaming.pipeline.checkpoints import delta_rs_reads, has_commits
from streaming.read.status import landing_status

Say = Callable[[str], None]


def files_in_bronze(config: PipelineConfig) -> int | None:
    """Rows (one per landed file) in a local bronze, read with delta-rs; None if unknown."""
    bronze = config.table("bronze").path
    if config.on_unity_catalog or not delta_rs_reads(bronze):
        return None
    if not has_commits(bronze):
        return 0
    try:
        from deltalake import DeltaTable
    except ImportError:
        return None
    from streaming.read.delta_rs_tables import count_rows

    return count_rows(DeltaTable(bronze))


class BatchLines:
    """Says ``bronze batch 3: 5000 rows, 12000 files pending (4.1 s)`` for each batch."""

    def __init__(self, config: PipelineConfig, say: Say) -> None:
        self.say = say
        self.pending: int | None = None
        in_bronze = files_in_bronze(config)
        if in_bronze is not None:
            # Archived pages were all read: each is a row of bronze, like the live ones read.
            landing = landing_status(config)
            landed = landing.live + landing.archived if landing else 0
            self.pending = max(landed - in_bronze, 0)

    def __call__(self, stream: str, progress: dict[str, Any]) -> None:
        rows = int(progress.get("numInputRows") or 0)
        detail = f"{rows} rows"
        if stream == "bronze" and self.pending is not None:
            self.pending = max(self.pending - rows, 0)
            detail += f", {self.pending} files pending"
        seconds = (progress.get("batchDuration") or 0) / 1000
        self.say(f"  {stream:<6} batch {progress.get('batchId')}: {detail} ({seconds:.1f} s)")


class ProgressListener(StreamingQueryListener):
    """A listener for progress events only: the other events are of no use here."""

    def onQueryStarted(self, event) -> None:
        pass

    def onQueryIdle(self, event) -> None:
        pass

    def onQueryTerminated(self, event) -> None:
        pass
