"""The command line in a process of its own, for the tests that are about processes."""

from __future__ import annotations

import os
import sys


def cli(*args: str) -> list[str]:
    """The argv of ``omdb-lakehouse *args`` with this interpreter."""
    return [sys.executable, "-m", "streaming.cli", *args]


def cli_env(**variables: str) -> dict[str, str]:
    """This process's environment plus ``variables``, for a command that starts a JVM.

    The command tunes its own JVM: a short process gets the first JIT tier only, an
    always-on one (``run --trigger continuous``, ``serve``) the full JIT
    (``streaming.runtime.session.SHORT_LIVED_CONF``).
    """
    return {**os.environ, **variables}
