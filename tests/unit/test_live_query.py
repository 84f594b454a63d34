"""What the live page's poll says it holds: read as a version, or as nothing."""

from __future__ import annotations

import pytest

from streaming.runtime.live_page import gold_seen


@pytest.mark.parametrize(
    ("query", "seen"),
    [
        ("gold=42", 42),
        ("gold=0&x=1", 0),
        ("", None),
        ("gold=", None),
        ("gold=-1", None),
        ("gold=4%C2%B2", None),  # a superscript two: a digit to str.isdigit, not to int
        ("gold=" + "9" * 5000, None),  # past int's 4,300 digits: was a 500
        ("gold=" + "9" * 19, 10**19 - 1),
    ],
)
def test_the_gold_version_a_page_holds_is_a_plain_number_or_none(query, seen):
    assert gold_seen(query) == seen
