"""The landing contract: one immutable JSON file per OMDb page, written atomically.

Path: ``<landing>/<term-slug>/<type|all>/page-<NNN>--<fetched_at>--<id>.json``.
The file appears under its final name only when complete (written to a hidden
temporary name in the same folder, then hard-linked into place, which also refuses
to replace an existing file), and is never rewritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

ENVELOPE_VERSION = 1
_SLUG_UNSAFE = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class SearchRequest:
    """One search page request, as recorded in the envelope (never with the key)."""

    s: str
    type: str | None = None
    y: str | None = None
    page: int = 1


def slugify(term: str) -> str:
    """A folder name of ``[a-z0-9-]`` only for a search term; never empty, never ``..``.

    Terms with no ASCII letters or digits (say, Japanese titles) get a stable hash.
    """
    ascii_text = unicodedata.normalize("NFKD", term).encode("ascii", "ignore").decode()
    slug = _SLUG_UNSAFE.sub("-", ascii_text.lower()).strip("-")[:80].strip("-")
    if slug:
        return slug
    return "term-" + hashlib.sha256(term.encode()).hexdigest()[:12]


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a ``Z``: ``2026-11-27T22:00:00.000Z``."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def build_envelope(
    request: SearchRequest,
    response: Any,
    *,
    http_status: int,
    fetched_at: datetime,
    run_id: str,
) -> dict[str, Any]:
    """The landing envelope around one OMDb response body (kept exactly as parsed)."""
    return {
        "envelope_version": ENVELOPE_VERSION,
        "source": "omdb",
        "endpoint": "search",
        "request": asdict(request),
        "fetched_at": format_timestamp(fetched_at),
        "http_status": http_status,
        "run_id": run_id,
        "response": response,
    }


def landing_relpath(
    request: SearchRequest, fetched_at: datetime, file_id: str | None = None
) -> PurePosixPath:
    """Where a page lands, relative to the landing root."""
    stamp = format_timestamp(fetched_at).replace("-", "").replace(":", "").replace(".", "")
    file_id = file_id or uuid.uuid4().hex[:12]
    if not re.fullmatch(r"[a-z0-9]+", file_id):
        raise ValueError(f"file id must be [a-z0-9]+, got {file_id!r}")
    kind = slugify(request.type) if request.type else "all"
    return PurePosixPath(
        slugify(request.s), kind, f"page-{request.page:03d}--{stamp}--{file_id}.json"
    )


SET_ASIDE = "_set_aside"


def _hidden(name: str) -> bool:
    # Spark's file listing (and Auto Loader's) skips these names, files and folders alike.
    return name.startswith((".", "_")) and "=" not in name


def unreadable_reason(name: str, *, is_link: bool) -> str | None:
    """Why bronze must not read a landing entry (its name, and whether it is a link).

    Landing is a trust boundary: a link could bring in any file the pipeline's user can
    read, and Spark cannot open a name holding ``:`` (Hadoop reads it as a URI scheme)
    nor find one that is not UTF-8. The producer's own names never need this.
    """
    if is_link:
        return "a link (links in landing are not followed)"
    if ":" in name:
        return "a name with ':' (Spark cannot open it)"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "a name that is not UTF-8 (Spark cannot find it)"
    return None


@dataclass(frozen=True)
class SetAside:
    """A landing entry moved out of bronze's way, and why."""

    path: Path
    moved_to: Path
    reason: str


def _entries(root: Path) -> Iterator[tuple[os.DirEntry[str], str | None]]:
    """(entry, why bronze must not read it) for what Spark's listing would see under ``root``.

    Folders, ``*.json`` files and links of any name; hidden names are left out. Links are
    never followed, and folders bronze must not read are not entered. One ``scandir``
    per folder: the file type comes with the listing, at no extra system call.
    """
    folders = [root]
    while folders:
        try:
            listing = os.scandir(folders.pop())
        except (FileNotFoundError, NotADirectoryError):
            continue
        with listing:
            for entry in listing:
                if _hidden(entry.name):
                    continue
                link = entry.is_symlink()
                is_dir = not link and entry.is_dir(follow_symlinks=False)
                if not (link or is_dir or entry.name.endswith(".json")):
                    continue
                reason = unreadable_reason(entry.name, is_link=link)
                if is_dir and reason is None:
                    folders.append(Path(entry.path))
                yield entry, reason


def screen_landing(landing: str | os.PathLike[str]) -> list[SetAside]:
    """Move every entry bronze must not read (``unreadable_reason``) under ``_set_aside/``.

    ``_set_aside/`` keeps each entry's relative path; Spark's listing skips it (a ``_``
    name). Nothing else in landing is touched.
    """
    root = Path(landing)
    moved = []
    for entry, reason in list(_entries(root)):
        if reason is None:
            continue
        path = Path(entry.path)
        target = root / SET_ASIDE / path.relative_to(root)
        while os.path.lexists(target):
            target = target.with_name(f"{target.name}.{uuid.uuid4().hex[:6]}")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(path, target)  # a link is moved itself, never its target
        moved.append(SetAside(path, target, reason))
    return moved


def set_aside_files(landing: str | os.PathLike[str]) -> list[Path]:
    """Entries moved aside by ``screen_landing``, for ``status``."""
    aside = Path(landing) / SET_ASIDE
    return sorted(p for p in aside.rglob("*") if p.is_symlink() or p.is_file())


def landed_files(landing: str | os.PathLike[str]) -> list[Path]:
    """The files bronze reads under a local ``landing`` folder, sorted.

    ``*.json`` at any depth, leaving out hidden names and folders (``.`` or ``_``
    prefix, as Spark's listing does), zero-byte files, which Spark's scan yields no
    row for, and what ``screen_landing`` sets aside.
    """
    return sorted(
        Path(entry.path)
        for entry, reason in _entries(Path(landing))
        if reason is None
        and entry.is_file(follow_symlinks=False)
        and entry.stat(follow_symlinks=False).st_size > 0
    )


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
        data = (json.dumps(envelope, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
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
        import io

        if ".." in relpath.parts or relpath.is_absolute():
            raise ValueError(f"landing path escapes the landing root: {relpath}")
        target = str(self.root / relpath)
        data = (json.dumps(envelope, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        self.client.files.upload(target, io.BytesIO(data), overwrite=False)
        return target
