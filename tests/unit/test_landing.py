"""The landing contract: names, envelope, atomic and immutable files."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from producers.landing import (
    LocalLanding,
    SearchRequest,
    build_envelope,
    landed_files,
    landing_relpath,
    slugify,
)

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
