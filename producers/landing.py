"""The landing contract, in one place: where pages land, their names, their envelope,
and which files the pipeline reads.

Path, below the landing folder (``<root>/landing``) or volume:
``omdb/search/<term-slug>/<type|all>/page-<NNN>--<fetched_at>--<id>.json``.
One immutable JSON file per OMDb page; the writers (``producers.landing_writers``)
publish a file only when complete and never rewrite it. The producer and the
streams both import this module; it needs neither Spark nor the network.
"""

from __future__ import annotations

import hashlib
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
# Pages land here below the landing folder (``<root>/landing`` locally) or volume.
LANDING_SUBPATH = ("omdb", "search")

# One OMDb search result, and the envelope around a response, as the pipeline reads them
# (Spark type names; a dict is a struct, a one-item list an array). Unknown fields are
# not read but kept byte for byte in bronze's ``raw``.
SEARCH_RESULT_FIELDS = {
    "Title": "string",
    "Year": "string",
    "imdbID": "string",
    "Type": "string",
    "Poster": "string",
}
ENVELOPE_FIELDS = {
    "envelope_version": "int",
    "source": "string",
    "endpoint": "string",
    "request": {"s": "string", "type": "string", "y": "string", "page": "int"},
    "fetched_at": "string",
    "http_status": "int",
    "run_id": "string",
    "response": {
        "Search": [SEARCH_RESULT_FIELDS],
        "totalResults": "string",
        "Response": "string",
        "Error": "string",
    },
}

# How Spark reads landing: each file whole as one row, at any depth, only the
# contract's names. A landed file is never changed; it leaves the folder only once read
# (bronze's source archives it, ``streaming.pipeline.archive``) or when ``screen_landing``
# sets it aside (links, names Spark cannot open): one set aside between Spark's listing
# and its read is skipped (and never read later), where it would otherwise fail the stream.
SPARK_READ_OPTIONS = {
    "wholetext": "true",
    "recursiveFileLookup": "true",
    "pathGlobFilter": "*.json",
    "ignoreMissingFiles": "true",
}
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
# An OMDb page is a few kilobytes (the producer takes bodies up to 512 KiB): a larger
# file is not a page, and one huge file would stall bronze at every run that reads it.
MAX_PAGE_BYTES = 1024 * 1024


def _hidden(name: str) -> bool:
    # Spark's file listing (and Auto Loader's) skips these names, files and folders alike.
    return name.startswith((".", "_")) and "=" not in name


def unreadable_reason(name: str, *, is_link: bool, size: int = 0) -> str | None:
    """Why bronze must not read a landing entry (its name, whether it is a link, and a
    file's size).

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
    if size > MAX_PAGE_BYTES:
        return f"{size:,} bytes, over the {MAX_PAGE_BYTES // 1024:,} KiB a page may take"
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
                try:
                    size = 0 if link or is_dir else entry.stat(follow_symlinks=False).st_size
                except FileNotFoundError:
                    continue  # bronze's source archived it since the listing: not landing's
                reason = unreadable_reason(entry.name, is_link=link, size=size)
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
        try:
            os.rename(path, target)  # a link is moved itself, never its target
        except FileNotFoundError:
            continue  # archived since the listing
        moved.append(SetAside(path, target, reason))
    return moved


def set_aside_files(landing: str | os.PathLike[str]) -> list[Path]:
    """Entries moved aside by ``screen_landing``, for ``status``."""
    aside = Path(landing) / SET_ASIDE
    return sorted(p for p in aside.rglob("*") if p.is_symlink() or p.is_file())


Listing = dict[str, tuple[int, int]]


def landing_listing(landing: str | os.PathLike[str]) -> Listing:
    """(size, modification time) of each file bronze reads, by path."""
    listing = {}
    for entry, reason in _entries(Path(landing)):
        if reason is None and entry.is_file(follow_symlinks=False):
            stat = entry.stat(follow_symlinks=False)  # cached by _entries' size check
            if stat.st_size > 0:
                listing[entry.path] = (stat.st_size, stat.st_mtime_ns)
    return listing


def fingerprint(listing: Listing) -> str:
    """A digest of a landing listing, for telling whether anything landed since a run
    without asking Spark to list the folder."""
    digest = hashlib.sha256()
    for path, (size, mtime_ns) in sorted(listing.items()):
        digest.update(f"{path}\0{size}\0{mtime_ns}\n".encode())
    return digest.hexdigest()


def landing_fingerprint(landing: str | os.PathLike[str]) -> str:
    """The fingerprint of the files bronze reads under ``landing`` now."""
    return fingerprint(landing_listing(landing))


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
