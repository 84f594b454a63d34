"""Spark for the tests: one local session with Delta, and one Spark Connect server.

``spark`` is local Spark in this process. ``any_spark`` runs a test on both runtimes,
local and Spark Connect (the runtime of Databricks serverless), with one body.
Everywhere, setting a session conf that serverless refuses fails the test
(``tests/conf_guard.py``), in this process and in the server's foreachBatch workers.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession

from checkpoints_config import PipelineConfig, local
from streaming.runtime.connect_server import ConnectServer
from streaming.runtime.session import EXTRA_CONF_ENV, get_spark
from tests import conf_guard
from tests.connect import CONNECT_MODE_ENV, connect_session, start_guarded_server
from tests.pages import Landing

conf_guard.install()

# The tests' batches are a few rows: Spark's code generation costs more than it saves
# there (a quarter of a pipeline run, measured). Every JVM the tests start (this
# session's, the Connect server's, the commands' own, always-on ones included) compiles
# with the JIT's first tier only: a test's wait is one driver thread's work, and the
# optimising compiler's CPU is taken from the other pytest worker (docs/testing.md). The
# first tier alone reserves a fifth of the tiered code cache: the test JVMs keep the
# tiered size, since this session's and the Connect server's compile through the whole
# suite. Subprocesses inherit it all; no guarantee depends on it.
os.environ.setdefault(
    EXTRA_CONF_ENV,
    "spark.sql.codegen.wholeStage=false;spark.sql.codegen.factoryMode=NO_CODEGEN;"
    "spark.driver.extraJavaOptions=-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=240m",
)

RUNTIMES = ("local", "connect")


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> SparkSession:
    session = get_spark("omdb-lakehouse-tests", log_dir=tmp_path_factory.mktemp("spark"))
    yield session
    session.stop()


@pytest.fixture(scope="session")
def connect_server(tmp_path_factory: pytest.TempPathFactory) -> ConnectServer:
    server = start_guarded_server(tmp_path_factory.mktemp("connect"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _connect_session(connect_server: ConnectServer) -> SparkSession:
    session = connect_session(connect_server.url)
    yield session
    session.stop()


@pytest.fixture
def connect_spark(_connect_session: SparkSession, monkeypatch) -> SparkSession:
    """A Spark Connect session, with this process in Connect mode for the test."""
    monkeypatch.setenv(CONNECT_MODE_ENV, "1")
    return _connect_session


@pytest.fixture(scope="module", params=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> str:
    """``local`` or ``connect``, per module: what a module's tests share is built once on each."""
    return request.param


@pytest.fixture
def any_spark(runtime: str, request: pytest.FixtureRequest) -> SparkSession:
    """The test runs twice: on local Spark, then over Spark Connect."""
    return request.getfixturevalue("spark" if runtime == "local" else "connect_spark")


@pytest.fixture(scope="module")
def on_runtime(runtime: str, request: pytest.FixtureRequest):
    """For module-scoped fixtures: ``with on_runtime() as spark`` gives ``runtime``'s session."""
    spark = request.getfixturevalue("spark" if runtime == "local" else "_connect_session")

    @contextlib.contextmanager
    def session() -> Iterator[SparkSession]:
        with pytest.MonkeyPatch.context() as patch:
            if runtime == "connect":
                patch.setenv(CONNECT_MODE_ENV, "1")
            yield spark

    return session


@pytest.fixture
def config(tmp_path) -> PipelineConfig:
    return local(tmp_path / "lakehouse")


@pytest.fixture
def landing(config: PipelineConfig) -> Landing:
    return Landing(config.landing_path)
