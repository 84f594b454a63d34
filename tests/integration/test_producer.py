"""The producer against real HTTP on loopback: the offline server and scripted test servers."""

from __future__ import annotations

import gzip
import json
import logging
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from producers.landing import landed_files
from producers.landing_writers import LocalLanding, VolumeLanding
from producers.ledger import Ledger
from producers.offline.catalog import search as catalog_search
from producers.offline.server import OfflineOmdbServer
from producers.omdb_client import (
    OmdbClient,
    OmdbConfigError,
    OmdbError,
    OmdbPageError,
    OmdbStop,
    OmdbTermError,
)
from producers.produce import Producer, Search
from producers.secrets import api_key_from_secret_scope
from streaming.cli import main

KEY = "s3cr3t-k3y-0123"


def page_body(page: int, total: int) -> dict:
    items = [
        {
            "Title": f"Title {page}-{i}",
            "Year": "2001",
            "imdbID": f"tt{page:04d}{i:03d}",
            "Type": "movie",
            "Poster": "N/A",
        }
        for i in range(10)
    ]
    return {"Search": items, "totalResults": str(total), "Response": "True"}


def client_logs(caplog) -> str:
    """What our side logged (the test servers' own access logs are OMDb's side)."""
    return "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug"))


def all_text_under(root: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())


@pytest.fixture
def fast_client():
    def make(url: str, key: str = KEY, **kwargs) -> OmdbClient:
        return OmdbClient(key, url, backoff=0.01, timeout=(1.0, 1.0), **kwargs)

    return make


@pytest.fixture
def producer_for(tmp_path, fast_client):
    def make(url: str, key: str = KEY, **kwargs) -> Producer:
        return Producer(
            fast_client(url, key),
            LocalLanding(tmp_path / "landing"),
            Ledger(tmp_path / "state" / "ledger.json"),
            **kwargs,
        )

    return make


@pytest.fixture
def offline():
    with OfflineOmdbServer(api_key=KEY) as server:
        yield server


