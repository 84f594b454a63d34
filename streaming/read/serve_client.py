"""Finding and asking the ``omdb-lakehouse serve`` of a root, with no JVM and no pyspark.

``serve`` records where it listens in ``<root>/state/serve.json``, with the secret made
at its start (the file is the user's alone, ``0600`` in a ``0700`` folder); ``query``,
``status`` and ``report`` read it and send their work there with the secret. Before
sending it, a client makes the server prove it holds the secret (an HMAC of a fresh
nonce): a record whose server is gone, or whose port someone else now holds, is stale,
ignored with one line and never waited on.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
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
# Loopback only, never through a proxy named in the environment: the secret stays here.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class ServeRecord:
    """Where a running ``serve`` answers, and since when."""

    pid: int
    sql_url: str  # http://127.0.0.1:<port>: the CLI's light client
    connect_url: str  # sc://localhost:<port>/;token=<token>: any Spark Connect client
    started_at: str
    interval: str
    token: str  # this start's secret: HTTP's bearer token and Spark Connect's

    @property
    def page_url(self) -> str:
        """The live page, with the secret a browser trades for a cookie on first opening."""
        return f"{self.sql_url}/?token={self.token}"

    @classmethod
    def load(cls, path: Path) -> ServeRecord:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})

    def save(self, path: Path) -> None:
        """Write atomically, for this user alone: a reader sees the whole record or none."""
        LocalFile(path, private=True).write(json.dumps(asdict(self), indent=2) + "\n")


def proof(token: str, nonce: str) -> str:
    """What a server holding ``token`` answers to ``nonce``; the token itself never travels."""
    message = f"omdb-lakehouse serve proof:{nonce}".encode()
    return hmac.new(token.encode(), message, hashlib.sha256).hexdigest()


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
        f"{record.started_at}) does not answer at {record.sql_url} with its secret"
    )
    return None


def answers(record: ServeRecord) -> bool:
    """True when the server at the record's address proves it holds the record's secret."""
    nonce = secrets.token_hex(16)
    try:
        pong = _request(f"{record.sql_url}/ping?nonce={nonce}", None, PING_SECONDS, None)
    except LakehouseError:
        return False
    answer = pong.get("proof")
    return isinstance(answer, str) and hmac.compare_digest(answer, proof(record.token, nonce))


def ask(record: ServeRecord, route: str, payload: dict | None = None) -> dict[str, Any]:
    """The server's JSON answer on ``route`` (POST ``payload`` when given, else GET).

    Raises:
        ConfigError: the server refused the request as a user mistake (a write, empty SQL).
        LakehouseError: the server could not do it, or stopped answering.
    """
    return _request(record.sql_url + route, payload, ANSWER_SECONDS, record.token)


def _request(url: str, payload: dict | None, timeout: float, token: str | None) -> dict[str, Any]:
    data = None if payload is None else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with _DIRECT.open(request, timeout=timeout) as response:
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
