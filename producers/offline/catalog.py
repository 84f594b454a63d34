"""The bundled sample catalog, searched the way OMDb's search endpoint answers.

Real-looking titles across a few franchises: movies, series with closed and open
year ranges, episodes, games, and one title listed twice (OMDb repeats ids across pages).
"""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources
from typing import Any

PAGE_SIZE = 10
MAX_PAGE = 100
SEARCH_TYPES = ("movie", "series", "episode")
MIN_TERM_LENGTH = 3  # shorter terms get OMDb's "Too many results."

# The demo's searches: every franchise of the catalog, and one term OMDb does not know.
DEMO_TERMS = (
    "star wars",
    "star trek",
    "batman",
    "matrix",
    "lord of the rings",
    "harry potter",
    "spider-man",
    "jurassic",
    "doctor who",
    "alien",
    "zzyzx",
)

NOT_FOUND = {"Response": "False", "Error": "Movie not found!"}
TOO_MANY = {"Response": "False", "Error": "Too many results."}


@cache
def titles() -> tuple[dict[str, str], ...]:
    """Every title of the sample catalog, in catalog order."""
    text = resources.files(__package__).joinpath("catalog.json").read_text(encoding="utf-8")
    return tuple(json.loads(text)["titles"])


def search(
    term: str, kind: str | None = None, year: str | None = None, page: int = 1
) -> dict[str, Any]:
    """OMDb's search response body for one page (every value a string, as OMDb sends)."""
    words = term.lower().split()
    if len("".join(words)) < MIN_TERM_LENGTH:
        return dict(TOO_MANY)
    found = [
        t
        for t in titles()
        if all(w in t["Title"].lower() for w in words)
        and (kind is None or t["Type"] == kind)
        and (year is None or t["Year"][:4] == str(year))
    ]
    pages = math.ceil(len(found) / PAGE_SIZE)
    if not found or page > pages:
        return dict(NOT_FOUND)
    start = (page - 1) * PAGE_SIZE
    return {
        "Search": [dict(t) for t in found[start : start + PAGE_SIZE]],
        "totalResults": str(len(found)),
        "Response": "True",
    }
