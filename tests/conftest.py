"""One local SparkSession with Delta for the whole test run."""

from __future__ import annotations

import pytest
from pyspark.sql import SparkSession

from checkpoints_config import PipelineConfig, local
from streaming.session import get_spark
from tests.pages import Landing


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> SparkSession:
    session = get_spark("omdb-lakehouse-tests", log_dir=tmp_path_factory.mktemp("spark"))
    yield session
    session.stop()


@pytest.fixture
def config(tmp_path) -> PipelineConfig:
    return local(tmp_path / "lakehouse")


@pytest.fixture
def landing(config: PipelineConfig) -> Landing:
    return Landing(config.landing_path)
