"""The wheel the bundle deploys carries what Databricks runs, and nothing a laptop alone needs."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_requires_no_local_spark_nor_plotting(tmp_path):
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run([*build, "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("omdb_lakehouse-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(name).decode())
    requirements = [Requirement(r) for r in metadata.get_all("Requires-Dist")]
    required = {r.name for r in requirements if r.marker is None}
    local = {r.name for r in requirements if r.marker and r.marker.evaluate({"extra": "local"})}

    # Databricks runtimes bring Spark and Delta; charts, bars and DataFusion are laptop tools.
    assert required == {"requests", "urllib3", "databricks-sdk", "sqlglot"}
    assert {
        "pyspark",
        "delta-spark",
        "matplotlib",
        "plotly",
        "rich",
        "deltalake",
        "datafusion",
    } <= local
