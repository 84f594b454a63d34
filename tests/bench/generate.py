"""Seeded landing files in the contract's format, for the benchmark.

N pages of 10 results: about 10 % series with year ranges, 5 % ids repeated from
earlier pages, 1 % pages that are not found or malformed.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

from producers.landing import SearchRequest, build_envelope, landing_relpath

BASE_TIME = datetime(2026, 1, 1, tzinfo=timezone.utc)
KINDS = ("movie", "movie", "movie", "series", "episode", "game")


def _result(rng: random.Random, imdb_number: int) -> dict:
    year = rng.randrange(1950, 2026)
    kind = rng.choice(KINDS)
    year_text = str(year)
    if rng.random() < 0.10:
        kind = "series"
        year_text = f"{year}–" + (str(year + rng.randrange(1, 10)) if rng.random() < 0.7 else "")
    return {
        "Title": f"Benchmark title {imdb_number}",
        "Year": year_text,
        "imdbID": f"tt{imdb_number:08d}",
        "Type": kind,
        "Poster": "N/A" if rng.random() < 0.3 else f"https://img.example/{imdb_number}.jpg",
    }


def generate(landing: Path, pages: int, *, seed: int, first_page: int = 0) -> int:
    """Write ``pages`` page files numbered from ``first_page``; returns the files written.

    Plain writes (no fsync): the generator prepares input; it is not the producer.
    """
    rng = random.Random(seed * 1_000_003 + first_page)
    written = 0
    for n in range(first_page, first_page + pages):
        request = SearchRequest(f"bench {n // 100}", None, None, n % 100 + 1)
        fetched_at = BASE_TIME + timedelta(seconds=n)
        roll = rng.random()
        if roll < 0.005:
            body = None  # malformed below
        elif roll < 0.01:
            body = {"Response": "False", "Error": "Movie not found!"}
        else:
            numbers = [
                rng.randrange(max(n * 10, 1)) if n and rng.random() < 0.05 else n * 10 + i
                for i in range(10)
            ]
            body = {
                "Search": [_result(rng, k) for k in numbers],
                "totalResults": "1000",
                "Response": "True",
            }
        target = landing / landing_relpath(request, fetched_at, f"b{n}")
        target.parent.mkdir(parents=True, exist_ok=True)
        if body is None:
            target.write_text('{"envelope_version": 1, "source": "omdb", "respo')
        else:
            envelope = build_envelope(
                request, body, http_status=200, fetched_at=fetched_at, run_id="bench"
            )
            target.write_text(json.dumps(envelope, ensure_ascii=False) + "\n")
        written += 1
    return written
