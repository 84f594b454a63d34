"""A Spark standalone cluster on this machine: a master and workers, each its own JVM.

The pip-installed pyspark ships no ``start-master.sh``, but its ``bin/spark-class``
starts the master and worker classes of spark-core. Everything listens on loopback
(``SPARK_LOCAL_IP``: the RPC ports and the web UIs): a standalone master runs any
application sent to it, as the user who started it. A run uses it with
``OMDB_SPARK_MASTER=<master URL>``; ``make cluster`` starts one, ``make cluster-stop``
stops it::

    python -m streaming.runtime.cluster start --workers 2 [--folder .cluster]
    python -m streaming.runtime.cluster stop [--folder .cluster]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from producers.ledger import LocalFile, private_folder
from streaming.errors import LakehouseError
from streaming.runtime.connect_server import HOST as LOOPBACK
from streaming.runtime.connect_server import free_port
from streaming.runtime.session import pyspark_bin

DEFAULT_FOLDER = Path(".cluster")
RECORD = "cluster.json"
START_SECONDS = 60.0


@dataclass(frozen=True)
class Cluster:
    """A started cluster: where its master listens, and each daemon's process."""

    master_url: str
    web_ui: str
    master_pid: int
    worker_pids: list[int]
    folder: str

    def worker_folders(self) -> list[Path]:
        return sorted(Path(self.folder).glob("worker-*"))


def _daemon(args: list[str], log: Path) -> subprocess.Popen:
    """A Spark daemon in its own process group (stopped as one), bound to loopback;
    pyspark's ``bin/spark-class`` starts the class in its own JVM."""
    spark_class = pyspark_bin("spark-class")
    env = {
        **os.environ,
        "SPARK_HOME": str(spark_class.parent.parent),
        "SPARK_LOCAL_IP": LOOPBACK,
        # No REST submission server (port 6066): it takes applications without a word.
        "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(spark_class), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )


def _wait_for(log: Path, pattern: str, count: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_SECONDS
    while len(re.findall(pattern, log.read_text(errors="replace"))) < count:
        if process.poll() is not None or time.monotonic() > deadline:
            tail = " | ".join(log.read_text(errors="replace").splitlines()[-3:])
            raise LakehouseError(f"the cluster did not start: {tail}")
        time.sleep(0.2)


def start(folder: Path = DEFAULT_FOLDER, workers: int = 2, cores: int = 1) -> Cluster:
    """A master and ``workers`` workers of ``cores`` cores each, logs and work folders
    under ``folder``; its record in ``folder/cluster.json``."""
    folder = folder.absolute()
    if (folder / RECORD).exists():
        raise LakehouseError(f"a cluster is recorded in {folder}: stop it first")
    private_folder(folder)
    port, ui = free_port(), free_port()
    master_log = folder / "master.log"
    master_args = ["--host", LOOPBACK, "--port", str(port), "--webui-port", str(ui)]
    master = _daemon(["org.apache.spark.deploy.master.Master", *master_args], master_log)
    url = f"spark://{LOOPBACK}:{port}"
    _wait_for(master_log, r"elected leader", 1, master)
    pids = []
    for n in range(1, workers + 1):
        work = private_folder(folder / f"worker-{n}")
        worker_args = ["--host", LOOPBACK, "--cores", str(cores), "--memory", "1g"]
        worker_args += ["--work-dir", str(work), "--webui-port", "0", url]
        process = _daemon(
            ["org.apache.spark.deploy.worker.Worker", *worker_args], work / "worker.log"
        )
        pids.append(process.pid)
    cluster = Cluster(url, f"http://{LOOPBACK}:{ui}", master.pid, pids, str(folder))
    LocalFile(str(folder / RECORD), private=True).write(json.dumps(asdict(cluster)))
    _wait_for(master_log, r"Registering worker", workers, master)
    return cluster


def recorded(folder: Path = DEFAULT_FOLDER) -> Cluster | None:
    """The cluster recorded in ``folder``, if any."""
    path = folder.absolute() / RECORD
    return Cluster(**json.loads(path.read_text())) if path.is_file() else None


def kill(pid: int, sig: int = signal.SIGTERM) -> None:
    """Signal a daemon's whole process group (a worker's executors with it)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def stop(folder: Path = DEFAULT_FOLDER) -> bool:
    """Stop the cluster recorded in ``folder``; False when none is."""
    cluster = recorded(folder)
    if cluster is None:
        return False
    for pid in [*cluster.worker_pids, cluster.master_pid]:
        kill(pid)
    deadline = time.monotonic() + 30
    for pid in [*cluster.worker_pids, cluster.master_pid]:
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(pid):
            kill(pid, signal.SIGKILL)
    (folder.absolute() / RECORD).unlink()
    return True


def _alive(pid: int) -> bool:
    """Whether any process of the daemon's group runs (one this process started and that
    ended is reaped first: a zombie is not running)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m streaming.runtime.cluster",
        description="Start or stop a Spark standalone cluster on this machine's loopback.",
    )
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER, help="logs and work")
    parser.add_argument("--workers", type=int, default=2, help="workers to start (2)")
    parser.add_argument("--cores", type=int, default=1, help="cores per worker (1)")
    args = parser.parse_args(argv)
    try:
        if args.action == "start":
            cluster = start(args.folder, args.workers, args.cores)
            print(f"master {cluster.master_url} ({args.workers} workers), web UI {cluster.web_ui}")
            print(f"use it: OMDB_SPARK_MASTER={cluster.master_url} omdb-lakehouse run")
        elif args.action == "stop":
            print("stopped" if stop(args.folder) else f"no cluster recorded in {args.folder}")
        else:
            cluster = recorded(args.folder)
            print(cluster.master_url if cluster else f"no cluster recorded in {args.folder}")
    except LakehouseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
