"""The landing contract: names, envelope, atomic and immutable files."""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from producers.landing import (
    ENVELOPE_FIELDS,
    MAX_PAGE_BYTES,
    SET_ASIDE,
    SearchRequest,
    build_envelope,
    landed_files,
    landing_fingerprint,
    landing_listing,
    landing_relpath,
    screen_landing,
    set_aside_files,
    slugify,
)
from producers.landing_writers import LocalLanding

WHEN = datetime(2026, 11, 27, 22, 0, 0, 123456, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("term", "slug"),
    [
        ("Star Wars", "star-wars"),
        ("../../etc/passwd", "etc-passwd"),
        ("a/b\\c", "a-b-c"),
        ("Amélie", "amelie"),
        ("  --Spaces  and   dashes--  ", "spaces-and-dashes"),
    ],
)
def test_slugify(term, slug):
    assert slugify(term) == slug


def test_slugify_never_returns_an_empty_or_dot_name():
    for term in ["..", "/", "千と千尋の神隠し", ""]:
        slug = slugify(term)
        assert slug and set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert slugify("千と千尋の神隠し") != slugify("七人の侍")


def test_landing_relpath_follows_the_contract():
    path = landing_relpath(SearchRequest("Star Wars", "movie", None, 3), WHEN, "abc123")
    assert str(path) == "star-wars/movie/page-003--20261127T220000123Z--abc123.json"
    assert landing_relpath(SearchRequest("x y z"), WHEN, "id1").parts[1] == "all"


def test_envelope_keeps_the_response_as_received_and_no_key():
    body = {"Search": [{"Title": "A", "Extra": [1, 2]}], "totalResults": "1", "Response": "True"}
    envelope = build_envelope(
        SearchRequest("a", None, "2001", 1), body, http_status=200, fetched_at=WHEN, run_id="r"
    )
    assert envelope["response"] is body
    assert envelope["fetched_at"] == "2026-11-27T22:00:00.123Z"
    assert envelope["request"] == {"s": "a", "type": None, "y": "2001", "page": 1}
    assert "apikey" not in json.dumps(envelope).lower()


def test_the_envelope_written_is_the_envelope_read():
    envelope = build_envelope(
        SearchRequest("a"), {"Response": "True"}, http_status=200, fetched_at=WHEN, run_id="r"
    )
    assert list(envelope) == list(ENVELOPE_FIELDS)
    assert list(envelope["request"]) == list(ENVELOPE_FIELDS["request"])


def test_write_is_one_utf8_line_and_leaves_no_temp_file(tmp_path):
    landing = LocalLanding(tmp_path)
    envelope = {"response": {"Title": "Amélie"}}
    target = landing.write(envelope, landing_relpath(SearchRequest("amélie"), WHEN, "x1"))
    content = target.read_bytes().decode("utf-8")
    assert content.count("\n") == 1 and json.loads(content) == envelope
    assert [p.name for p in target.parent.iterdir()] == [target.name]


def test_a_landed_file_is_never_overwritten(tmp_path):
    landing = LocalLanding(tmp_path)
    relpath = landing_relpath(SearchRequest("a"), WHEN, "same")
    target = landing.write({"v": 1}, relpath)
    with pytest.raises(FileExistsError):
        landing.write({"v": 2}, relpath)
    assert json.loads(target.read_text()) == {"v": 1}
    assert len(list(target.parent.iterdir())) == 1


def test_a_path_outside_the_root_is_refused(tmp_path):
    from pathlib import PurePosixPath

    with pytest.raises(ValueError, match="escapes"):
        LocalLanding(tmp_path / "root").write({}, PurePosixPath("../outside.json"))
    assert not (tmp_path / "outside.json").exists()


def test_landed_files_are_what_spark_lists(tmp_path):
    read = [tmp_path / "a.json", tmp_path / "s=x" / "deep" / "b.json", tmp_path / "_s=y" / "c.json"]
    skipped = [
        tmp_path / ".a.json.1f2e.tmp.json",  # a write in progress
        tmp_path / "_staging" / "d.json",  # a hidden folder
        tmp_path / ".hidden" / "e.json",
        tmp_path / "notes.txt",
    ]
    for path in read + skipped:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    (tmp_path / "empty.json").write_text("")  # Spark's scan gives it no row

    assert landed_files(tmp_path) == sorted(read)


