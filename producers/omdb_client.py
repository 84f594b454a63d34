"""OMDb search client: HTTPS, bounded retries, OMDb's own errors, and the key kept secret.

OMDb takes the key in the query string, so every URL carries it: ``requests`` and
``urllib3`` exceptions and debug logs print URLs. This module redacts the key from
log records (a filter on urllib3's logger) and re-raises transport errors with a
redacted message and no chained original; it sends the key in clear only to loopback.

A server is not trusted to be well-behaved: a body is read within a total deadline
and up to a size, and anything that is not a page of the expected shape (not JSON, too
deep, an ``Error`` that is not text) fails that page alone, and the run goes on.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from producers.settings import DEFAULT_URL, URL_ENV

# OMDb answers these with HTTP 401; each stops the whole run (resumable later).
AUTH_ERRORS = ("Invalid API key!", "No API key provided.", "Request limit reached!")
NOT_FOUND = "Movie not found!"
TOO_MANY_RESULTS = "Too many results."

# A server may ask for any wait; a producer run is not held longer than this per retry.
MAX_RETRY_AFTER = 60.0

# An OMDb page is a few kilobytes; a body larger than this (decoded) is not a page.
MAX_BODY_BYTES = 512 * 1024
# The longest one request may take, body included, however slowly a server sends it.
REQUEST_SECONDS = 60.0
_CHUNK = 2048  # compressed bytes a read may take: a zip bomb grows ~1,000x at most

_KEY_IN_URL = re.compile(r"(apikey=)[^&\s'\"]*", re.IGNORECASE)


class OmdbError(Exception):
    """A failure talking to OMDb; messages never contain the API key."""


class OmdbStop(OmdbError):
    """The key is invalid or its daily limit is reached: stop the run, resume later."""


class OmdbTermError(OmdbError):
    """This search cannot be answered (e.g. too many results); other terms go on."""


class OmdbPageError(OmdbError):
    """One page failed (transport error after retries, HTTP error, a body that is not JSON)."""


class OmdbConfigError(OmdbError):
    """The client cannot be used as configured (an unusable base URL)."""


class RequestBudgetSpent(OmdbError):
    """The run's request budget is spent; retries count against it too."""


def check_base_url(url: str) -> str:
    """``url`` when it is an https URL with a host, or http on loopback.

    Raises:
        OmdbConfigError: anything else, before any request is sent: the key travels in the
            URL, so plain HTTP would show it to the network.
    """
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise OmdbConfigError(f"{URL_ENV} must be an http(s) URL with a host, got {url!r}")
    if parsed.scheme == "http" and not is_loopback(parsed.hostname):
        raise OmdbConfigError(
            f"{URL_ENV} must use https:// for {parsed.hostname} (the key travels in the URL; "
            "plain http is for a server on this machine)"
        )
    return url


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _CountedRetry(Retry):
    """urllib3's retry policy, telling the client of every further attempt and every wait.

    ``on_attempt`` may raise (the budget is spent) before the attempt is sent.
    """

    on_attempt: Callable[[], None] = staticmethod(lambda: None)
    on_wait: Callable[[float], None] = staticmethod(lambda _: None)

    def new(self, **kw: Any) -> _CountedRetry:
        retry = super().new(**kw)
        retry.on_attempt, retry.on_wait = self.on_attempt, self.on_wait
        return retry

    def increment(self, *args: Any, **kwargs: Any) -> _CountedRetry:
        retry = super().increment(*args, **kwargs)  # raises when no attempt is left
        self.on_attempt()
        return retry

    def sleep(self, response: Any = None) -> None:
        seconds = None
        if self.respect_retry_after_header and response is not None:
            seconds = self.get_retry_after(response)
        if seconds is None:
            seconds = self.get_backoff_time()
        if seconds > 0:
            self.on_wait(seconds)
            time.sleep(seconds)


def redact(text: str, key: str | None = None) -> str:
    """``text`` with every ``apikey=…`` value, and the key itself, replaced by ``***``."""
    text = _KEY_IN_URL.sub(r"\1***", text)
    if key:
        text = text.replace(key, "***")
    return text


class RedactKeyFilter(logging.Filter):
    """Rewrites log records so no URL in them carries the key."""

    def __init__(self, key: str | None = None) -> None:
        super().__init__()
        self.key = key

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(str(record.msg), self.key)
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact(a, self.key) if isinstance(a, str) else a for a in args)
        return True


def _http_loggers() -> list[logging.Logger]:
    """Every logger of urllib3 and requests: a filter applies only where a record is logged."""
    names = {"urllib3", "requests"} | {
        name
        for name in logging.root.manager.loggerDict
        if name.startswith(("urllib3.", "requests."))
    }
    return [logging.getLogger(name) for name in sorted(names)]


@dataclass(frozen=True)
class SearchPage:
    """One answered search page: the HTTP status and the body exactly as parsed."""

    http_status: int
    body: dict[str, Any]

    @property
    def found(self) -> bool:
        return self.body.get("Response") == "True"

    @property
    def total_results(self) -> int:
        try:
            return int(self.body.get("totalResults", 0)) if self.found else 0
        except (TypeError, ValueError):
            return 0


