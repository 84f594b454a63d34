"""Which pages of which searches were fetched, so re-runs and interrupted runs resume.

A small JSON file kept where the pages go, rewritten whole after every page: a local
file replaced atomically, or a file in a Unity Catalog volume through the Files API
(which publishes an upload only once complete). A run killed at any moment leaves it
valid, and the next run fetches only what is missing.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from producers.landing_writers import files_api_client


def body_digest(body: Any) -> str:
    """A stable digest of a response body, to tell an unchanged page from a changed one."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class SearchState:
    """What is known of one (term, type, year) search."""

    total_results: int | None = None
    pages: dict[int, str] = field(default_factory=dict)  # page number → body digest


class LedgerError(Exception):
    """The ledger cannot be read; its message says how to go on."""


def search_key(term: str, kind: str | None, year: str | None) -> str:
    return json.dumps([term, kind, year], ensure_ascii=False)


def private_folder(path: str | os.PathLike[str]) -> Path:
    """``path`` made (with its parents) and readable by this user only (``0700``).

    A folder another user owns is left as it is: it is not ours to change.
    """
    folder = Path(path)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    if info.st_uid == os.getuid() and info.st_mode & 0o077:
        folder.chmod(0o700)
    return folder


def create_exclusive(path: Path, mode: int) -> int:
    """A new file's descriptor: never an existing file, never through a link (``O_EXCL``)."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)


class LocalFile:
    """A small text file on a local disk, replaced atomically, updated under a lock.

    ``private``: the file and its folder are this user's alone (``0600`` in ``0700``).
    """

    def __init__(self, path: str | os.PathLike[str], *, private: bool = False) -> None:
        self.path = Path(path)
        self.private = private

    def read(self) -> str | None:
        return self.path.read_text(encoding="utf-8") if self.path.exists() else None

    def _folder(self) -> None:
        if self.private:
            private_folder(self.path.parent)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, text: str) -> None:
        self._folder()
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        fd = create_exclusive(temp, 0o600 if self.private else 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, self.path)  # replaces a link at that name, never its target

    def update(self, change: Callable[[str | None], str]) -> None:
        """Read, change and write the file while no other process updates it."""
        with self._locked():
            self.write(change(self.read()))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # Producers running at once each rewrite the whole file: without the lock, the
        # last one would drop what the others recorded.
        self._folder()
        lock = self.path.with_name(f".{self.path.name}.lock")
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW
        with os.fdopen(os.open(lock, flags, 0o600 if self.private else 0o644)) as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


class VolumeFile:
    """A small text file in a Unity Catalog volume, through the Files API (off Databricks)."""

    def __init__(self, path: str, client=None) -> None:
        self.client = files_api_client(path, client)
        self.path = path

    def read(self) -> str | None:
        from databricks.sdk.errors import NotFound

        try:
            return self.client.files.download(self.path).contents.read().decode("utf-8")
        except NotFound:
            return None

    def write(self, text: str) -> None:
        self.client.files.upload(self.path, io.BytesIO(text.encode("utf-8")), overwrite=True)

    def update(self, change: Callable[[str | None], str]) -> None:
        """Read, change and write (a Databricks job runs one producer at a time)."""
        self.write(change(self.read()))


class Ledger:
    """The pages fetched per search, persisted in ``store`` (a path means a local file)."""

    def __init__(self, store: LocalFile | VolumeFile | str | os.PathLike[str]) -> None:
        self.store = store if isinstance(store, LocalFile | VolumeFile) else LocalFile(store)
        self.searches = self._parse(self.store.read())

    def _parse(self, text: str | None) -> dict[str, SearchState]:
        if text is None:
            return {}
        try:
            return {
                key: SearchState(
                    value.get("total_results"), {int(p): d for p, d in value["pages"].items()}
                )
                for key, value in json.loads(text).get("searches", {}).items()
            }
        except (ValueError, TypeError, KeyError, AttributeError):
            where = getattr(self.store, "path", "the ledger")
            raise LedgerError(
                f"the ledger {where} is damaged: move it aside and run again "
                "(its pages are fetched again; titles are still counted once)"
            ) from None

    def state(self, term: str, kind: str | None, year: str | None) -> SearchState:
        """What is known of a search (an empty state for a new one)."""
        return self.searches.get(search_key(term, kind, year)) or SearchState()

    def record(
        self, term: str, kind: str | None, year: str | None, page: int, digest: str, total: int
    ) -> None:
        """Remember a fetched page and save at once, keeping what other runs recorded since."""

        def change(text: str | None) -> str:
            self.searches = self._parse(text)
            state = self.searches.setdefault(search_key(term, kind, year), SearchState())
            if page == 1 and state.total_results != total:
                state.pages = {}  # the result set moved: every other page may have shifted
            state.total_results = total
            state.pages[page] = digest
            return self._dump()

        self.store.update(change)

    def _dump(self) -> str:
        data = {
            "version": 1,
            "searches": {
                key: {
                    "total_results": s.total_results,
                    "pages": {str(p): d for p, d in s.pages.items()},
                }
                for key, s in self.searches.items()
            },
        }
        return json.dumps(data, ensure_ascii=False, indent=1)
