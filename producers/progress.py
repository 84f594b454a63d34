"""A progress bar per search term (quiet when not a terminal), and the closing summary."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from producers.produce import ProduceSummary, ProgressHook, Search


@contextmanager
def term_progress(producer_budget: int, requests_sent) -> Iterator[ProgressHook]:
    """A hook for ``Producer`` that draws one bar per search on stderr."""
    console = Console(file=sys.stderr)
    tasks: dict[Search, TaskID] = {}
    with Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("pages · {task.fields[left]} requests left"),
        console=console,
        disable=not console.is_terminal,
    ) as progress:

        def hook(search: Search, done: int, total: int) -> None:
            label = search.term + (f" ({search.kind})" if search.kind else "")
            if search not in tasks:
                tasks[search] = progress.add_task(label[:28], total=total, left=producer_budget)
            progress.update(
                tasks[search], completed=done, total=total, left=producer_budget - requests_sent()
            )

        yield hook


def summary_line(summary: ProduceSummary) -> str:
    return (
        f"{summary.landed} pages landed, {summary.unchanged} unchanged, "
        f"{summary.skipped} skipped (known), {summary.failed} failed, "
        f"{summary.requests} requests"
    )
