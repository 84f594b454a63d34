"""Land the sample catalog's search pages directly, without HTTP (the demo's data)."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from pathlib import Path

from producers.landing import LocalLanding, SearchRequest, build_envelope, landing_relpath
from producers.offline.catalog import search

DEMO_TERMS = ("star wars", "star trek", "batman", "matrix", "lord of the rings", "zzyzx")


def land_sample_pages(landing_path: str | Path, terms: tuple[str, ...] = DEMO_TERMS) -> int:
    """Land every page of each term's sample search; returns the number of files landed."""
    writer = LocalLanding(landing_path)
    run_id = uuid.uuid4().hex
    landed = 0
    for term in terms:
        page, pages = 1, 1
        while page <= pages:
            fetched_at = datetime.now(timezone.utc)
            request = SearchRequest(term, page=page)
            body = search(term, page=page)
            if body.get("Response") == "True":
                pages = -(-int(body["totalResults"]) // 10)
            envelope = build_envelope(
                request, body, http_status=200, fetched_at=fetched_at, run_id=run_id
            )
            writer.write(envelope, landing_relpath(request, fetched_at))
            landed += 1
            page += 1
    return landed
