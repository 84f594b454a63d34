"""One pipeline writer per root: an advisory file lock the OS drops when the process dies."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from checkpoints_config import PipelineConfig
from producers.ledger import private_folder
from streaming.errors import LakehouseError


@contextlib.contextmanager
def pipeline_lock(config: PipelineConfig, what: str = "run") -> Iterator[None]:
    """Hold the root's writer lock for the block, or fail at once if another process has it.

    A SIGKILLed holder leaves no stale lock: ``flock`` locks die with their process.
    Databricks targets are not locked here; their jobs allow one run at a time.
    """
    if config.on_unity_catalog or not config.state_path:
        yield
        return
    path = Path(config.state_path) / "pipeline.lock"
    try:
        private_folder(path.parent)
        # The user's alone: another user could hold a shared lock on it and keep the
        # pipeline "busy", or read who holds it.
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        if os.fstat(fd).st_uid == os.getuid():
            os.fchmod(fd, 0o600)  # a lock made before it was private
    except OSError as exc:
        raise LakehouseError(f"cannot write under {path.parent}: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            raise LakehouseError(
                f"the pipeline under {Path(config.state_path).parent} is busy ({holder}); "
                "wait for it or stop it first"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{what} by pid {os.getpid()}".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
