"""The bundle's entry point, called the way a Databricks ``python_wheel_task`` calls it.

The task looks the entry point up in the installed wheel's metadata, calls it with
``sys.argv`` set to its parameters and drops what it returns (``entry_point.load()()``):
only an exception makes the run fail.
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points

import pytest

from producers.landing import landed_files
from producers.offline.server import OfflineOmdbServer
from streaming.cli import JobFailed, main

JOB_ENTRY_POINT = "omdb-lakehouse-job"
KEY = "s3cr3t-k3y-0123"


def as_wheel_task(monkeypatch, *parameters: str):
    """Call the installed entry point as the task does; whatever it returns is dropped."""
    (entry_point,) = entry_points(group="console_scripts", name=JOB_ENTRY_POINT)
    monkeypatch.setattr(sys, "argv", ["omdb_lakehouse", *parameters])
    entry_point.load()()


def test_a_failing_run_fails_the_task_naming_its_error(tmp_path, monkeypatch, capsys):
    root = str(tmp_path / "no-pages-yet")

    with pytest.raises(JobFailed, match=r"exited with code 1: error: landing folder .* does not"):
        as_wheel_task(monkeypatch, "run", "--root", root)

    assert main(["run", "--root", root]) == 1  # the console script keeps its exit code
    assert "Traceback" not in capsys.readouterr().err


def test_a_produce_stopped_by_a_401_fails_the_task_without_the_key(tmp_path, monkeypatch):
    with OfflineOmdbServer(api_key=KEY) as server:
        monkeypatch.setenv("OMDB_API_KEY", "not-the-" + KEY)
        monkeypatch.setenv("OMDB_API_URL", server.url)
        argv = ["produce", "--term", "star", "--root", str(tmp_path)]
        with pytest.raises(JobFailed) as failed:
            as_wheel_task(monkeypatch, *argv)
        assert main(argv) == 3

    message = str(failed.value)
    assert "exited with code 3" in message and "Invalid API key!" in message
    assert "resume" in message and KEY not in message


def test_a_command_that_succeeds_ends_the_task_quietly(tmp_path, monkeypatch):
    with OfflineOmdbServer(api_key=KEY) as server:
        monkeypatch.setenv("OMDB_API_KEY", KEY)
        monkeypatch.setenv("OMDB_API_URL", server.url)
        assert (
            as_wheel_task(monkeypatch, "produce", "--term", "matrix", "--root", str(tmp_path))
            is None
        )
    assert landed_files(tmp_path / "landing")


def test_bad_arguments_fail_the_task_with_usage_exit_2(monkeypatch, capsys):
    with pytest.raises(SystemExit) as exited:
        as_wheel_task(monkeypatch, "run", "--trigger", "sometimes")
    assert exited.value.code == 2 and "invalid choice" in capsys.readouterr().err
