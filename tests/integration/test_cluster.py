"""The pipeline on a real Spark standalone cluster: a master and two one-core workers,
each its own JVM on loopback (``streaming.runtime.cluster``), and the project's own
``run`` pointed at it with ``OMDB_SPARK_MASTER`` (always-on, a worker killed, stopped and
restarted), or through a Spark Connect server whose master it is; ``spark-submit``'s
master obeyed."""

from __future__ import annotations

import importlib.util
import random
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from checkpoints_config import load_target
from streaming.pipeline.checkpoints import last_committed_batch
from streaming.runtime import cluster as standalone
from streaming.runtime.session import delta_maven_coordinate, pyspark_bin
from tests.invariants import assert_invariants, gold_counts, ground_truth
from tests.pages import Landing
from tests.processes import cli, cli_env
from tests.waves import land_wave

pytestmark = [pytest.mark.spark, pytest.mark.slow]

TERMS = "star wars,batman,matrix,harry potter,jurassic,alien"


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    cluster = standalone.start(tmp_path_factory.mktemp("cluster"), workers=2, cores=1)
    yield cluster
    assert standalone.stop(Path(cluster.folder))
    for pid in [cluster.master_pid, *cluster.worker_pids]:
        assert not standalone._alive(pid), "a daemon outlived stop"


