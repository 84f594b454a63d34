"""Finding a root's `serve`: a live one is used, anything else is ignored in one line, fast."""

from __future__ import annotations

import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from checkpoints_config import local
from streaming.read.serve_client import ServeRecord, find_serve, record_path
from streaming.runtime.connect_server import free_port


def _record(url: str, pid: int) -> ServeRecord:
    return ServeRecord(pid, url, "sc://127.0.0.1:1", "2026-01-01 00:00:00 UTC", "1 seconds")


@pytest.fixture
def pinged_by():
    """A loopback HTTP server answering /ping with the given pid."""
    servers = []

    def start(pid: int) -> str:
        class Ping(BaseHTTPRequestHandler):
            def do_GET(self):
                body = json.dumps({"pid": pid}).encode()
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


def test_a_port_taken_by_another_process_is_not_our_server(tmp_path, pinged_by):
    found, said = _find(tmp_path, _record(pinged_by(os.getpid() + 1), os.getpid()))
    assert found is None and len(said) == 1


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
