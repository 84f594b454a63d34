"""Finding and asking the ``omdb-lakehouse serve`` of a root, with no JVM and no pyspark.

``serve`` records where it listens in ``<root>/state/serve.json``; ``query``, ``status``
and ``report`` read it and send their work there. A record nobody answers for (its
server was killed) is stale: it is ignored with one line, never waited on.
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from checkpoints_config import ConfigError, PipelineConfig
from producers.ledger import LocalFile
from streaming.errors import LakehouseError

RECORD_NAME = "serve.json"
PING_SECONDS = 2.0  # a server that does not answer this fast is treated as gone
ANSWER_SECONDS = 3600.0  # a long query is the user's to interrupt

Say = Callable[[str], None]


@dataclass(frozen=True)
class ServeRecord:
    """Where a running ``serve`` answers, and since when."""

    pid: int
    sql_url: str  # http://127.0.0.1:<port>: the CLI's light client
    connect_url: str  # sc://127.0.0.1:<port>: any Spark Connect client
    started_at: str
    interval: str

    @classmethod
    def load(cls, path: Path) -> ServeRecord:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})

    def save(self, path: Path) -> None:
        """Write atomically: a reader sees the whole record or none."""
        LocalFile(path).write(json.dumps(asdict(self), indent=2) + "\n")


def record_path(config: PipelineConfig) -> Path | None:
    """Where a local root's record lives; None on Databricks targets (nothing is served)."""
    if config.on_unity_catalog or not config.state_path:
        return None
    return Path(config.state_path) / RECORD_NAME


def find_serve(config: PipelineConfig, say: Say) -> ServeRecord | None:
    """The running ``serve`` of this root, or None (no record, or a stale one: said once)."""
    path = record_path(config)
    if path is None or not path.is_file():
        return None
    try:
        record = ServeRecord.load(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        say(f"ignoring {path}: not a serve record ({type(exc).__name__})")
        return None
    if answers(record):
        return record
    say(
        f"ignoring {path}: the serve that wrote it (pid {record.pid}, started "
        f"{record.started_at}) does not answer at {record.sql_url}"
    )
    return None


def answers(record: ServeRecord) -> bool:
    """True when the server at the record's address is the record's own (its pid)."""
    try:
        pong = _request(record.sql_url + "/ping", None, PING_SECONDS)
    except LakehouseError:
        return False
    return pong.get("pid") == record.pid


def ask(record: ServeRecord, route: str, payload: dict | None = None) -> dict[str, Any]:
    """The server's JSON answer on ``route`` (POST ``payload`` when given, else GET).

    Raises:
        ConfigError: the server refused the request as a user mistake (a write, empty SQL).
        LakehouseError: the server could not do it, or stopped answering.
    """
    return _request(record.sql_url + route, payload, ANSWER_SECONDS)


def _request(url: str, payload: dict | None, timeout: float) -> dict[str, Any]:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        answer: dict[str, Any] = {}
        with contextlib.suppress(ValueError):
            answer = json.loads(exc.read())
        message = answer.get("error") or f"HTTP {exc.code}"
        raise (ConfigError if answer.get("kind") == "config" else LakehouseError)(message) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise LakehouseError(f"serve at {url} does not answer: {reason}") from None