class OmdbClient:
    """Searches OMDb page by page over one pooled ``requests.Session``.

    Args:
        api_key: the OMDb key (sent as ``apikey``; never logged).
        base_url: the API root, ``https://www.omdbapi.com/`` by default.
        timeout: (connect, read) seconds per attempt.
        retries: attempts after the first, for transport errors, 429 and 5xx only.
        backoff: urllib3's backoff factor (doubling sleeps, capped at 30 s).
        max_requests: requests this client may send, retries included (no limit by default).
        max_retry_after: the longest a server's ``Retry-After`` is honoured, in seconds.
        on_wait: told the seconds of every wait before a retry (``Retry-After`` up to
            ``max_retry_after``, or the backoff).
    """

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_URL,
        *,
        timeout: tuple[float, float] = (5.0, 20.0),
        retries: int = 4,
        backoff: float = 0.5,
        max_requests: int | None = None,
        max_retry_after: float = MAX_RETRY_AFTER,
        on_wait: Callable[[float], None] | None = None,
    ) -> None:
        if not api_key:
            raise OmdbStop("no OMDb API key given")
        self.api_key = api_key
        self.base_url = check_base_url(base_url)
        self.timeout = timeout
        self.max_requests = max_requests
        self.requests_sent = 0
        retry = _CountedRetry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"GET"}),
            backoff_factor=backoff,
            backoff_max=30,
            respect_retry_after_header=True,
            retry_after_max=max_retry_after,
            raise_on_status=False,
        )
        retry.on_attempt = self._count_request
        if on_wait is not None:
            retry.on_wait = on_wait
        self.session = requests.Session()
        self.session.mount("https://", HTTPAdapter(max_retries=retry))
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.headers["User-Agent"] = "omdb-lakehouse"
        self._log_filter = RedactKeyFilter(api_key)
        for logger in _http_loggers():
            logger.addFilter(self._log_filter)

    def _count_request(self) -> None:
        """Count one request about to be sent, or refuse it when the budget is spent."""
        if self.max_requests is not None and self.requests_sent >= self.max_requests:
            raise RequestBudgetSpent(f"request budget of {self.max_requests} spent")
        self.requests_sent += 1

    def close(self) -> None:
        self.session.close()
        for logger in _http_loggers():
            logger.removeFilter(self._log_filter)

    def __enter__(self) -> OmdbClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def search(
        self, term: str, kind: str | None = None, year: str | None = None, page: int = 1
    ) -> SearchPage:
        """One page of ``s=term``; ``Movie not found!`` is an empty page, not an error.

        Raises:
            RequestBudgetSpent: the budget allows no further request (retries included).
            OmdbConfigError: the base URL cannot be requested.
            OmdbStop: invalid key, no key, or the request limit reached (HTTP 401).
            OmdbTermError: OMDb cannot answer this search (``Too many results.``).
            OmdbPageError: this page failed after retries, or its body is not JSON.
        """
        params = {"apikey": self.api_key, "s": term, "page": page, "r": "json"}
        if kind:
            params["type"] = kind
        if year:
            params["y"] = year
        self._count_request()
        where = f"page {page} of {term!r}"
        try:
            with self.session.get(
                self.base_url, params=params, timeout=self.timeout, stream=True
            ) as response:
                text = self._read_body(response, where)
        except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema) as exc:
            raise OmdbConfigError(f"{URL_ENV} cannot be requested: {type(exc).__name__}") from None
        except (requests.RequestException, OSError) as exc:
            # `from None`: the original exception's text and traceback carry the URL.
            raise OmdbPageError(
                f"{where}: {type(exc).__name__}: {redact(str(exc), self.api_key)}"
            ) from None
        try:
            body = json.loads(text)
        except (ValueError, RecursionError):
            body = None
        error = body.get("Error") if isinstance(body, dict) else None
        if error is not None and not isinstance(error, str):
            raise OmdbPageError(f"{where}: the response's Error is not text")
        if response.status_code == 401 or error in AUTH_ERRORS:
            raise OmdbStop(f"OMDb refused the request: {error or 'HTTP 401'}")
        if response.status_code != 200:
            raise OmdbPageError(f"{where}: HTTP {response.status_code}")
        if not isinstance(body, dict):
            raise OmdbPageError(f"{where}: the response is not a JSON object")
        if error == TOO_MANY_RESULTS:
            raise OmdbTermError(f"{term!r}: too many results (use a longer search term)")
        if error and error != NOT_FOUND:
            raise OmdbPageError(f"{where}: OMDb error: {redact(error, self.api_key)}")
        return SearchPage(response.status_code, body)

    def _read_body(self, response: requests.Response, where: str) -> bytes:
        """The decoded body, read within ``REQUEST_SECONDS`` and up to ``MAX_BODY_BYTES``.

        Raises:
            OmdbPageError: the body is larger, or arrives slower, than that.
        """
        deadline = time.monotonic() + REQUEST_SECONDS
        chunks, size = [], 0
        while True:
            if time.monotonic() > deadline:
                raise OmdbPageError(f"{where}: the answer took over {REQUEST_SECONDS:g} s")
            # read1 returns what one read of the socket gave: a server dripping a byte at
            # a time meets the deadline instead of holding a full-size read open.
            chunk = response.raw.read1(_CHUNK, decode_content=True)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise OmdbPageError(
                    f"{where}: the answer is over {MAX_BODY_BYTES // 1024} KiB (not an OMDb page)"
                )
            chunks.append(chunk)
