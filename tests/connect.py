"""The Spark Connect runtime for tests: one local server with Delta per test session."""

from __future__ import annotations

import os
from pathlib import Path

from pyspark.sql import SparkSession

from streaming.runtime.connect_server import ConnectServer, start_server
from tests.conf_guard import SITECUSTOMIZE

ROOT = Path(__file__).resolve().parent.parent
CONNECT_MODE_ENV = "SPARK_CONNECT_MODE_ENABLED"


def start_guarded_server(work_dir: Path) -> ConnectServer:
    """A Connect server whose Python workers run with the conf guard installed."""
    guard_dir = work_dir / "guard"
    guard_dir.mkdir(parents=True, exist_ok=True)
    (guard_dir / "sitecustomize.py").write_text(SITECUSTOMIZE.format(root=str(ROOT)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(guard_dir), env.get("PYTHONPATH")]))
    return start_server(work_dir / "logs", env=env)


def connect_session(url: str) -> SparkSession:
    """A client session on ``url`` that leaves this process's classic Spark usable.

    pyspark marks the whole process as Connect-only when a remote session is built
    (functions then build Connect columns); the tests that use this session set the
    mark for their own duration instead.
    """
    from pyspark.sql.connect.session import SparkSession as RemoteSparkSession

    had_mark = CONNECT_MODE_ENV in os.environ
    # The Connect builder itself: pyspark's generic one refuses while a local session runs.
    session = RemoteSparkSession.builder.remote(url).getOrCreate()
    if not had_mark:
        os.environ.pop(CONNECT_MODE_ENV, None)
    return session
