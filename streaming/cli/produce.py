"""``produce``: land OMDb search pages, one immutable file per page."""

from __future__ import annotations

import argparse

from checkpoints_config import ConfigError
from producers.settings import DEFAULT_MAX_REQUESTS, KEY_ENV, URL_ENV
from streaming.cli.options import config_of, location, positive_int, say
from streaming.errors import LakehouseError, StoppedEarly

NAME = "produce"
HELP = "land OMDb search pages (offline server when no key is set)"
DESCRIPTION = (
    "Page through OMDb searches and land one immutable file per page. "
    f"Uses real OMDb when {KEY_ENV} is set (base URL from {URL_ENV}); otherwise starts the "
    "bundled offline OMDb-compatible server on loopback. A ledger under the root remembers "
    "fetched pages: re-runs fetch page 1 of each search and the rest only when totalResults "
    "changed (or with --refresh); an interrupted run resumes where it stopped."
)
OPTIONS = location


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--term", action="append", default=[], help="a search term (repeat for more)"
    )
    parser.add_argument("--terms", help="comma-separated search terms")
    parser.add_argument("--terms-file", help="a file with one search term per line")
    parser.add_argument("--type", choices=("movie", "series", "episode"), help="type filter")
    parser.add_argument("--year", help="release year filter (four digits)")
    parser.add_argument(
        "--max-pages", type=positive_int, help="at most this many pages per search (OMDb: 100)"
    )
    parser.add_argument(
        "--max-requests",
        type=positive_int,
        default=DEFAULT_MAX_REQUESTS,
        help=f"request budget of this run (default {DEFAULT_MAX_REQUESTS}; "
        "the free key allows 1,000 a day)",
    )
    parser.add_argument(
        "--refresh",
        action="store_true",
        help="fetch every page again (unchanged ones are not landed)",
    )
    parser.add_argument("--secret-scope", help="Databricks secret scope holding the OMDb key")
    parser.add_argument(
        "--secret-key", default="omdb_api_key", help="the key's name in --secret-scope"
    )


def execute(args: argparse.Namespace) -> int:
    from producers.job import read_terms, run_producer
    from producers.ledger import LedgerError
    from producers.omdb_client import OmdbConfigError, OmdbError
    from producers.produce import Search

    config = config_of(args)
    try:
        searches = [
            Search(t, args.type, args.year)
            for t in read_terms([*args.term, *(args.terms or "").split(",")], args.terms_file)
        ]
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    try:
        summary = run_producer(
            config,
            searches,
            max_pages=args.max_pages,
            max_requests=args.max_requests,
            refresh=args.refresh,
            secret_scope=args.secret_scope,
            secret_key=args.secret_key,
            say=say,
        )
    except OmdbConfigError as exc:
        raise ConfigError(str(exc)) from None
    except (OmdbError, LedgerError) as exc:
        raise LakehouseError(str(exc)) from None
    for error in summary.errors:
        say(f"  failed: {error}")
    say(summary.line())
    if summary.stopped:
        raise StoppedEarly(
            f"stopped early: {summary.stopped}; run the same command again to resume"
        )
    if summary.all_failed:
        # A scheduled job must not report success for a run that landed nothing.
        raise LakehouseError(f"no page was answered; the first failure: {summary.errors[0]}")
    return 0