def test_the_cluster_listens_on_loopback_only(two_workers):
    # A standalone master runs what reaches it: its RPC, the workers' and every web UI
    # listen on loopback, and the REST submission server (6066) does not listen at all.
    pids = [two_workers.master_pid, *two_workers.worker_pids]
    processes = [psutil.Process(pid) for pid in pids]
    processes += [child for p in list(processes) for child in p.children(recursive=True)]
    listening = [
        (c.laddr.ip, c.laddr.port)
        for p in processes
        for c in p.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    assert len(listening) >= 5, listening  # the master's RPC and UI, each worker's two
    assert all(ip in ("127.0.0.1", "::1", "::ffff:127.0.0.1") for ip, _ in listening), listening
    assert 6066 not in {port for _, port in listening}


def applications(cluster: standalone.Cluster) -> set[str]:
    """The applications the workers have run executors for so far."""
    return {app.name for work in cluster.worker_folders() for app in work.glob("app-*")}


def executor_logs(cluster: standalone.Cluster, before: set[str] = frozenset()) -> dict[str, str]:
    """Each worker's executors' stderr, for the applications not in ``before``."""
    return {
        work.name: "".join(
            p.read_text(errors="replace")
            for p in work.glob("app-*/*/stderr")
            if p.parent.parent.name not in before
        )
        for work in cluster.worker_folders()
    }


def land(env: dict[str, str]) -> None:
    produced = subprocess.run(
        cli("produce", "--terms", TERMS, "--max-pages", "3"), env=env, capture_output=True
    )
    assert produced.returncode == 0, produced.stderr


def test_a_spark_connect_server_on_the_cluster_runs_the_pipeline_exact(
    two_workers, tmp_path, monkeypatch
):
    # As serverless runs it: the client speaks Spark Connect, the server's executors are
    # the cluster's. Both workers alive here: the test below kills one.
    from streaming.runtime.connect_server import start_server

    before = applications(two_workers)
    monkeypatch.setenv("OMDB_SPARK_MASTER", two_workers.master_url)
    server = start_server(tmp_path / "connect")
    try:
        root = tmp_path / "root"
        env = cli_env(OMDB_LAKEHOUSE_ROOT=str(root), SPARK_REMOTE=server.url)
        for name in ("OMDB_API_KEY", "OMDB_SPARK_MASTER"):
            env.pop(name, None)
        land(env)
        done = subprocess.run(cli("run"), env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    finally:
        server.stop()
    assert_invariants(load_target("local", root=root))
    logs = executor_logs(two_workers, before)
    assert len(logs) == 2 and all("Running task" in log for log in logs.values())


def running_until(predicate, run: subprocess.Popen, what: str, timeout: float = 240) -> bool:
    """Wait for ``predicate`` while ``run`` lives: False when the run ended first."""
    deadline = time.monotonic() + timeout
    while run.poll() is None:
        if predicate():
            return True
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)
    return False


def test_a_continuous_run_on_two_workers_outlives_a_killed_worker_stops_and_restarts_exact(
    two_workers, tmp_path
):
    root = tmp_path / "root"
    config = load_target("local", root=root)
    env = cli_env(OMDB_LAKEHOUSE_ROOT=str(root), OMDB_SPARK_MASTER=two_workers.master_url)
    env.pop("OMDB_API_KEY", None)
    land(env)
    landing, rng = Landing(config.landing_path), random.Random(34)
    bronze = config.bronze.checkpoint_location
    before = applications(two_workers)
    log = tmp_path / "run.log"
    with log.open("w") as out:
        run = subprocess.Popen(
            cli("run", "--trigger", "continuous", "--interval", "1s"),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        committed = running_until(lambda: last_committed_batch(bronze) is not None, run, "bronze")
        assert committed, log.read_text()
        # Bronze committed, silver and gold still to come: the second worker dies, its
        # executor with it (SIGKILL to its process group); pages go on landing.
        before_kill = executor_logs(two_workers, before)
        standalone.kill(two_workers.worker_pids[1], signal.SIGKILL)
        land_wave(landing, rng, 1)
        caught_up = running_until(
            lambda: gold_counts(config) == ground_truth(config).gold, run, "gold to catch up"
        )
        # Stopped mid-way: Ctrl-C once bronze has read a new wave, the streams after it
        # still to read it (the quality stream's 30 s floor keeps it behind at least).
        read = last_committed_batch(bronze)
        land_wave(landing, rng, 2)
        if caught_up and running_until(lambda: last_committed_batch(bronze) != read, run, "a read"):
            run.send_signal(signal.SIGINT)
        run.wait(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
    told = log.read_text()
    if caught_up:
        assert run.returncode == 0 and "stopped cleanly" in told, told
    else:  # a failure is loud, and the next run is exact
        assert run.returncode != 0 and "error:" in told, told

    again = subprocess.run(cli("run"), env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stdout + again.stderr
    assert_invariants(config)
    # Both workers ran the run's tasks, and no executor started a Python worker: what
    # runs there is the JVM's alone (the metrics rows are literals, not a Python list).
    assert all("Running task" in log for log in before_kill.values()), before_kill.keys()
    assert len(before_kill) == 2
    assert not any("PythonRunner" in log for log in executor_logs(two_workers, before).values())


MAIN = importlib.util.find_spec("streaming.cli.__main__").origin


def spark_submit(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(pyspark_bin("spark-submit")), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


OBEYED = """
from streaming.runtime.session import get_spark
spark = get_spark()
spark.range(3).write.format("delta").save({table!r})
rows = spark.read.format("delta").load({table!r}).count()
print("master", spark.sparkContext.master, "rows", rows)
"""


def test_spark_submit_s_master_is_obeyed_and_delta_s_jars_are_asked_for(tmp_path):
    env = cli_env(OMDB_LAKEHOUSE_ROOT=str(tmp_path / "root"), PYSPARK_PYTHON=cli()[0])
    env.pop("OMDB_SPARK_MASTER", None)
    packages = ["--packages", delta_maven_coordinate()]
    # Without Delta's jars on its command line: one line saying which to add (spark-submit
    # hands the Python's stderr on in its stdout).
    bare = spark_submit("--master", "local[1]", MAIN, "query", "SELECT 1 AS n", env=env)
    assert bare.returncode == 1
    (told,) = [line for line in bare.stdout.splitlines() if line.startswith("error:")]
    assert told.endswith(
        f"add --packages {delta_maven_coordinate()} (or --jars with the same jars)"
    )
    # With them, the entry point answers...
    query = [MAIN, "query", "SELECT 1 AS n", "--format", "json"]
    answered = spark_submit("--master", "local[1]", *packages, *query, env=env)
    assert answered.returncode == 0, answered.stderr[-2000:]
    assert '"n": 1' in answered.stdout or '"n":1' in answered.stdout, answered.stdout
    # ...and the session runs on the master spark-submit was given, not local[*].
    script = tmp_path / "obeyed.py"
    script.write_text(OBEYED.format(table=str(tmp_path / "t")))
    obeyed = spark_submit("--master", "local[1]", *packages, str(script), env=env)
    assert obeyed.returncode == 0, obeyed.stderr[-2000:]
    assert "master local[1] rows 3" in obeyed.stdout
