"""serve's HTTP door, on a real loopback server: only its user gets in, and only so much.

Every request a web page or another local user could send is tried: no secret, a wrong
`Host` (DNS rebinding), a foreign `Origin`, `text/plain` (no CORS preflight), too large,
too slow, too many at once. The secret travels as a bearer token, or as the cookie a
browser is handed once.
"""

from __future__ import annotations

import http.client
import json
import socket
import struct
import threading
import time
from http import HTTPStatus
from http.server import ThreadingHTTPServer

import pytest

from streaming.runtime.guarded_http import COOKIE, GuardedHandler, Limits, handler_class

TOKEN = "s3cret-t0ken"


class Routes(GuardedHandler):
    def do_GET(self):
        if self.handed_token():
            return
        if not self.authorized():
            self.answer({"error": "refused: no valid token"}, HTTPStatus.UNAUTHORIZED)
            return
        self.answer({"hello": "you"})

    def do_POST(self):
        if not self.authorized():
            self.answer({"error": "refused: no valid token"}, HTTPStatus.UNAUTHORIZED)
            return
        try:
            self.answer({"echo": self.json_body()})
        except Exception as exc:
            self.answer({"error": str(exc)}, getattr(exc, "status", 500))


@pytest.fixture
def door():
    servers = []

    def start(limits: Limits | None = None) -> int:
        limits = limits or Limits()
        server = ThreadingHTTPServer(("127.0.0.1", 0), GuardedHandler)
        server.daemon_threads = True
        port = server.server_address[1]
        server.RequestHandlerClass = handler_class(Routes, TOKEN, port, limits)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return port

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def ask(port, method="GET", path="/", body=None, headers=None, host=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest(method, path, skip_host=True)
    connection.putheader("Host", host or f"127.0.0.1:{port}")
    for name, value in (headers or {}).items():
        connection.putheader(name, value)
    data = body.encode() if isinstance(body, str) else body
    if data is not None:
        connection.putheader("Content-Length", str(len(data)))
    connection.endheaders(data)
    response = connection.getresponse()
    answer = (response.status, dict(response.getheaders()), response.read())
    connection.close()
    return answer


BEARER = {"Authorization": f"Bearer {TOKEN}"}
JSON = {"Content-Type": "application/json"}


def test_the_secret_is_required_and_enough(door):
    port = door()
    assert ask(port)[0] == 401
    assert ask(port, headers={"Authorization": "Bearer wrong"})[0] == 401
    status, _, body = ask(port, headers=BEARER)
    assert status == 200 and json.loads(body) == {"hello": "you"}
    status, _, body = ask(port, "POST", "/", '{"statement": "SELECT 1"}', BEARER | JSON)
    assert status == 200 and json.loads(body) == {"echo": {"statement": "SELECT 1"}}


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:{port}", "127.0.0.1:1"])
def test_a_host_other_than_loopback_and_the_port_is_refused(door, host):
    port = door()
    status, _, body = ask(port, headers=BEARER, host=host.format(port=port))
    assert status == 403 and b"Host" in body
    assert ask(port, headers=BEARER, host=f"localhost:{port}")[0] == 200


def test_a_request_from_another_origin_is_refused_with_or_without_the_secret(door):
    port = door()
    evil = {"Origin": "http://attacker.example"}
    assert ask(port, "POST", "/", '{"statement": "SELECT 1"}', BEARER | JSON | evil)[0] == 403
    same = {"Origin": f"http://127.0.0.1:{port}"}
    assert ask(port, "POST", "/", '{"statement": "SELECT 1"}', BEARER | JSON | same)[0] == 200


def test_a_body_must_be_small_json_sent_as_json(door):
    port = door()
    plain = {"Content-Type": "text/plain"}  # what a page sends without a preflight
    assert ask(port, "POST", "/", '{"statement": "SELECT 1"}', BEARER | plain)[0] == 415
    assert ask(port, "POST", "/", "not json", BEARER | JSON)[0] == 400
    big = json.dumps({"statement": "x" * 70_000})
    status, _, body = ask(port, "POST", "/", big, BEARER | JSON)
    assert status == 413 and b"65536 bytes" in body


def test_a_browser_is_handed_the_secret_once_and_keeps_it_in_a_strict_cookie(door):
    port = door()
    status, headers, _ = ask(port, path=f"/page?token={TOKEN}")
    assert status == 303 and headers["Location"] == "/page"  # the token leaves the URL
    cookie = headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}={TOKEN};") and "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert ask(port, headers={"Cookie": f"{COOKIE}={TOKEN}"})[0] == 200
    assert ask(port, headers={"Cookie": f"{COOKIE}=guess"})[0] == 401
    status, headers, _ = ask(port, path="/page?token=guess")
    assert status == 401 and "Set-Cookie" not in headers


def test_a_client_that_drips_its_request_is_cut_off_at_the_deadline(door):
    port = door(Limits(request_seconds=1.0))
    started, closed_after = time.monotonic(), None
    with socket.create_connection(("127.0.0.1", port)) as slow:
        slow.sendall(b"POST / HTTP/1.0\r\n")
        for _ in range(30):  # a byte every 0.2 s: each read is quick, the whole is not
            time.sleep(0.2)
            try:
                slow.sendall(b"X")
                if slow.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) == b"":
                    closed_after = time.monotonic() - started
                    break
            except BlockingIOError:
                continue  # still open, nothing to read
            except OSError:
                closed_after = time.monotonic() - started
                break
    assert closed_after is not None and 0.9 < closed_after < 3


def test_more_requests_at_once_than_the_limit_are_told_to_come_back(door):
    port = door(Limits(concurrent=2, request_seconds=5.0))
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
    try:
        # Once the server has taken both (each waits for its request line), a third is
        # refused; until then the third could still find a slot.
        status, body = answered_within(port, lambda status: status == 503)
        assert status == 503 and b"busy" in body
    finally:
        for connection in held:
            connection.close()
    assert answered_within(port, lambda status: status == 200)[0] == 200  # the slots are freed


def answered_within(port, wanted, seconds: float = 5.0) -> tuple[int, bytes]:
    """Ask until the answer's status is ``wanted`` or ``seconds`` pass; the last answer."""
    deadline = time.monotonic() + seconds
    while True:
        status, _, body = ask(port, headers=BEARER)
        if wanted(status) or time.monotonic() > deadline:
            return status, body


def test_a_client_that_hangs_up_before_its_answer_leaves_no_traceback(door, capsys):
    port = door()
    for _ in range(5):  # a refused Host, then a reset before the refusal can be written
        with socket.create_connection(("127.0.0.1", port)) as gone:
            gone.sendall(b"GET / HTTP/1.0\r\nHost: evil.example\r\n\r\n")
            gone.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    assert ask(port, headers=BEARER)[0] == 200  # the door goes on answering
    deadline = time.monotonic() + 5
    while any("process_request" in t.name for t in threading.enumerate()):
        assert time.monotonic() < deadline, "a request thread never ended"
        time.sleep(0.05)
    assert "Traceback" not in capsys.readouterr().err
