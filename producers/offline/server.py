"""An OMDb-compatible search server over the sample catalog, on loopback.

Answers like OMDb: ``?apikey=&s=&type=&y=&page=``, every value a string, 10 results a
page, ``Movie not found!`` and ``Too many results.`` with HTTP 200, a missing or wrong
key with HTTP 401. Used by ``produce`` when no key is set, by the demo and by the tests.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from producers.offline.catalog import MAX_PAGE, SEARCH_TYPES, search

OFFLINE_KEY = "offline"


class _Handler(BaseHTTPRequestHandler):
    server: OfflineOmdbServer

    def do_GET(self) -> None:
        query = {k: v[-1] for k, v in parse_qs(urlparse(self.path).query).items()}
        status, body = self.server.answer(query)
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_: object) -> None:
        """Quiet: request lines would carry the key."""


class OfflineOmdbServer(ThreadingHTTPServer):
    """The sample catalog behind OMDb's search API, on ``127.0.0.1`` and a free port."""

    daemon_threads = True

    def __init__(self, api_key: str = OFFLINE_KEY, daily_limit: int | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api_key = api_key
        self.daily_limit = daily_limit
        self.requests_served = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def answer(self, query: dict[str, str]) -> tuple[int, dict]:
        """(HTTP status, body) for one request, as OMDb would answer."""
        key = query.get("apikey")
        if not key:
            return 401, {"Response": "False", "Error": "No API key provided."}
        if key != self.api_key:
            return 401, {"Response": "False", "Error": "Invalid API key!"}
        with self._lock:
            if self.daily_limit is not None and self.requests_served >= self.daily_limit:
                return 401, {"Response": "False", "Error": "Request limit reached!"}
            self.requests_served += 1
        if not query.get("s"):
            return 200, {"Response": "False", "Error": "Incorrect IMDb ID."}
        kind = query.get("type") or None
        if kind is not None and kind not in SEARCH_TYPES:
            return 200, {"Response": "False", "Error": "Movie not found!"}
        try:
            page = int(query.get("page", "1"))
        except ValueError:
            page = 0
        if not 1 <= page <= MAX_PAGE:
            return 200, {"Response": "False", "Error": "Movie not found!"}
        return 200, search(query["s"], kind, query.get("y") or None, page)

    def start(self) -> OfflineOmdbServer:
        self._thread = threading.Thread(target=self.serve_forever, name="offline-omdb", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def __enter__(self) -> OfflineOmdbServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
