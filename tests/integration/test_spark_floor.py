"""The deployed code on the oldest Spark it declares: the pure transforms and a whole chain.

Databricks runs the wheel on its own Spark (serverless environment 4, Runtime 17.3 LTS:
Spark 4.0), older than the laptop's. ``make spark-floor`` installs that pyspark and its
Delta in an environment of their own; this runs the transform tests and a whole
available-now chain checked against the invariants there, in one process.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import tomllib

from streaming.runtime.session import SPARK_FLOOR

pytestmark = [pytest.mark.spark, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
FLOOR_PYTHON = ROOT / ".venv-spark-floor" / "bin" / "python"
ON_THE_FLOOR = [
    "tests/unit/test_bronze_transforms.py",
    "tests/unit/test_silver_transforms.py",
    "tests/unit/test_gold_transforms.py",
    "tests/integration/test_pipeline.py::test_available_now_meets_the_invariants",
    "tests/integration/test_pipeline.py::test_second_run_with_nothing_new_changes_no_table",
]


def test_the_floor_environment_is_the_declared_spark():
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = extra["optional-dependencies"]["spark-floor"]
    (pyspark,) = [p for p in pins if p.startswith("pyspark")]
    assert pyspark.split("==")[1].startswith(f"{SPARK_FLOOR}.")


def test_transforms_and_a_whole_chain_pass_on_the_spark_floor(tmp_path):
    assert FLOOR_PYTHON.exists(), "make spark-floor creates the floor's environment"
    version = subprocess.run(
        [FLOOR_PYTHON, "-c", "import pyspark; print(pyspark.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert version.startswith(f"{SPARK_FLOOR}.")

    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    # Local Spark only: the chain's Spark Connect twin runs on the laptop's Spark.
    run = subprocess.run(
        [
            FLOOR_PYTHON,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-k",
            "not connect",
            "--basetemp",
            str(tmp_path / "floor"),
            *ON_THE_FLOOR,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    tail = "\n".join(run.stdout.splitlines()[-30:])
    assert run.returncode == 0, tail
    passed = re.search(r"(\d+) passed", tail)
    assert passed and int(passed[1]) >= 40 and "failed" not in tail, tail


# Built in the floor's environment with databricks-bundles of the CLI release the bundle
# declares (bundle.databricks_cli_version): its classes refuse any field that release
# does not know, at any depth. It has classes for these kinds; tests/unit/test_bundle.py
# checks the others against that release's schema.
FLOOR_BUNDLE_CHECK = """
import databricks.bundles, importlib.metadata as m
from databricks.bundles.jobs import Job
from databricks.bundles.schemas import Schema
from databricks.bundles.volumes import Volume
from tests.bundle_cli import Deployer, deployed, loaded
classes = {"jobs": Job, "schemas": Schema, "volumes": Volume}
built = 0
for resources in (
    loaded()["resources"],
    deployed("dev", Deployer("ada.lovelace@example.com")),
    deployed("prod", Deployer("6e0f3c1a-1b2c-4d5e-8f90-123456789abc", "omdb deployer")),
):
    for kind, cls in classes.items():
        for body in resources[kind].values():
            cls.from_dict(body)
            built += 1
print(m.version("databricks-bundles"), built)
"""


def test_the_bundle_builds_with_the_classes_of_the_cli_it_declares():
    assert FLOOR_PYTHON.exists(), "make spark-floor creates the floor's environment"
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = declared["optional-dependencies"]["spark-floor"]
    (bundles,) = [p for p in pins if p.startswith("databricks-bundles==")]
    run = subprocess.run(
        [FLOOR_PYTHON, "-c", FLOOR_BUNDLE_CHECK],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    version, built = run.stdout.split()
    assert version == bundles.split("==")[1] and int(built) == 3 * 7
