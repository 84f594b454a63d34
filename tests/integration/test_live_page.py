"""``serve``'s live page in a real browser (Debian's Chromium, driven by Playwright): it
shows gold as ``query`` sees it, changes without a reload as pages land, asks nothing of
any address but ``serve``'s, gives nothing without the secret, fits a phone, and shows a
failed stream's error while the others go on."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from streaming.pipeline.checkpoints import local_table_version
from tests.browser import CHROMIUM, launch
from tests.invariants import delta_rs_rows, every_page, gold_counts, ground_truth, rows
from tests.served import GOLD_SECONDS, Served, start_served

pytestmark = [pytest.mark.spark, pytest.mark.slow]

PAGE_SECONDS = 60  # the page polls every second; this is the streams' time, not the page's


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    yield from start_served(tmp_path_factory)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.fail(f"no {CHROMIUM}: `make browser` installs Debian's chromium for these tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


class Watched:
    """A tab on the live page, with every request it made and every console error."""

    def __init__(self, browser, served: Served, width: int = 1280, height: int = 900) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.goto(served.record.page_url)

    def counter(self) -> str:
        return self.page.text_content("#total_titles .value") or ""

    def wait_for_counter(self, total: int) -> None:
        deadline = time.monotonic() + PAGE_SECONDS
        while self.counter() != f"{total:,}":
            assert time.monotonic() < deadline, f"the counter shows {self.counter()!r}"
            time.sleep(0.25)

    def marks(self, chart: str) -> dict[tuple[int, str], int]:
        """The chart's marks as Plotly holds them: (year, media type) -> titles."""
        traces = self.page.evaluate(
            f"Array.from(document.getElementById('{chart}').data, "
            "t => ({name: t.name, x: Array.from(t.x), y: Array.from(t.y)}))"
        )
        return {
            (int(x), trace["name"]): y
            for trace in traces
            for x, y in zip(trace["x"], trace["y"], strict=True)
        }

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser, served) -> Iterator[Watched]:
    tab = Watched(browser, served)
    yield tab
    tab.close()


def gold_rows(served: Served) -> dict[tuple[int, str], int]:
    rows = delta_rs_rows(
        served.config.table("gold").path, ["release_year", "media_type", "total_releases"]
    )
    return {
        (r["release_year"], r["media_type"]): r["total_releases"]
        for r in rows
        if r["release_year"] is not None
    }


