"""Finding a root's `serve`: a live one is used, anything else is ignored in one line, fast.

A client trusts only a server that proves it holds the record's secret, and sends the
secret to no other: a port someone else took after `serve` died learns nothing.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from checkpoints_config import local
from streaming.read.serve_client import ServeRecord, find_serve, proof, record_path
from streaming.runtime.connect_server import free_port

TOKEN = "the-record-s-secret"


def _record(url: str, pid: int) -> ServeRecord:
    return ServeRecord(
        pid, url, "sc://localhost:1/;token=x", "2026-01-01 00:00:00 UTC", "1 seconds", TOKEN
    )


@pytest.fixture
def pinged_by():
    """A loopback HTTP server answering /ping with the given pid and a proof made with the
    given secret; ``heard`` keeps every Authorization header it was sent."""
    servers = []
    heard: list[str] = []

    def start(pid: int, token: str = TOKEN) -> str:
        class Ping(BaseHTTPRequestHandler):
            def do_GET(self):
                heard.append(self.headers.get("Authorization", ""))
                nonce = self.path.partition("nonce=")[2]
                body = json.dumps({"pid": pid, "proof": proof(token, nonce)}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Ping)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    start.heard = heard
    yield start
    for server in servers:
        server.shutdown()


def _find(root, record: ServeRecord | None = None, text: str | None = None):
    config = local(root)
    path = record_path(config)
    if record is not None:
        record.save(path)
    if text is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    said: list[str] = []
    return find_serve(config, said.append), said


def test_no_record_means_no_server_and_nothing_said(tmp_path):
    assert _find(tmp_path) == (None, [])


def test_the_server_named_by_the_record_is_used(tmp_path, pinged_by):
    record = _record(pinged_by(os.getpid()), os.getpid())
    assert _find(tmp_path, record) == (record, [])


def test_a_record_whose_port_is_closed_is_stale_and_said_once(tmp_path):
    found, said = _find(tmp_path, _record(f"http://127.0.0.1:{free_port()}", 4242))
    assert found is None
    assert len(said) == 1 and "pid 4242" in said[0] and "does not answer" in said[0]


def test_a_port_taken_by_a_server_without_the_secret_is_not_ours_and_is_never_sent_it(
    tmp_path, pinged_by
):
    impostor = pinged_by(os.getpid(), token="a guess")  # right pid, wrong secret
    found, said = _find(tmp_path, _record(impostor, os.getpid()))
    assert found is None and len(said) == 1 and "with its secret" in said[0]
    assert pinged_by.heard == [""]  # asked once, with no Authorization header


def test_the_record_is_the_user_s_alone(tmp_path, pinged_by):
    _find(tmp_path, _record(pinged_by(os.getpid()), os.getpid()))
    path = record_path(local(tmp_path))
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700


def test_a_server_that_accepts_but_never_answers_is_not_waited_on(tmp_path):
    with socket.socket() as silent:  # listens, never reads or replies
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        found, said = _find(tmp_path, _record(url, os.getpid()))
    assert found is None and "does not answer" in said[0]


def test_a_damaged_record_is_ignored_in_one_line(tmp_path):
    found, said = _find(tmp_path, text="{not json")
    assert found is None
    assert len(said) == 1 and "not a serve record" in said[0]
