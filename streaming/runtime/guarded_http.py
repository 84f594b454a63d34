"""The door of ``serve``'s HTTP endpoint: who may come in, and how much they may ask.

The endpoint listens on loopback, which every local user and, through a browser, every
web page can reach. So each request must carry the secret ``serve`` made at its start
(``Authorization: Bearer``, or the cookie a browser gets by opening the URL with
``?token=`` once, as Jupyter does); its ``Host`` must name loopback and the port (a
rebinding DNS name cannot); a foreign ``Origin`` is refused; a body is JSON, and small.
A request is read within a deadline, the socket times out, and only so many are served
at once; each refusal is one line of JSON with its HTTP status.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import socket
import threading
import urllib.parse
from dataclasses import dataclass
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler
from typing import Any

COOKIE = "omdb_lakehouse_token"
LOOPBACK_NAMES = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class Limits:
    """What one client may ask of the endpoint."""

    max_body_bytes: int = 64 * 1024  # a statement, not a data upload
    request_seconds: float = 10.0  # to send the whole request, headers and body
    socket_seconds: float = 30.0  # of silence on a connection
    concurrent: int = 8  # requests served at once; more are told to come back


class Refused(Exception):
    """A request turned away, with its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class GuardedHandler(BaseHTTPRequestHandler):
    """A request handler that admits only its user's requests; subclasses add routes.

    The server gives each handler class its ``token``, ``port``, ``limits`` and a
    semaphore ``slots`` of ``limits.concurrent``.
    """

    token: str
    port: int
    limits: Limits
    slots: threading.BoundedSemaphore
    protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers

    def setup(self) -> None:
        self.timeout = self.limits.socket_seconds
        super().setup()

    def handle(self) -> None:
        if not self.slots.acquire(blocking=False):
            self._raw_refusal(HTTPStatus.SERVICE_UNAVAILABLE, "serve is busy: try again")
            return
        # A client that drips its request a byte at a time is cut off at the deadline.
        deadline = threading.Timer(self.limits.request_seconds, self._cut_off)
        deadline.daemon = True
        deadline.start()
        self._deadline = deadline
        try:
            super().handle()
        except ConnectionError:
            pass  # the client hung up (closed or reset) before its answer: no one to tell
        finally:
            deadline.cancel()
            self.slots.release()

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        try:
            self._check_host_and_origin()
        except Refused as exc:
            self.answer({"error": str(exc)}, exc.status)
            return False
        if self.command != "POST":
            self.request_read()  # no body to wait for
        return True

    def request_read(self) -> None:
        """The request is in: the rest of the time is the work's, not the client's."""
        self._deadline.cancel()

    def _cut_off(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _raw_refusal(self, status: HTTPStatus, message: str) -> None:
        body = json.dumps({"error": message}).encode()
        head = (
            f"HTTP/1.0 {status.value} {status.phrase}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        try:
            self.connection.settimeout(1.0)
            self.connection.sendall(head.encode() + body)
        except OSError:
            pass

    def _check_host_and_origin(self) -> None:
        allowed = {f"{name}:{self.port}" for name in LOOPBACK_NAMES}
        if self.headers.get("Host", "").lower() not in allowed:
            raise Refused(HTTPStatus.FORBIDDEN, "refused: Host must be 127.0.0.1 or localhost")
        origin = self.headers.get("Origin")
        if origin is not None and origin.lower() not in {f"http://{h}" for h in allowed}:
            raise Refused(HTTPStatus.FORBIDDEN, "refused: requests from other origins")

    def authorized(self) -> bool:
        """True when the request carries this start's secret (header or cookie)."""
        header = self.headers.get("Authorization", "")
        given = header[len("Bearer ") :] if header.startswith("Bearer ") else None
        if given is None:
            try:
                cookie = SimpleCookie(self.headers.get("Cookie", ""))
            except CookieError:
                cookie = SimpleCookie()
            given = cookie[COOKIE].value if COOKIE in cookie else None
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def handed_token(self) -> bool:
        """A browser opening ``?token=<secret>``: keep it in a cookie, drop it from the URL."""
        path, _, query = self.path.partition("?")
        given = urllib.parse.parse_qs(query).get("token", [None])[0]
        if given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
            return False
        self.send_response(HTTPStatus.SEE_OTHER)
        self.send_header("Set-Cookie", f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/")
        self.send_header("Location", path or "/")
        self.send_header("Content-Length", "0")
        self.end_headers()
        return True

    def json_body(self) -> Any:
        """The request's JSON body.

        Raises:
            Refused: not ``application/json``, no length, too large, or not JSON.
        """
        kind = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise Refused(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "refused: send application/json")
        try:
            length = int(self.headers.get("Content-Length") or -1)
        except ValueError:
            length = -1
        if length < 0:
            raise Refused(HTTPStatus.LENGTH_REQUIRED, "refused: a body needs a Content-Length")
        if length > self.limits.max_body_bytes:
            raise Refused(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"refused: a request body is at most {self.limits.max_body_bytes} bytes",
            )
        data = self.rfile.read(length)
        self.request_read()
        try:
            return json.loads(data)
        except (ValueError, RecursionError):
            raise Refused(HTTPStatus.BAD_REQUEST, "refused: the body is not JSON") from None

    def answer(self, body: dict[str, Any], status: int = HTTPStatus.OK) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(data)

    def send_bytes(self, data: bytes, content_type: str, *, policy: str | None = None) -> None:
        """A file of the page; ``policy``: its Content-Security-Policy."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        if policy:
            self.send_header("Content-Security-Policy", policy)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the terminal shows the streams, not every request


def handler_class(
    routes: type[GuardedHandler], token: str, port: int, limits: Limits
) -> type[GuardedHandler]:
    """``routes`` bound to one server's secret, port and limits."""
    return type(
        routes.__name__,
        (routes,),
        {
            "token": token,
            "port": port,
            "limits": limits,
            "slots": threading.BoundedSemaphore(limits.concurrent),
        },
    )
