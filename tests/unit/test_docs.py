"""The docs stay true to the code where that is cheap to check: commands, tests, links."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from streaming import cli

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", ROOT / "BENCHMARKS.md", *sorted((ROOT / "docs").glob("*.md"))]
TESTS = ROOT / "tests"


def text_of(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_every_command_of_the_help_has_a_row_in_the_commands_page(command):
    assert re.search(rf"^\| `{command}\b", text_of("docs/commands.md"), re.M), command


def named_tests(text: str) -> set[tuple[str, str | None]]:
    """(test file, test function or None) for every `test_x.py` or `test_x.py::test_y`."""
    return {
        (m["file"], m["test"])
        for m in re.finditer(r"(?P<file>test_\w+\.py)(?:::(?P<test>test_\w+))?", text)
    }


def test_every_test_the_guarantees_name_exists():
    named = named_tests(text_of("docs/guarantees.md"))
    assert len(named) > 20  # the page names its tests; an empty match would prove nothing
    missing = []
    for file, test in sorted(named, key=str):
        found = list(TESTS.rglob(file))
        if not found:
            missing.append(file)
        elif test and not any(f"def {test}(" in path.read_text() for path in found):
            missing.append(f"{file}::{test}")
    assert not missing, missing


def test_the_named_tests_reader_finds_files_and_functions():
    text = "see `test_a.py::test_b` and `test_c.py`, not test_d"
    assert named_tests(text) == {("test_a.py", "test_b"), ("test_c.py", None)}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_points_to_a_file(page):
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8"))
    local = [link for link in links if "://" not in link]
    missing = [link for link in local if not (page.parent / link).exists()]
    assert not missing, missing


def paragraphs(text: str) -> set[str]:
    """Paragraphs long enough that two copies would be a copy, whitespace folded."""
    return {" ".join(block.split()) for block in re.split(r"\n\s*\n", text) if len(block) > 200}


def test_no_paragraph_is_kept_in_two_pages():
    seen: dict[str, str] = {}
    twice = []
    for page in PAGES:
        for paragraph in paragraphs(page.read_text(encoding="utf-8")):
            if paragraph in seen:
                twice.append((seen[paragraph], page.name, paragraph[:60]))
            seen.setdefault(paragraph, page.name)
    assert not twice, twice
