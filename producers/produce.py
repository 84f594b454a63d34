"""The producer job: page through OMDb searches and land every new page, resumably."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol

from producers.landing import SearchRequest, build_envelope, landing_relpath
from producers.ledger import Ledger, body_digest
from producers.omdb_client import (
    OmdbClient,
    OmdbPageError,
    OmdbStop,
    OmdbTermError,
    RequestBudgetSpent,
)
from producers.settings import DEFAULT_MAX_REQUESTS

PAGE_SIZE = 10
OMDB_MAX_PAGE = 100


class Landing(Protocol):
    def write(self, envelope: dict, relpath) -> object: ...


@dataclass(frozen=True)
class Search:
    """One search to page through: a term and optional type and year filters."""

    term: str
    kind: str | None = None
    year: str | None = None

    def __post_init__(self) -> None:
        if not self.term.strip():
            raise ValueError("a search term is empty")
        if self.kind not in (None, "movie", "series", "episode"):
            raise ValueError(f"type must be movie, series or episode, got {self.kind!r}")
        if self.year is not None and not (self.year.isdigit() and len(self.year) == 4):
            raise ValueError(f"year must be four digits, got {self.year!r}")


@dataclass
class ProduceSummary:
    landed: int = 0
    unchanged: int = 0  # fetched again, same body: not landed twice
    skipped: int = 0  # known from an earlier run, not fetched
    failed: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    stopped: str | None = None  # why the run stopped early (resumable)

    @property
    def all_failed(self) -> bool:
        """Pages were asked for and none was answered: nothing landed, nothing confirmed."""
        return self.failed > 0 and self.landed == 0 and self.unchanged == 0

    def line(self) -> str:
        """The run in one line, as the command line closes with it."""
        return (
            f"{self.landed} pages landed, {self.unchanged} unchanged, "
            f"{self.skipped} skipped (known), {self.failed} failed, "
            f"{self.requests} requests"
        )


ProgressHook = Callable[[Search, int, int], None]  # (search, pages done, pages total)


def pages_to_fetch(total_results: int, max_pages: int | None) -> int:
    """How many pages a search has: ``min(ceil(total / 10), 100, max_pages)``, at least page 1."""
    pages = min(math.ceil(total_results / PAGE_SIZE), OMDB_MAX_PAGE)
    return max(1, min(pages, max_pages) if max_pages else pages)


class Producer:
    """Fetches pages with ``client``, lands new ones, remembers them in ``ledger``."""

    def __init__(
        self,
        client: OmdbClient,
        landing: Landing,
        ledger: Ledger,
        *,
        max_pages: int | None = None,
        max_requests: int = DEFAULT_MAX_REQUESTS,
        refresh: bool = False,
        progress: ProgressHook | None = None,
    ) -> None:
        self.client = client
        # The client counts every request it sends, retries included, against the budget.
        self.client.max_requests = max_requests
        self.landing = landing
        self.ledger = ledger
        self.max_pages = max_pages
        self.max_requests = max_requests
        self.refresh = refresh
        self.progress = progress or (lambda *_: None)
        self.run_id = uuid.uuid4().hex
        self.summary = ProduceSummary()

    def run(self, searches: Iterable[Search]) -> ProduceSummary:
        """Every page of every search; stops early (resumably) on OmdbStop or the budget."""
        try:
            for search in searches:
                try:
                    self._search(search)
                except OmdbTermError as exc:
                    self.summary.failed += 1
                    self.summary.errors.append(str(exc))
        except OmdbStop as exc:
            self.summary.stopped = str(exc)
        except RequestBudgetSpent:
            self.summary.stopped = (
                f"request budget of {self.max_requests} spent (retries count); run again to go on"
            )
        self.summary.requests = self.client.requests_sent
        return self.summary

    def _search(self, search: Search) -> None:
        state = self.ledger.state(search.term, search.kind, search.year)
        known = dict(state.pages)
        known_total = state.total_results
        first = self._fetch(search, 1, known.get(1))
        if first is None:
            return
        pages = pages_to_fetch(first, self.max_pages)
        unchanged_total = known_total == first
        self.progress(search, 1, pages)
        for page in range(2, pages + 1):
            if page in known and unchanged_total and not self.refresh:
                self.summary.skipped += 1
            else:
                self._fetch(search, page, known.get(page) if unchanged_total else None)
            self.progress(search, page, pages)

    def _fetch(self, search: Search, page: int, known_digest: str | None) -> int | None:
        """Fetch one page, land it if new; returns the search's total results."""
        fetched_at = datetime.now(timezone.utc)
        try:
            result = self.client.search(search.term, search.kind, search.year, page)
        except OmdbPageError as exc:
            self.summary.failed += 1
            self.summary.errors.append(str(exc))
            return None
        digest = body_digest(result.body)
        if digest == known_digest:
            self.summary.unchanged += 1
        else:
            request = SearchRequest(search.term, search.kind, search.year, page)
            envelope = build_envelope(
                request,
                result.body,
                http_status=result.http_status,
                fetched_at=fetched_at,
                run_id=self.run_id,
            )
            self.landing.write(envelope, landing_relpath(request, fetched_at))
            self.summary.landed += 1
        self.ledger.record(
            search.term, search.kind, search.year, page, digest, result.total_results
        )
        return result.total_results
