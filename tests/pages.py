"""Landing pages for tests, written through the project's own landing writer."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath

from producers.landing import SearchRequest, build_envelope, landing_relpath
from producers.landing_writers import LocalLanding

BASE_TIME = datetime(2026, 11, 27, 22, 0, tzinfo=timezone.utc)
_ids = itertools.count(1)


def item(
    imdb_id: str, title: str, year: str, kind: str = "movie", poster: str = "N/A", **extra
) -> dict:
    """One OMDb search result, every value a string as OMDb sends it."""
    return {
        "Title": title,
        "Year": year,
        "imdbID": imdb_id,
        "Type": kind,
        "Poster": poster,
        **extra,
    }


class Landing:
    """A landing folder that tests fill with pages, broken files and all."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.writer = LocalLanding(self.path)

    def page(
        self,
        items: list[dict],
        *,
        term: str = "star wars",
        page: int = 1,
        minutes: float = 0,
        kind: str | None = None,
        total: int | None = None,
        **extra_fields,
    ) -> Path:
        """Land a found page fetched ``minutes`` after BASE_TIME."""
        response = {
            "Search": items,
            "totalResults": str(total if total is not None else len(items)),
            "Response": "True",
            **extra_fields,
        }
        return self._land(SearchRequest(term, kind, None, page), response, minutes)

    def not_found(self, *, term: str = "zzzqqq", minutes: float = 0) -> Path:
        return self._land(
            SearchRequest(term), {"Response": "False", "Error": "Movie not found!"}, minutes
        )

    def raw(
        self, text: str | bytes, name: str = "page-001--broken--x.json", term: str = "broken"
    ) -> Path:
        """A file whose content is exactly ``text`` (for corrupt and odd files)."""
        target = self.path / term / "all" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode() if isinstance(text, str) else text)
        return target

    def _land(self, request: SearchRequest, response: dict, minutes: float) -> Path:
        fetched_at = BASE_TIME + timedelta(minutes=minutes)
        envelope = build_envelope(
            request, response, http_status=200, fetched_at=fetched_at, run_id="test-run"
        )
        relpath: PurePosixPath = landing_relpath(request, fetched_at, f"t{next(_ids)}")
        return self.writer.write(envelope, relpath)
