"""Writers of landed pages: a local folder, or a Unity Catalog volume through the Files API.

Each writes one envelope as one line of UTF-8 JSON at the contract's path
(``producers.landing``): complete or not at all, and never over an existing file.
"""

from __future__ import annotations

import io
import json
import os
import uuid
from pathlib import Path, PurePosixPath
from typing import Any


def page_bytes(envelope: dict[str, Any]) -> bytes:
    """A landed page's content: the envelope as one line of compact UTF-8 JSON."""
    return (json.dumps(envelope, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _publish(temp: Path, target: Path) -> None:
    """Give ``temp`` its final name without ever replacing an existing file."""
    try:
        os.link(temp, target)  # atomic, and fails if the name is taken
    except FileExistsError:
        raise
    except OSError:
        # Some FUSE mounts (cloud volumes) have no hard links: rename, after a check.
        # The name carries a random id, so the window between check and rename is moot.
        if target.exists():
            raise FileExistsError(str(target)) from None
        os.rename(temp, target)


class LocalLanding:
    """Lands envelopes as files under a local folder."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def write(self, envelope: dict[str, Any], relpath: PurePosixPath) -> Path:
        """Write ``envelope`` as one line of UTF-8 JSON at ``relpath``, atomically.

        Raises:
            ValueError: ``relpath`` would leave the landing root.
            FileExistsError: a file already has that name (landed files are immutable).
        """
        target = (self.root / relpath).resolve()
        if not target.is_relative_to(self.root):
            raise ValueError(f"landing path escapes the landing root: {relpath}")
        target.parent.mkdir(parents=True, exist_ok=True)
        data = page_bytes(envelope)
        # A leading dot hides the partial file from Spark's and Auto Loader's listings.
        temp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
        try:
            with open(temp, "xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            _publish(temp, target)
        finally:
            temp.unlink(missing_ok=True)
        return target


def files_api_client(volume_path: str, client=None):
    """The workspace client for Files-API access under ``volume_path`` (a ``/Volumes/`` path).

    Args:
        volume_path: where the files go; anything but a volume path is refused.
        client: a ``WorkspaceClient``; one from the usual SDK configuration by default.

    Raises:
        ValueError: ``volume_path`` is not under ``/Volumes/``.
    """
    if not volume_path.startswith("/Volumes/"):
        raise ValueError(f"a volume path starts with /Volumes/, got {volume_path!r}")
    if client is None:
        from databricks.sdk import WorkspaceClient

        client = WorkspaceClient()
    return client


class VolumeLanding:
    """Lands envelopes in a Unity Catalog volume through the Files API (off Databricks).

    On Databricks itself a volume is a plain ``/Volumes/...`` path: use LocalLanding.
    The Files API makes an uploaded file visible only once complete, and
    ``overwrite=False`` keeps landed files immutable.
    """

    def __init__(self, volume_path: str, client=None) -> None:
        self.client = files_api_client(volume_path, client)
        self.root = PurePosixPath(volume_path)

    def write(self, envelope: dict[str, Any], relpath: PurePosixPath) -> str:
        """Upload ``envelope`` as one line of UTF-8 JSON at ``relpath`` under the volume."""
        if ".." in relpath.parts or relpath.is_absolute():
            raise ValueError(f"landing path escapes the landing root: {relpath}")
        target = str(self.root / relpath)
        self.client.files.upload(target, io.BytesIO(page_bytes(envelope)), overwrite=False)
        return target