def test_pages_through_every_page_of_a_search(offline, producer_for, tmp_path):
    total = int(catalog_search("star")["totalResults"])
    summary = producer_for(offline.url).run([Search("star")])

    pages = -(-total // 10)
    assert summary.landed == pages and summary.requests == pages
    files = landed_files(tmp_path / "landing")
    assert len(files) == pages
    envelopes = [json.loads(p.read_text()) for p in files]
    assert sorted(e["request"]["page"] for e in envelopes) == list(range(1, pages + 1))
    assert sum(len(e["response"]["Search"]) for e in envelopes) == total


def test_max_pages_limits_each_search(offline, producer_for):
    summary = producer_for(offline.url, max_pages=2).run([Search("star")])
    assert summary.landed == 2


def test_paging_stops_at_omdb_s_100_page_cap(httpserver, producer_for):
    def handler(request: Request) -> Response:
        body = page_body(int(request.args["page"]), total=5000)
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/").respond_with_handler(handler)
    summary = producer_for(httpserver.url_for("/")).run([Search("many")])

    assert summary.landed == 100 and summary.requests == 100
    assert max(int(r.args["page"]) for r, _ in httpserver.log) == 100


def test_not_found_is_an_empty_page_not_an_error(offline, producer_for, tmp_path):
    summary = producer_for(offline.url).run([Search("zzyzx")])
    assert (summary.landed, summary.failed, summary.requests) == (1, 0, 1)
    (file,) = landed_files(tmp_path / "landing")
    assert json.loads(file.read_text())["response"] == {
        "Response": "False",
        "Error": "Movie not found!",
    }


def test_too_many_results_fails_that_term_and_the_others_go_on(offline, producer_for):
    summary = producer_for(offline.url).run([Search("zz"), Search("matrix")])
    assert summary.failed == 1 and "too many results" in summary.errors[0]
    assert summary.landed == 2  # matrix: 11 titles, two pages


@pytest.mark.parametrize(
    ("server_key", "client_key", "message"),
    [(KEY, "wrong-key", "Invalid API key!"), (KEY, KEY, "Request limit reached!")],
)
def test_401_stops_the_run_and_a_rerun_lands_only_what_is_missing(
    tmp_path, fast_client, server_key, client_key, message
):
    landing = LocalLanding(tmp_path / "landing")
    ledger_path = tmp_path / "state" / "ledger.json"
    searches = [Search("star"), Search("batman")]
    limit = 2 if client_key == KEY else None
    with OfflineOmdbServer(api_key=server_key, daily_limit=limit) as server:
        first = Producer(fast_client(server.url, client_key), landing, Ledger(ledger_path)).run(
            searches
        )
    assert first.stopped and message in first.stopped
    landed_before = landed_files(tmp_path / "landing")

    with OfflineOmdbServer(api_key=KEY) as server:
        second = Producer(fast_client(server.url), landing, Ledger(ledger_path)).run(searches)

    assert second.stopped is None
    expected_pages = sum(-(-int(catalog_search(s.term)["totalResults"]) // 10) for s in searches)
    files = landed_files(tmp_path / "landing")
    assert len(files) == expected_pages
    assert set(landed_before) <= set(files)
    pages = [
        (e["request"]["s"], e["request"]["page"])
        for e in map(json.loads, (p.read_text() for p in files))
    ]
    assert len(pages) == len(set(pages)), "a page was landed twice"


def test_cli_exits_non_zero_with_one_line_when_the_key_is_refused(tmp_path, monkeypatch, capsys):
    with OfflineOmdbServer(api_key=KEY) as server:
        monkeypatch.setenv("OMDB_API_KEY", "not-the-key")
        monkeypatch.setenv("OMDB_API_URL", server.url)
        code = main(["produce", "--term", "star", "--root", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 3
    assert "Invalid API key!" in err and "resume" in err and "Traceback" not in err
    assert "not-the-key" not in err


def test_500_then_200_is_retried(httpserver, producer_for):
    httpserver.expect_ordered_request("/").respond_with_data("oops", status=500)
    httpserver.expect_ordered_request("/").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/").respond_with_json(page_body(1, total=3))
    producer = producer_for(httpserver.url_for("/"))

    summary = producer.run([Search("retry")])

    assert summary.landed == 1 and summary.failed == 0
    assert len(httpserver.log) == 3


def test_a_404_is_not_retried_and_fails_the_page(httpserver, fast_client):
    httpserver.expect_request("/").respond_with_data("no", status=404)
    with pytest.raises(OmdbPageError, match="HTTP 404"):
        fast_client(httpserver.url_for("/")).search("x")
    assert len(httpserver.log) == 1


def test_a_timeout_fails_the_page_after_bounded_retries(fast_client, caplog):
    def slow(_: Request) -> Response:
        time.sleep(1.5)
        return Response("{}", content_type="application/json")

    # Its own threaded server: the sleeping handler must not hold up other tests' server.
    server = HTTPServer(threaded=True)
    server.expect_request("/").respond_with_handler(slow)
    server.start()
    try:
        client = fast_client(server.url_for("/"), retries=1)
        caplog.set_level(logging.DEBUG)
        with pytest.raises(OmdbPageError) as error:
            client.search("slow")
    finally:
        server.stop()
    assert "timed out" in str(error.value).lower()
    assert KEY not in str(error.value) and error.value.__cause__ is None
    assert KEY not in client_logs(caplog)


def test_a_body_that_is_not_json_fails_that_page_only(httpserver, producer_for):
    httpserver.expect_ordered_request("/").respond_with_json(page_body(1, total=20))
    httpserver.expect_ordered_request("/").respond_with_data("<html>Bad gateway</html>")
    summary = producer_for(httpserver.url_for("/")).run([Search("html")])
    assert summary.landed == 1 and summary.failed == 1
    assert "not a JSON object" in summary.errors[0]


@pytest.mark.parametrize(
    "term", ["../../../etc/passwd", "a/b", "Star   Wars ", "千と千尋", "../..", "Amélie"]
)
def test_odd_terms_land_under_the_root(offline, producer_for, tmp_path, term):
    producer_for(offline.url).run([Search(term)])
    root = (tmp_path / "landing").resolve()
    files = [p for p in landed_files(tmp_path) if p != tmp_path / "state" / "ledger.json"]
    assert files and all(p.resolve().is_relative_to(root) for p in files)
    assert json.loads(files[0].read_text())["request"]["s"] == term


def test_a_second_run_spends_one_request_per_term_when_nothing_changed(
    offline, producer_for, tmp_path
):
    searches = [Search("star"), Search("batman"), Search("zzyzx")]
    first = producer_for(offline.url).run(searches)
    second = producer_for(offline.url).run(searches)

    assert second.requests == len(searches)
    assert second.landed == 0 and second.unchanged == len(searches)
    assert second.skipped == first.landed - len(searches)
    assert len(landed_files(tmp_path / "landing")) == first.landed


def test_refresh_fetches_again_but_lands_only_changed_pages(offline, producer_for):
    producer_for(offline.url).run([Search("batman")])
    again = producer_for(offline.url, refresh=True).run([Search("batman")])
    assert again.requests == 3 and again.landed == 0 and again.unchanged == 3


def test_a_new_term_lands_only_that_term(offline, producer_for):
    producer_for(offline.url).run([Search("batman")])
    summary = producer_for(offline.url).run([Search("batman"), Search("matrix")])
    assert summary.landed == 2 and summary.requests == 1 + 2


def test_budget_stops_the_run_resumably(offline, producer_for):
    first = producer_for(offline.url, max_requests=2).run([Search("star")])
    assert first.requests == 2 and "budget" in first.stopped
    rest = producer_for(offline.url).run([Search("star")])
    pages = -(-int(catalog_search("star")["totalResults"]) // 10)
    assert rest.landed == pages - 2


def test_the_key_appears_nowhere(offline, tmp_path, producer_for, caplog, httpserver):
    caplog.set_level(logging.DEBUG)
    producer_for(offline.url).run([Search("star"), Search("zz"), Search("zzyzx")])
    httpserver.expect_request("/").respond_with_data("nope", status=500)
    summary = producer_for(httpserver.url_for("/")).run([Search("fails")])
    with pytest.raises(OmdbStop) as refused:
        OmdbClient(KEY + "x", offline.url).search("star")

    assert KEY not in all_text_under(tmp_path)  # landed files and the ledger
    assert KEY not in client_logs(caplog)
    assert all(KEY not in e for e in summary.errors)
    assert KEY not in str(refused.value)
    assert "apikey=***" in client_logs(caplog)


def test_volume_landing_uploads_through_the_files_api(httpserver):
    from databricks.sdk import WorkspaceClient

    httpserver.expect_request(
        "/api/2.0/fs/files/Volumes/main/omdb/landing/omdb/search/x/all/p.json",
        method="PUT",
        query_string="overwrite=false",
    ).respond_with_data("", status=204)
    client = WorkspaceClient(host=httpserver.url_for("/").rstrip("/"), token="dapi-test")
    landing = VolumeLanding("/Volumes/main/omdb/landing/omdb/search", client=client)

    from pathlib import PurePosixPath

    target = landing.write({"response": {"Response": "True"}}, PurePosixPath("x/all/p.json"))

    assert target == "/Volumes/main/omdb/landing/omdb/search/x/all/p.json"
    ((request, _),) = [(r, s) for r, s in httpserver.log if r.method == "PUT"]
    assert request.headers["Authorization"] == "Bearer dapi-test"
    assert request.data == b'{"response":{"Response":"True"}}\n'
    with pytest.raises(ValueError, match="escapes"):
        landing.write({}, PurePosixPath("../x.json"))


@pytest.mark.spark
def test_the_key_is_read_from_a_secret_scope_with_sql_secret(spark, caplog):
    # Databricks' SQL secret() stands in here as a session function of the same name.
    scopes = {("omdb", "omdb_api_key"): KEY + "\n"}
    session = spark.newSession()
    session.udf.register("secret", lambda scope, key: scopes.get((scope, key)))
    with caplog.at_level(logging.DEBUG):
        assert api_key_from_secret_scope("omdb", "omdb_api_key", spark=session) == KEY
    assert KEY not in caplog.text
    # A lookup Databricks refuses is one line with the names, never a value.
    session.udf.register("secret", lambda scope, key: 1 // 0)
    with pytest.raises(OmdbError, match="cannot read the OMDb key 'omdb_api_key' from"):
        api_key_from_secret_scope("omdb", "omdb_api_key", spark=session)
    session.udf.register("secret", lambda scope, key: "")
    with pytest.raises(OmdbError, match="is empty: put the OMDb key in it"):
        api_key_from_secret_scope("omdb", "omdb_api_key", spark=session)
    # A name that is no secret name never reaches a statement.
    with pytest.raises(OmdbConfigError, match="not a Databricks secret name"):
        api_key_from_secret_scope("omdb') --", "omdb_api_key", spark=session)


def test_a_secret_scope_outside_databricks_asks_for_the_key_in_one_line(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.delenv("OMDB_API_KEY", raising=False)
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    argv = ["produce", "--term", "matrix", "--root", str(tmp_path), "--secret-scope", "omdb"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "read inside Databricks only" in err and "OMDB_API_KEY" in err


def test_produce_without_a_key_uses_the_offline_server(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("OMDB_API_KEY", raising=False)
    assert main(["produce", "--term", "matrix", "--root", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "offline OMDb server" in err and "2 pages landed" in err
    assert len(landed_files(tmp_path / "landing")) == 2


def test_produce_reads_terms_from_a_file(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("OMDB_API_KEY", raising=False)
    terms = tmp_path / "terms.txt"
    terms.write_text("# franchises\nmatrix\n\nzzyzx\nmatrix\n")
    assert main(["produce", "--terms-file", str(terms), "--root", str(tmp_path)]) == 0
    assert "3 pages landed" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["produce"], "no search term"),
        (["produce", "--terms-file", "/nonexistent"], "does not exist"),
        (["produce", "--term", "x", "--year", "99"], "four digits"),
    ],
)
def test_produce_bad_input_is_one_line(tmp_path, capsys, argv, message):
    assert main([*argv, "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_produce_rejects_a_bad_page_limit(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["produce", "--term", "x", "--max-pages", "0"])
    assert exit_info.value.code == 2
    assert "must be a whole number" in capsys.readouterr().err


def test_client_refuses_an_empty_key():
    with pytest.raises(OmdbStop):
        OmdbClient("", "http://127.0.0.1:9/")


def test_too_many_results_raises_a_term_error(offline, fast_client):
    with pytest.raises(OmdbTermError):
        fast_client(offline.url).search("ab")


def test_progress_reports_pages_done_of_total_per_search(offline, tmp_path, fast_client):
    calls = []
    producer = Producer(
        fast_client(offline.url),
        LocalLanding(tmp_path / "landing"),
        Ledger(tmp_path / "ledger.json"),
        progress=lambda search, done, total: calls.append((search.term, done, total)),
    )
    producer.run([Search("matrix"), Search("zzyzx")])
    assert calls == [("matrix", 1, 2), ("matrix", 2, 2), ("zzyzx", 1, 1)]


class FilesApi:
    """A stand-in for the Databricks Files API: PUT and GET of files under /Volumes."""

    PREFIX = "/api/2.0/fs/files"

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def __call__(self, request: Request) -> Response:
        if request.headers.get("Authorization") != "Bearer dapi-test":
            return Response(status=401)
        path = request.path.removeprefix(self.PREFIX)
        if request.method == "PUT":
            if path in self.files and request.args.get("overwrite") != "true":
                return Response(status=409)
            self.files[path] = request.get_data()
            return Response(status=204)
        if request.method in ("GET", "HEAD") and path in self.files:
            body = self.files[path] if request.method == "GET" else b""
            headers = {"Content-Length": str(len(self.files[path]))}
            return Response(body, content_type="application/octet-stream", headers=headers)
        return Response(
            json.dumps({"error_code": "NOT_FOUND", "message": "not found"}),
            status=404,
            content_type="application/json",
        )


def test_a_laptop_produce_to_a_volume_lands_pages_and_its_ledger(
    httpserver: HTTPServer, monkeypatch, capsys
):
    import re

    files = FilesApi()
    httpserver.expect_request(re.compile(f"^{FilesApi.PREFIX}/.*")).respond_with_handler(files)
    monkeypatch.delenv("OMDB_API_KEY", raising=False)
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    monkeypatch.setenv("DATABRICKS_HOST", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-test")
    argv = ["produce", "--target", "dev", "--catalog", "main", "--schema", "omdb"]
    argv += ["--term", "matrix", "--term", "star wars"]

    assert main(argv) == 0
    first = capsys.readouterr().err
    pages = [p for p in files.files if p.startswith("/Volumes/main/omdb/landing/omdb/search/")]
    ledger = json.loads(files.files["/Volumes/main/omdb/checkpoints/producer/ledger.json"])
    assert pages and f"{len(pages)} pages landed" in first
    assert len(ledger["searches"]) == 2

    assert main(argv) == 0
    second = capsys.readouterr().err
    assert "0 pages landed" in second and "2 requests" in second  # page 1 of each term
    assert len([p for p in files.files if "/landing/" in p]) == len(pages)


def test_inside_databricks_the_ledger_goes_through_the_files_api_too(
    httpserver: HTTPServer, monkeypatch
):
    import re

    from checkpoints_config import load_target
    from producers.job import ledger_for
    from producers.ledger import VolumeFile

    files = FilesApi()
    httpserver.expect_request(re.compile(f"^{FilesApi.PREFIX}/.*")).respond_with_handler(files)
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "17.3")
    monkeypatch.setenv("DATABRICKS_HOST", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-test")
    config = load_target("dev", catalog="main", schema="omdb")

    ledger = ledger_for(config)
    ledger.record("matrix", None, None, 1, "digest-1", 12)
    ledger_for(config).record("matrix", None, None, 2, "digest-2", 12)

    assert isinstance(ledger.store, VolumeFile)  # not the /Volumes mount's flock and rename
    stored = json.loads(files.files["/Volumes/main/omdb/checkpoints/producer/ledger.json"])
    (search,) = stored["searches"].values()
    assert search == {"total_results": 12, "pages": {"1": "digest-1", "2": "digest-2"}}
    assert ledger_for(config).state("matrix", None, None).pages == {1: "digest-1", 2: "digest-2"}


def failing_produce(monkeypatch, url: str, root, *terms: str) -> int:
    monkeypatch.setenv("OMDB_API_KEY", KEY)
    monkeypatch.setenv("OMDB_API_URL", url)
    argv = ["produce", "--root", str(root), "--max-requests", "20"]
    return main([*argv, *(a for t in terms for a in ("--term", t))])


@pytest.mark.parametrize(
    ("respond", "first_error"),
    [
        (lambda s: s.respond_with_data("<html>gone</html>", status=404), "HTTP 404"),
        (lambda s: s.respond_with_data("<html>not json</html>"), "not a JSON object"),
        (lambda s: s.respond_with_json({"Response": "False", "Error": "Oops"}), "OMDb error"),
    ],
)
def test_a_run_where_every_page_fails_exits_1_naming_the_first_failure(
    httpserver, tmp_path, monkeypatch, capsys, respond, first_error
):
    respond(httpserver.expect_request("/"))

    assert failing_produce(monkeypatch, httpserver.url_for("/"), tmp_path, "alpha", "beta") == 1

    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("error: no page was answered") and first_error in last
    assert "'alpha'" in last and KEY not in last
    assert landed_files(tmp_path / "landing") == []


def test_connection_refused_everywhere_exits_1_and_shows_its_waits(tmp_path, monkeypatch, capsys):
    assert failing_produce(monkeypatch, "http://127.0.0.1:9/", tmp_path, "alpha") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert "ConnectionError" in err[-1]
    assert "  waiting 4 s before retrying (server busy or unreachable)" in err  # the backoff


@pytest.mark.parametrize("url", ["not a url", "ftp://example.org/", "http://"])
def test_an_unusable_api_url_is_configuration_exit_2_before_any_request(
    tmp_path, monkeypatch, capsys, url
):
    assert failing_produce(monkeypatch, url, tmp_path, "alpha") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: OMDB_API_URL must be an http(s) URL")
    assert len(err.splitlines()) == 1


def test_a_root_that_is_a_file_is_refused_before_any_request(
    httpserver, tmp_path, monkeypatch, capsys
):
    root = tmp_path / "root"
    root.write_text("not a folder")

    assert failing_produce(monkeypatch, httpserver.url_for("/"), root, "alpha") == 2

    assert capsys.readouterr().err.startswith("error: cannot create")
    assert httpserver.log == []


def test_retries_count_against_the_budget(httpserver, tmp_path, fast_client):
    httpserver.expect_request("/").respond_with_data("busy", status=503)
    producer = Producer(
        fast_client(httpserver.url_for("/")),
        LocalLanding(tmp_path / "landing"),
        Ledger(tmp_path / "ledger.json"),
        max_requests=3,
    )

    summary = producer.run([Search("alpha"), Search("beta")])

    assert len(httpserver.log) == 3 == summary.requests
    assert "budget of 3 spent" in summary.stopped


def test_retry_after_is_honoured_up_to_its_bound_and_each_wait_is_told(httpserver):
    httpserver.expect_ordered_request("/").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "3600"}
    )
    httpserver.expect_ordered_request("/").respond_with_json(page_body(1, 1))
    waits: list[float] = []
    client = OmdbClient(KEY, httpserver.url_for("/"), max_retry_after=0.3, on_wait=waits.append)

    started = time.monotonic()
    page = client.search("alpha")

    assert page.found and client.requests_sent == 2
    assert waits == [0.3] and 0.3 <= time.monotonic() - started < 5
    assert OmdbClient(KEY).session.get_adapter("https://").max_retries.retry_after_max == 60


def test_producers_at_once_keep_every_ledger_entry(tmp_path):
    import threading

    path = tmp_path / "state" / "ledger.json"

    def record(worker: int) -> None:
        ledger = Ledger(path)  # each its own view, as separate processes have
        for page in range(1, 26):
            ledger.record(f"term {worker}", None, None, page, f"d{page}", 250)

    workers = [threading.Thread(target=record, args=(w,)) for w in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()

    searches = Ledger(path).searches
    assert sorted(len(s.pages) for s in searches.values()) == [25, 25, 25, 25]


def test_a_damaged_ledger_is_one_line_naming_it(tmp_path, monkeypatch, capsys):
    ledger = tmp_path / "state" / "ledger.json"
    ledger.parent.mkdir(parents=True)
    ledger.write_text('{"version": 1, "searches": {"x": ')

    monkeypatch.delenv("OMDB_API_KEY", raising=False)
    assert main(["produce", "--term", "matrix", "--root", str(tmp_path)]) == 1

    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"error: the ledger {ledger} is damaged: move it aside and run again " + (
        "(its pages are fetched again; titles are still counted once)"
    )


def _hostile_answer(request: Request) -> Response:
    """A broken or hostile OMDb: the search term names what it answers."""
    term = request.args["s"]
    if term == "error-list":
        return Response(json.dumps({"Response": "False", "Error": ["a", "list"]}), 200)
    if term == "error-object":
        return Response(json.dumps({"Response": "False", "Error": {"x": 1}}), 200)
    if term == "deep":
        return Response("[" * 100_000 + "]" * 100_000, 200)
    if term == "huge":
        item = {"Title": "x" * 1000, "Year": "2001", "imdbID": "tt0000001", "Type": "movie"}
        return Response(json.dumps({"Search": [item] * 1000, "Response": "True"}), 200)
    if term == "bomb":  # 50 MB of JSON in 50 KB of gzip
        raw = b'{"Search": "' + b"a" * 50_000_000 + b'", "Response": "True"}'
        return Response(gzip.compress(raw), 200, headers={"Content-Encoding": "gzip"})
    if term == "drip":

        def drip():
            for _ in range(40):
                time.sleep(0.25)
                yield b" "

        return Response(drip(), 200, headers={"Content-Length": "40"})
    return Response(json.dumps(page_body(1, total=3)), 200, content_type="application/json")


def test_a_hostile_server_fails_each_bad_page_in_one_line_and_the_run_goes_on(
    httpserver, producer_for, tmp_path, monkeypatch
):
    monkeypatch.setattr("producers.omdb_client.REQUEST_SECONDS", 2.0)
    httpserver.expect_request("/").respond_with_handler(_hostile_answer)
    terms = ["error-list", "error-object", "deep", "huge", "bomb", "drip", "fine"]
    started = time.monotonic()

    summary = producer_for(httpserver.url_for("/")).run([Search(t) for t in terms])

    assert summary.failed == 6 and summary.landed == 1  # "fine", after every bad one
    assert [
        json.loads(p.read_text())["request"]["s"] for p in landed_files(tmp_path / "landing")
    ] == ["fine"]
    reasons = dict(zip(terms, summary.errors, strict=False))
    assert (
        "Error is not text" in reasons["error-list"]
        and "Error is not text" in reasons["error-object"]
    )
    assert "not a JSON object" in reasons["deep"]
    assert "over 512 KiB" in reasons["huge"] and "over 512 KiB" in reasons["bomb"]
    assert "took over 2 s" in reasons["drip"]
    assert all("\n" not in e and "Traceback" not in e for e in summary.errors)
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("url", ["http://omdb.example.com/", "http://10.1.2.3:8080/"])
def test_the_key_is_never_sent_over_plain_http_beyond_this_machine(
    tmp_path, monkeypatch, capsys, url
):
    assert failing_produce(monkeypatch, url, tmp_path, "alpha") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: OMDB_API_URL must use https://") and len(err.splitlines()) == 1
    with pytest.raises(OmdbConfigError):
        OmdbClient(KEY, url)
    OmdbClient(KEY, "http://[::1]:8080/").close()  # loopback may be plain http
