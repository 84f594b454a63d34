"""``produce``'s bars: drawn on a terminal, absent from a job's log and without rich."""

from __future__ import annotations

import io
import sys

from producers.produce import Search
from producers.progress import term_progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_per_search(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with term_progress(50, lambda: 7) as hook:
        hook(Search("matrix", "movie"), 3, 4)
    drawn = terminal.getvalue()
    assert "matrix (movie)" in drawn and "3/4" in drawn and "43 requests left" in drawn


def test_a_log_gets_no_bar(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with term_progress(50, lambda: 0) as hook:
        assert hook is None


def test_without_rich_a_terminal_gets_no_bar_and_no_error(monkeypatch):
    # The deployed wheel does not require rich; None in sys.modules makes its import fail.
    for name in ("rich", "rich.console", "rich.progress"):
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setattr(sys, "stderr", Terminal())
    with term_progress(50, lambda: 0) as hook:
        assert hook is None
