"""A tripwire for session confs: setting one outside serverless's allowlist fails loudly.

Installed in the test process (classic and Connect sessions alike) and, through a
``sitecustomize`` on the Connect server's ``PYTHONPATH``, in the server-side Python
workers that run ``foreachBatch``. It passes every allowed call through untouched.
"""

from __future__ import annotations

import functools

from streaming.read.spark_sql import READER_CONFS
from streaming.runtime.session import SERVERLESS_SETTABLE_CONFS

# The session that answers `query` locally turns these off; it is never a Databricks one
# (streaming.read.spark_sql.reader_session).
ALLOWED = SERVERLESS_SETTABLE_CONFS | set(READER_CONFS)

MARK = "not settable on Databricks serverless"


class ForbiddenConf(AssertionError):
    """Pipeline code set a session conf that serverless would refuse."""


def _guarded(method):
    @functools.wraps(method)
    def check(self, key, *args, **kwargs):
        if key not in ALLOWED:
            raise ForbiddenConf(f"session conf {key!r} is {MARK}")
        return method(self, key, *args, **kwargs)

    check.__conf_guard__ = True
    return check


def install() -> None:
    """Guard ``spark.conf.set``/``unset`` of classic and Spark Connect sessions (idempotent)."""
    from pyspark.sql.conf import RuntimeConfig
    from pyspark.sql.connect.conf import RuntimeConf

    for cls in (RuntimeConfig, RuntimeConf):
        for name in ("set", "unset"):
            method = getattr(cls, name)
            if not getattr(method, "__conf_guard__", False):
                setattr(cls, name, _guarded(method))


SITECUSTOMIZE = """\
import sys
sys.path.insert(0, {root!r})
from tests.conf_guard import install
install()
"""
