"""The command line in a process of its own, for the tests that are about processes."""

from __future__ import annotations

import os
import sys

from streaming.runtime.session import EXTRA_CONF_ENV, JAVA_OPTIONS

# Such a process's JVM lives seconds to a minute: the first JIT tier alone has it
# working sooner (a cold `run` 35 s → 30 s on 2 cores, measured); no guarantee
# depends on the JIT.
SHORT_LIVED_JVM = f"{JAVA_OPTIONS}=-XX:TieredStopAtLevel=1"


def cli(*args: str) -> list[str]:
    """The argv of ``omdb-lakehouse *args`` with this interpreter."""
    return [sys.executable, "-m", "streaming.cli", *args]


def cli_env(**variables: str) -> dict[str, str]:
    """This process's environment plus ``variables``, for a command that starts a JVM."""
    confs = ";".join(filter(None, [os.environ.get(EXTRA_CONF_ENV), SHORT_LIVED_JVM]))
    return {**os.environ, EXTRA_CONF_ENV: confs, **variables}