def page_counters(served: Served) -> dict[str, int]:
    done = served.cli("status", "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["live_page"]


def test_the_page_shows_gold_as_query_sees_it(served, watched):
    total = served.land_and_wait_for_gold("star wars")
    watched.wait_for_counter(total)
    assert served.gold_total() == total  # query, from another process, agrees
    held = gold_rows(served)
    assert held and sum(held.values()) <= total
    # One mark per (year, media type) gold holds, in each chart, with gold's count.
    assert watched.marks("releases_by_year") == held
    assert watched.marks("release_trend") == held
    assert watched.errors == []


def test_pages_landed_while_the_page_is_open_change_it_without_a_reload(served, watched):
    before = served.land_and_wait_for_gold("matrix")
    watched.wait_for_counter(before)
    watched.page.evaluate("window.stillTheSamePage = true")
    version = local_table_version(served.config.table("gold").path)

    after = served.land_and_wait_for_gold("harry potter", "jurassic")

    assert after > before
    watched.wait_for_counter(after)
    assert watched.page.evaluate("window.stillTheSamePage === true")  # no reload
    assert watched.marks("releases_by_year") == gold_rows(served)
    assert int(watched.page.get_attribute("body", "data-gold-version")) > version
    assert watched.errors == []


def test_every_request_stays_on_serve_and_nothing_is_given_without_the_secret(
    served, watched, browser
):
    origin = served.record.sql_url
    watched.page.wait_for_selector("#releases_by_year .main-svg", state="attached")
    deadline = time.monotonic() + PAGE_SECONDS
    while sum("/live" in url for url in watched.requests) < 3:  # a few polls
        assert time.monotonic() < deadline, watched.requests
        watched.page.wait_for_timeout(250)  # Playwright delivers the page's events meanwhile
    assert watched.requests and all(url.startswith(origin + "/") for url in watched.requests)
    assert any("/live" in url for url in watched.requests)
    # While gold does not change, the page asks every second and gold is not read again.
    before = page_counters(served)
    time.sleep(3)
    after = page_counters(served)
    assert after["polls"] >= before["polls"] + 2
    assert after["gold_reads"] == before["gold_reads"]

    stranger = browser.new_context()
    try:
        page = stranger.new_page()
        for path in ("/", "/page/live.js", "/page/plotly.min.js", "/live", "/live/spec"):
            response = page.goto(origin + path)
            assert response.status == 401, path
            assert json.loads(response.text()) == {"error": response.json()["error"]}
        wrong = page.goto(origin + "/?token=not-the-secret")
        assert wrong.status == 401
    finally:
        stranger.close()


def test_the_page_fits_a_phone_and_reads_without_colour(served, browser):
    tab = Watched(browser, served, width=390, height=844)
    try:
        tab.page.wait_for_selector("#releases_by_year .main-svg", state="attached")
        width = tab.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        # The media types differ by more than colour: a pattern per bar, a dash per line.
        bars = tab.page.evaluate(
            "Array.from(document.getElementById('releases_by_year').data, "
            "t => t.marker.pattern.shape)"
        )
        dashes = tab.page.evaluate(
            "Array.from(document.getElementById('release_trend').data, t => t.line.dash)"
        )
        assert len(set(bars)) == len(bars) and len(set(dashes)) == len(dashes)
        assert tab.errors == []
    finally:
        tab.close()


def protocol_commit(gold: str, protocol: dict) -> None:
    """Commit ``protocol`` to gold's log as its next version, as another writer would."""
    version = local_table_version(gold) + 1
    actions = [
        {"commitInfo": {"timestamp": int(time.time() * 1000), "operation": "SET TBLPROPERTIES"}},
        {"protocol": protocol},
    ]
    commit = Path(gold) / "_delta_log" / f"{version:020d}.json"
    commit.write_text("".join(json.dumps(a) + "\n" for a in actions))


def protocol_of(gold: str) -> dict:
    """The protocol gold's log declares last."""
    found = None
    for commit in sorted((Path(gold) / "_delta_log").glob("*.json")):
        for line in commit.read_text().splitlines():
            found = json.loads(line).get("protocol", found)
    assert found is not None
    return found


def test_a_failed_stream_shows_its_error_while_the_others_go_on_and_starts_again(served, watched):
    served.land_and_wait_for_gold("batman")
    watched.wait_for_counter(served.gold_total())
    # A newer writer's protocol: Spark refuses to write gold, delta-rs still reads it.
    gold = served.config.table("gold").path
    own = protocol_of(gold)
    features = [*own.get("writerFeatures", []), "aFeatureOfANewerWriter"]
    protocol_commit(gold, own | {"minWriterVersion": 7, "writerFeatures": features})

    landed = served.cli("produce", "--terms", "alien,spider-man", "--max-pages", "2")
    assert landed.returncode == 0, landed.stderr

    problem = watched.page.locator("#problem")
    deadline = time.monotonic() + GOLD_SECONDS
    while "the gold stream failed" not in (problem.text_content() or ""):
        assert time.monotonic() < deadline, "the page never showed gold's failure"
        time.sleep(0.5)
    assert watched.page.get_attribute("#node-gold", "data-state") == "failed"
    assert "aFeatureOfANewerWriter" in watched.page.text_content("#node-gold dd.error")
    told = served.cli("status")
    assert "the gold stream's last failure, at " in told.stdout, told.stdout + told.stderr
    assert "DELTA_UNSUPPORTED_FEATURES_FOR_WRITE" in told.stdout
    # The others go on: silver takes the new pages in, and the page shows bronze's rows.
    pages = len(list(every_page(served.config)))
    titles = len(ground_truth(served.config).silver)
    deadline = time.monotonic() + GOLD_SECONDS
    while len(rows(served.config, "silver", ["imdb_id"])) < titles:
        assert time.monotonic() < deadline, "silver stopped with gold"
        time.sleep(0.5)
    bronze = watched.page.locator("#node-bronze")
    while f"{pages:,} rows" not in (bronze.text_content() or ""):
        assert time.monotonic() < deadline, bronze.text_content()
        time.sleep(0.5)
    assert bronze.get_attribute("data-state") == "running"
    assert served.process.poll() is None  # serve itself goes on

    # The cause gone (the table's protocol back to this Spark's), gold's stream starts
    # again by itself, re-runs the batch that failed, and counts each title once.
    protocol_commit(gold, own)
    total = sum(ground_truth(served.config).gold.values())
    deadline = time.monotonic() + GOLD_SECONDS
    while served.gold_total() != total:
        assert time.monotonic() < deadline, "gold's stream did not start again"
        time.sleep(1)
    watched.wait_for_counter(total)
    assert watched.page.get_attribute("#node-gold", "data-state") == "running"
    assert "it starts again in 10 s" in served.log.read_text()
    assert gold_counts(served.config) == ground_truth(served.config).gold  # each title once
