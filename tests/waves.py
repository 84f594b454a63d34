"""Seeded waves of landing files for the fault tests: overlapping ids, moving years, bad files."""

from __future__ import annotations

import random

from tests.pages import Landing, item

KINDS = ("movie", "series", "episode", "game")


def land_wave(landing: Landing, rng: random.Random, wave: int, pages: int = 4) -> None:
    """Land ``pages`` pages drawn from a pool of 60 titles whose year and type drift.

    Fetch times interleave across waves (some older than earlier waves), so newer and
    stale observations of the same title both arrive; about one page in eight is broken.
    """
    for page in range(1, pages + 1):
        if rng.random() < 0.125:
            landing.raw(
                rng.choice(['{"envelope_version": 1, "resp', "", "[]", '{"source": "omdb"}']),
                name=f"page-{page:03d}--w{wave}-{rng.randrange(10**9)}--bad.json",
                term=f"wave-{wave}",
            )
            continue
        items = []
        for _ in range(rng.randint(1, 10)):
            n = rng.randrange(60)
            year = str(1990 + (n + rng.randrange(3)) % 30)
            if rng.random() < 0.2:
                year += "–" + str(int(year) + rng.randrange(1, 6))
            items.append(item(f"tt{n:07d}", f"Title {n}", year, KINDS[(n + rng.randrange(2)) % 4]))
        if rng.random() < 0.1:
            items.append(item("bad-id", "Broken", "2001"))
        landing.page(
            items,
            term=f"wave {wave}",
            page=page,
            minutes=wave * 10 + rng.uniform(-15, 15),
            total=40,
        )