def test_the_fingerprint_changes_with_what_bronze_reads_and_only_with_it(tmp_path):
    (tmp_path / "a.json").write_text("{}")
    first = landing_fingerprint(tmp_path)
    assert landing_fingerprint(tmp_path) == first
    (tmp_path / ".b.json.tmp.json").write_text("{}")  # a write in progress: not read
    (tmp_path / "_set_aside").mkdir()
    (tmp_path / "_set_aside" / "c.json").write_text("{}")
    (tmp_path / "empty.json").write_text("")
    assert landing_fingerprint(tmp_path) == first
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "d.json").write_text("{}")  # a new file anywhere below
    second = landing_fingerprint(tmp_path)
    assert second != first
    os.utime(tmp_path / "a.json", ns=(0, 0))  # the same name, another file
    assert landing_fingerprint(tmp_path) not in (first, second)


def hostile_landing(tmp_path):
    """A landing folder with one producer file and every entry bronze must not read."""
    landing = tmp_path / "landing"
    good = LocalLanding(landing).write({"v": 1}, landing_relpath(SearchRequest("a"), WHEN, "ok1"))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_text('{"secret": 1}')
    folder = good.parent
    os.symlink(outside / "secret.json", folder / "link.json")  # a link to a file outside
    os.symlink(outside, landing / "linked-folder")  # a link to a folder outside
    os.symlink(tmp_path / "gone.json", folder / "dangling.json")
    (folder / "a:b.json").write_text("{}")  # Hadoop reads "a:" as a URI scheme
    (landing / "c:d").mkdir()
    (landing / "c:d" / "e.json").write_text("{}")
    Path(os.fsdecode(os.fsencode(folder) + b"/lat\xe9.json")).write_text("{}")  # not UTF-8
    return landing, good


def test_landed_files_follow_no_link_and_skip_names_spark_cannot_read(tmp_path):
    landing, good = hostile_landing(tmp_path)
    assert landed_files(landing) == [good]  # and no error on the dangling link


def test_screening_sets_aside_what_bronze_must_not_read_and_nothing_else(tmp_path):
    landing, good = hostile_landing(tmp_path)

    moved = screen_landing(landing)

    reasons = {item.path.name: item.reason for item in moved}
    assert set(reasons) == {
        "link.json",
        "linked-folder",
        "dangling.json",
        "a:b.json",
        "c:d",
        os.fsdecode(b"lat\xe9.json"),
    }
    assert "link" in reasons["link.json"] and "':'" in reasons["a:b.json"]
    assert "UTF-8" in reasons[os.fsdecode(b"lat\xe9.json")]
    assert all(item.moved_to.is_relative_to(landing / SET_ASIDE) for item in moved)
    assert (tmp_path / "outside" / "secret.json").exists()  # a link's target is not touched
    assert [p for p in landing.rglob("*") if p.is_file() and SET_ASIDE not in p.parts] == [good]
    assert len(set_aside_files(landing)) == 6  # each link, and each file under what moved
    assert screen_landing(landing) == []  # what was set aside stays aside


def test_a_file_larger_than_a_page_may_be_is_set_aside_with_its_size(tmp_path):
    landing = tmp_path / "landing"
    folder = landing / "omdb" / "search" / "x" / "all"
    folder.mkdir(parents=True)
    page = folder / "page-001.json"
    page.write_text('{"ok": 1}')
    edge = folder / "page-002.json"
    edge.write_bytes(b" " * MAX_PAGE_BYTES)  # at the limit: still a page
    huge = folder / "page-003.json"
    huge.write_bytes(b" " * (MAX_PAGE_BYTES + 1))

    moved = screen_landing(landing)

    assert [(item.path, item.reason) for item in moved] == [
        (huge, f"{MAX_PAGE_BYTES + 1:,} bytes, over the 1,024 KiB a page may take")
    ]
    assert landed_files(landing) == [page, edge]
    assert set_aside_files(landing) == [landing / SET_ASIDE / huge.relative_to(landing)]


def test_screening_and_listing_go_on_while_bronze_archives_pages_under_them(tmp_path):
    # Bronze's source moves each page it read out of landing at any moment: a page listed
    # but gone before its size is read is simply no longer landing's.
    landing = tmp_path / "landing"
    folder = landing / "omdb" / "search" / "x" / "all"
    folder.mkdir(parents=True)
    archive = tmp_path / "archive"
    archive.mkdir()
    pages = [folder / f"page-{i:04d}.json" for i in range(3000)]
    for page in pages:
        page.write_text('{"ok": 1}')
    done = threading.Event()

    def archive_all() -> None:
        for page in pages:
            os.rename(page, archive / page.name)
        done.set()

    mover = threading.Thread(target=archive_all)
    mover.start()
    rounds = 0
    while not done.is_set() or rounds == 0:
        assert screen_landing(landing) == []
        assert set(landing_listing(landing)) <= {str(p) for p in pages}
        rounds += 1
    mover.join()
    assert landing_listing(landing) == {}
