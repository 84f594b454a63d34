"""What a stream's checkpoint and a local table's log say, read from their files without Spark.

Spark's checkpoint layout (``offsets/<batch>``, ``commits/<batch>``) and Delta's source
offset (``reservoirVersion``, ``index``) are read here only to report progress and to
skip a query that has nothing to read; a checkpoint that says less than expected makes
the caller run the query, never skip it.
"""

from __future__ import annotations

import json
from pathlib import Path

from producers.ledger import LocalFile


def last_committed_batch(checkpoint: str | Path) -> tuple[int, Path] | None:
    """The newest batch the stream committed, and its commit file; None before the first."""
    commits = Path(checkpoint) / "commits"
    if not commits.is_dir():
        return None
    entries = [(int(p.name), p) for p in commits.iterdir() if p.name.isdigit()]
    return max(entries) if entries else None


def has_uncommitted_batch(checkpoint: str | Path) -> bool:
    """True when the stream planned a batch (its offsets) that it never committed: the
    next start re-runs it, so nothing may skip the query."""
    offsets = Path(checkpoint) / "offsets"
    if not offsets.is_dir():
        return False
    planned = max((int(p.name) for p in offsets.iterdir() if p.name.isdigit()), default=None)
    if planned is None:
        return False
    committed = last_committed_batch(checkpoint)
    return committed is None or committed[0] < planned


def source_offset(checkpoint: str | Path, batch: int) -> dict | None:
    """The end offset of ``batch`` for the stream's one source, as Spark wrote it."""
    offsets = Path(checkpoint) / "offsets" / str(batch)
    if not offsets.exists():
        return None
    lines = offsets.read_text(encoding="utf-8").splitlines()
    return json.loads(lines[2]) if len(lines) > 2 and lines[2].strip() else None


def delta_versions_done(checkpoint: str | Path) -> int | None:
    """The last Delta source version every file of which the stream committed, if known."""
    committed = last_committed_batch(checkpoint)
    if committed is None:
        return None
    offset = source_offset(checkpoint, committed[0])
    if not offset or "reservoirVersion" not in offset:
        return None
    # Delta's offset (v, -1) means every version before v was read; (v, i) that version v
    # was read up to its file i, maybe not all of it: either way, all before v.
    return int(offset["reservoirVersion"]) - 1


def has_commits(path: str | Path) -> bool:
    """True when the local folder ``path`` holds a Delta log with at least one commit.

    A look at the file system: no Spark job, no snapshot, so every run and every
    JVM-free reader can afford it.
    """
    log = Path(path) / "_delta_log"
    return log.is_dir() and any(f.name[:20].isdigit() for f in log.iterdir())


# delta-rs takes a local path as a URL: '%' is decoded, '#' and '?' cut the path short
# for some of its reads (a table's history comes back empty), '\\' and control
# characters do not survive. Rather than list what breaks, delta-rs gets only paths made
# of characters it was seen to keep (any letter or digit, and these); Spark reads the rest.
_DELTA_RS_SAFE = frozenset(" -_.,+=@~/")


def delta_rs_reads(path: str | Path) -> bool:
    """True when delta-rs can open local tables under ``path`` as they are named."""
    return all(c.isalnum() or c in _DELTA_RS_SAFE for c in str(path))


def local_table_version(path: str | Path) -> int | None:
    """The newest commit version of a local Delta table, from its log's file names."""
    log = Path(path) / "_delta_log"
    if not log.is_dir():
        return None
    versions = [int(f.name[:20]) for f in log.iterdir() if f.name.endswith(".json")]
    return max(versions, default=None)


def live_files(path: str | Path) -> int | None:
    """How many data files a local table's newest version holds, from the checksum file
    Delta writes beside each commit; None when that file is missing or unreadable."""
    version = local_table_version(path)
    if version is None:
        return None
    checksum = Path(path) / "_delta_log" / f"{version:020d}.crc"
    try:
        return int(json.loads(checksum.read_text(encoding="utf-8"))["numFiles"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


# Kept beside Spark's files in bronze's checkpoint, so that it goes with the checkpoint
# (a reset, a deleted checkpoint) and can never vouch for a checkpoint it did not see.
LANDING_SEEN = "landing_seen"


def landing_seen(checkpoint: str | Path) -> str | None:
    """The landing fingerprint every file of which bronze has committed, if recorded and
    if no batch is left to re-run since (a commit lost in a crash)."""
    if has_uncommitted_batch(checkpoint):
        return None
    path = Path(checkpoint) / LANDING_SEEN
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def mark_landing_seen(checkpoint: str | Path, fingerprint: str) -> None:
    """Record that bronze committed every file of ``fingerprint`` (atomically)."""
    LocalFile(Path(checkpoint) / LANDING_SEEN).write(fingerprint + "\n")
