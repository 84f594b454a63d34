"""The ``produce`` command's wiring: key, server, landing target, ledger, progress."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from checkpoints_config import ConfigError, PipelineConfig
from checkpoints_config.targets import on_databricks
from producers.landing_writers import LocalLanding, VolumeLanding
from producers.ledger import Ledger, LocalFile, VolumeFile, private_folder
from producers.offline.server import OFFLINE_KEY, OfflineOmdbServer
from producers.omdb_client import OmdbClient
from producers.produce import Producer, ProduceSummary, Search
from producers.progress import term_progress
from producers.secrets import api_key_from_env, api_key_from_secret_scope
from producers.settings import DEFAULT_MAX_REQUESTS, DEFAULT_URL, URL_ENV


def read_terms(terms: Sequence[str], terms_file: str | None) -> list[str]:
    """Terms from the command line and a file (one a line, ``#`` comments), in order, once each."""
    collected = [t.strip() for t in terms]
    if terms_file:
        path = Path(terms_file)
        if not path.is_file():
            raise ValueError(f"terms file {terms_file} does not exist")
        lines = path.read_text(encoding="utf-8").splitlines()
        collected += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    unique = list(dict.fromkeys(t for t in collected if t))
    if not unique:
        raise ValueError("no search term given: use --term or --terms-file")
    return unique


def _through_files_api(config: PipelineConfig) -> bool:
    # Inside Databricks a volume is a mounted /Volumes path; from a laptop it is not.
    return config.on_unity_catalog and not on_databricks()


def check_local_folders(config: PipelineConfig) -> None:
    """Create the landing and state folders of a local target before any request is spent.

    Raises:
        ConfigError: one of them cannot be created (say, the root is a file).
    """
    if config.on_unity_catalog:
        return
    # The state folder holds the ledger, the lock, serve's record and secret: the user's alone.
    for folder, make in ((config.landing_path, _make_folder), (config.state_path, private_folder)):
        try:
            make(folder)
        except OSError as exc:
            raise ConfigError(f"cannot create {folder}: {exc.strerror or exc}") from None


def _make_folder(folder: str) -> None:
    Path(folder).mkdir(parents=True, exist_ok=True)


def landing_for(config: PipelineConfig):
    """The landing writer of a target: a folder, or a UC volume through the Files API."""
    if _through_files_api(config):
        return VolumeLanding(config.landing_path)
    return LocalLanding(config.landing_path)


def ledger_for(config: PipelineConfig) -> Ledger:
    """The target's ledger: in a volume through the Files API, else in a local folder.

    Inside Databricks too: the ``/Volumes`` mount promises neither ``flock`` nor a rename
    over an existing file, which the local ledger relies on.
    """
    path = f"{(config.state_path or '.').rstrip('/')}/ledger.json"
    return Ledger(VolumeFile(path) if config.on_unity_catalog else LocalFile(path, private=True))


@contextlib.contextmanager
def omdb_endpoint(
    secret_scope: str | None,
    secret_key: str,
    say: Callable[[str], None],
    offline: bool = False,
) -> Iterator[tuple[str, str]]:
    """(base URL, key): real OMDb when a key is configured, else the offline server."""
    key = None if offline else api_key_from_env()
    if key is None and secret_scope and not offline:
        key = api_key_from_secret_scope(secret_scope, secret_key)
    if key is not None:
        yield os.environ.get(URL_ENV, DEFAULT_URL), key
        return
    with OfflineOmdbServer() as server:
        why = "offline demo" if offline else "OMDB_API_KEY is not set"
        say(f"{why}: using the bundled offline OMDb server at {server.url}")
        yield server.url, OFFLINE_KEY


def run_producer(
    config: PipelineConfig,
    searches: Sequence[Search],
    *,
    max_pages: int | None = None,
    max_requests: int = DEFAULT_MAX_REQUESTS,
    refresh: bool = False,
    secret_scope: str | None = None,
    secret_key: str = "omdb_api_key",
    offline: bool = False,
    say: Callable[[str], None] = print,
) -> ProduceSummary:
    """Land every page of ``searches`` for ``config``'s target; see ``Producer``."""
    check_local_folders(config)
    ledger = ledger_for(config)

    def waiting(seconds: float) -> None:
        if seconds >= 1:
            say(f"  waiting {seconds:.0f} s before retrying (server busy or unreachable)")

    with (
        omdb_endpoint(secret_scope, secret_key, say, offline) as (url, key),
        OmdbClient(key, url, on_wait=waiting) as client,
        term_progress(max_requests, lambda: client.requests_sent) as progress,
    ):
        producer = Producer(
            client,
            landing_for(config),
            ledger,
            max_pages=max_pages,
            max_requests=max_requests,
            refresh=refresh,
            progress=progress,
        )
        return producer.run(searches)
