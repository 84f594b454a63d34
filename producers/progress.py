"""A progress bar per search term, on a terminal that has rich (the ``local`` extra)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from producers.produce import ProgressHook, Search


@contextmanager
def term_progress(producer_budget: int, requests_sent) -> Iterator[ProgressHook | None]:
    """A hook for ``Producer`` that draws one bar per search on stderr.

    Yields None where no bar is drawn: stderr is not a terminal (a job's log), or rich is
    not installed (the deployed wheel does not require it).
    """
    if not sys.stderr.isatty():
        yield None
        return
    try:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
    except ImportError:
        yield None
        return
    tasks: dict[Search, TaskID] = {}
    with Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("pages · {task.fields[left]} requests left"),
        console=Console(file=sys.stderr),
    ) as progress:

        def hook(search: Search, done: int, total: int) -> None:
            label = search.term + (f" ({search.kind})" if search.kind else "")
            if search not in tasks:
                tasks[search] = progress.add_task(label[:28], total=total, left=producer_budget)
            progress.update(
                tasks[search], completed=done, total=total, left=producer_budget - requests_sent()
            )

        yield hook
