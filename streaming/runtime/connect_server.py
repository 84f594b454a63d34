"""A local Spark Connect server with Delta, started from the installed pyspark.

``make spark-connect`` runs one in the foreground; the tests start one per session.
Clients reach it with ``SPARK_REMOTE='sc://localhost:<port>/;token=<token>'`` and start no
JVM of their own. It listens on loopback only, with the same confs as the in-process
local session, and serves only clients that send its token: a secret made at each start
and handed to the server in its environment (a command line is visible to every user).
pyspark's client sends a token without TLS only to the host ``localhost``, so the URL
names it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from streaming.errors import LakehouseError
from streaming.runtime.session import (
    REMOTE_ENV,
    fill_maven_cache,
    jars_unresolved,
    local_confs,
    pyspark_bin,
    start_failed,
)

DEFAULT_PORT = 15002
SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
HOST = "127.0.0.1"
TOKEN_ENV = "SPARK_CONNECT_AUTHENTICATE_TOKEN"


def new_token() -> str:
    """A fresh secret for a server's clients."""
    return secrets.token_urlsafe(32)


def connect_url(port: int, token: str) -> str:
    """The URL a pyspark client takes for a server on loopback with ``token``."""
    return f"sc://localhost:{port}/;token={token}"


@dataclass
class ConnectServer:
    """A running server process and where it answers."""

    process: subprocess.Popen
    port: int
    log_file: Path
    token: str

    @property
    def url(self) -> str:
        return connect_url(self.port, self.token)

    def stop(self, timeout: float = 30) -> None:
        """Stop the server (its streams stop with it) and wait for the process to end."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def server_command(port: int, log_dir: Path) -> list[str]:
    """The ``spark-submit`` command line of a local Connect server with Delta."""
    confs = {
        **local_confs(log_dir),
        "spark.connect.grpc.binding.address": HOST,
        "spark.connect.grpc.binding.port": str(port),
        # foreachBatch functions run in Python workers on the server: this interpreter,
        # so they import the same installed project.
        "spark.pyspark.python": sys.executable,
    }
    command = [
        str(pyspark_bin("spark-submit")),
        "--class",
        SERVER_CLASS,
        "--name",
        "omdb-lakehouse-connect",
    ]
    for key, value in confs.items():
        command += ["--conf", f"{key}={value}"]
    return command


def server_env(token: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The server's environment: ``env`` (ours by default) and its clients' ``token``;
    Python workers run this interpreter."""
    merged = dict(env if env is not None else os.environ)
    merged["PYSPARK_PYTHON"] = sys.executable
    merged[TOKEN_ENV] = token
    merged.pop(REMOTE_ENV, None)  # the server itself is local Spark
    return merged


def free_port() -> int:
    """A TCP port nobody listens on right now, on loopback."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((HOST, port)) == 0


def start_server(
    log_dir: Path,
    port: int | None = None,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> ConnectServer:
    """Start a Connect server and return once it accepts connections.

    Args:
        log_dir: where the server's JVM log goes (``connect-server.log``).
        port: the port to listen on; a free one by default.
        env: the server's environment (its Python workers inherit it); ours by default.
        timeout: seconds to wait for the server (the first start resolves Delta's jars).

    Raises:
        LakehouseError: the port is taken, or the server did not start (with its log).
    """
    port = port or free_port()
    token = new_token()
    if _answers(port):
        raise LakehouseError(f"port {port} is already in use")
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / "connect-server.log"
    for attempt in (1, 2):
        with open(log_file, "ab") as log:
            process = subprocess.Popen(
                server_command(port, log_dir),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=server_env(token, env),
                start_new_session=True,  # Ctrl-C in a terminal reaches us, we stop it
            )
        server = ConnectServer(process, port, log_file, token)
        deadline = time.monotonic() + timeout
        while process.poll() is None and time.monotonic() < deadline:
            if _answers(port):
                return server
            time.sleep(0.25)
        server.stop()
        if attempt == 1 and jars_unresolved(log_file) and fill_maven_cache():
            continue
        reason = "timed out" if process.returncode in (None, -15) else f"exit {process.returncode}"
        raise start_failed(f"the Spark Connect server did not start ({reason})", log_file)
    raise AssertionError("unreachable")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m streaming.runtime.connect_server",
        description="Run a local Spark Connect server with Delta Lake on loopback until Ctrl-C.",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="default %(default)s")
    parser.add_argument(
        "--log-dir", default="./.lakehouse/logs", help="server log folder (default %(default)s)"
    )
    args = parser.parse_args(argv)
    try:
        server = start_server(Path(args.log_dir).resolve(), args.port)
    except LakehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"Spark Connect with Delta on localhost:{server.port}; log {server.log_file}",
        file=sys.stderr,
    )
    print(
        f"  use it (the token is this start's): export {REMOTE_ENV}='{server.url}'", file=sys.stderr
    )
    try:
        return server.process.wait()
    except KeyboardInterrupt:
        server.stop()
        return 0


if __name__ == "__main__":
    sys.exit(main())
