"""Printing query rows as a table, CSV or JSON."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from streaming.errors import LakehouseError
from streaming.read.output import escape_controls, format_rows

COLUMNS = ["release_year", "media_type", "updated_at"]
ROWS = [(1977, "movie", dt.datetime(2026, 11, 27, 22, 0)), (2008, "series, with comma", None)]


def test_json_is_an_array_of_row_objects():
    assert json.loads(format_rows(COLUMNS, ROWS, "json")) == [
        {"release_year": 1977, "media_type": "movie", "updated_at": "2026-11-27T22:00:00"},
        {"release_year": 2008, "media_type": "series, with comma", "updated_at": None},
    ]


def test_json_of_no_rows_is_an_empty_array():
    assert json.loads(format_rows(COLUMNS, [], "json")) == []


def test_csv_has_a_header_and_quotes_commas():
    assert format_rows(COLUMNS, ROWS, "csv").splitlines() == [
        "release_year,media_type,updated_at",
        "1977,movie,2026-11-27T22:00:00",
        '2008,"series, with comma",',
    ]


def test_table_aligns_columns_and_counts_rows():
    lines = format_rows(COLUMNS, ROWS, "table").splitlines()
    assert lines[0].split() == COLUMNS
    assert lines[2].startswith("        1977  movie")
    assert "NULL" in lines[3]
    assert lines[-1] == "(2 rows)"


def test_unknown_format_is_refused():
    with pytest.raises(LakehouseError, match="format must be one of"):
        format_rows(COLUMNS, ROWS, "xml")


def test_a_table_shows_control_characters_escaped_never_raw():
    red = "<\x1b[31mRED\x1b[0m>"
    title = "\x1b]0;owned\x07"
    table = format_rows(["a\rb"], [[red], [title], ["été\n日本"]], "table")
    assert "\x1b" not in table and "\x07" not in table and "\r" not in table
    assert "<\\x1b[31mRED\\x1b[0m>" in table and "\\x1b]0;owned\\x07" in table
    assert "été\\n日本" in table  # printable text stays as it is
    assert len(table.splitlines()) == 6  # a header, a rule, three rows, the count
    assert json.loads(format_rows(["a"], [[red]], "json")) == [{"a": red}]  # JSON escapes


def test_escaping_keeps_printable_text_untouched():
    assert escape_controls("Amélie (2001) – 日本") == "Amélie (2001) – 日本"
