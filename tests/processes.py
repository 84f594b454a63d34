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


def cli_env(*, short_lived: bool = True, **variables: str) -> dict[str, str]:
    """This process's environment plus ``variables``, for a command that starts a JVM.

    ``short_lived=False`` keeps the JVM's full JIT: with the first tier alone, a JVM that
    ran VACUUM beside the streams once failed to link a method handle (a JDK
    ``InternalError`` in gold's MERGE).
    """
    extra = SHORT_LIVED_JVM if short_lived else None
    confs = ";".join(filter(None, [os.environ.get(EXTRA_CONF_ENV), extra]))
    return {**os.environ, EXTRA_CONF_ENV: confs, **variables}
