"""The one place a SparkSession is built: Databricks' own, a Spark Connect server, or local.

``SPARK_REMOTE=sc://host:port`` (pyspark's own convention) connects to that Spark
Connect server and starts no JVM here. Otherwise, locally, Delta's jars are resolved
for the installed pyspark/delta-spark pair from Maven Central (cached by Ivy), falling
back to ``mvn dependency:get`` into ``~/.m2``. The JVM's own output goes to a log file
so the terminal shows only our messages.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import urllib.parse
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path

from pyspark.sql import SparkSession

from checkpoints_config.targets import on_databricks
from streaming.errors import LakehouseError, first_line
from streaming.runtime import class_archive

_CONF_DIR = Path(__file__).parent / "conf"
SCALA_VERSION = "2.13"

REMOTE_ENV = "SPARK_REMOTE"
MASTER_ENV = "OMDB_SPARK_MASTER"  # a local session's master (a cluster's, say)
GATEWAY_ENV = "PYSPARK_GATEWAY_PORT"  # set by spark-submit for the Python it starts
# The oldest Spark the pipeline's code runs on (bronze and silver use 4.0's functions):
# serverless environment 4 (Databricks Connect 17) and Databricks Runtime 17.3 LTS.
SPARK_FLOOR = "4.0"
EXTRA_CONF_ENV = "OMDB_SPARK_CONF"
JAVA_OPTIONS = "spark.driver.extraJavaOptions"

# What Databricks serverless lets code set on a session at run time. The pipeline sets
# nothing else: table behaviour lives in table properties, write behaviour in writer
# options, local tuning in LOCAL_CONF below (given when the session is built).
SERVERLESS_SETTABLE_CONFS = frozenset(
    {
        "spark.sql.shuffle.partitions",
        "spark.sql.session.timeZone",
        "spark.sql.ansi.enabled",
        "spark.sql.files.maxPartitionBytes",
        "spark.sql.legacy.timeParserPolicy",
        "spark.databricks.execution.timeout",
    }
)

# Tuned for many small landing files on a small machine; measured on a 2-core
# laptop, the discovery threshold and the open cost cut a 2,000-file micro-batch's
# getBatch from 12.5 s to 0.5 s (no separate 1,000-task listing job; many files
# packed per task).
DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"
LOCAL_CONF: Mapping[str, str] = {
    "spark.sql.extensions": DELTA_EXTENSION,
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
    # VACUUM lists a table in this many tasks (10,000 by default): 20-30 s for a table
    # of a few files here, 3-5 s with 4.
    "spark.sql.sources.parallelPartitionDiscovery.parallelism": "4",
    "spark.sql.files.openCostInBytes": "1024",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.databricks.delta.snapshotPartitions": "2",
    # No Hive metastore: Derby would lock out a second process (query while run runs).
    "spark.sql.catalogImplementation": "in-memory",
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.streaming.numRecentProgressUpdates": "100",
    # No statement is ever rewritten by ${…} before it is parsed (the pipeline uses none).
    "spark.sql.variable.substitute": "false",
    # Delta 4.4's auto compaction, once a process has compacted a table, rewrites the whole
    # table after nearly every commit (its per-process count of small files drops to zero
    # or below, and the entry evicted with it forgets the table was compacted; read in
    # AutoCompactPartitionStats). The writers compact a table when its log counts enough
    # files instead (streaming.pipeline.tables.compact_if_due).
    "spark.databricks.delta.autoCompact.enabled": "false",
}

LOOPBACK_DRIVER: Mapping[str, str] = {
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",
}

# A process that runs a few small batches and exits (``run`` available-now, ``query``,
# ``demo``, ``maintain``...) spends most of its time compiling and loading Delta snapshots,
# not computing. Measured on a one-page run in a new process (BENCHMARKS.md, "A new
# process"): the JIT's first tier only and no whole-stage code generation (auto
# compaction's check after every commit is off in every local session, LOCAL_CONF).
# Always-on processes (``serve``, a continuous ``run``, the Connect server) keep Spark's
# defaults: they live long enough for the optimising compiler and generated code to pay
# (and a continuous run's JVM with the first tier alone once failed to link a method
# handle, VACUUM beside a MERGE).
SHORT_LIVED_CONF: Mapping[str, str] = {
    "spark.sql.codegen.wholeStage": "false",
}
SHORT_LIVED_JAVA_OPTIONS = ("-XX:TieredStopAtLevel=1",)


def delta_maven_coordinate() -> str:
    """Maven coordinate of Delta's jars matching the installed pyspark and delta-spark."""
    import pyspark

    spark_minor = ".".join(pyspark.__version__.split(".")[:2])
    delta_version = metadata.version("delta-spark")
    # Delta names its artifact after the Spark it was built for from 4.1 on
    # (delta-spark_4.2_2.13); 4.0 and older publish only delta-spark_2.13.
    delta_minor = tuple(int(part) for part in delta_version.split(".")[:2])
    artifact = f"delta-spark_{spark_minor}" if delta_minor >= (4, 1) else "delta-spark"
    return f"io.delta:{artifact}_{SCALA_VERSION}:{delta_version}"


def remote_url() -> str | None:
    """The Spark Connect server to use (``$SPARK_REMOTE``), or None for local Spark."""
    return os.environ.get(REMOTE_ENV, "").strip() or None


def get_spark(
    app_name: str = "omdb-lakehouse", *, log_dir: Path | None = None, short_lived: bool = False
) -> SparkSession:
    """The SparkSession to use: Databricks' own, a Spark Connect server's, or a local one.

    Args:
        app_name: Spark application name (local only).
        log_dir: where the local JVM writes its log; a temporary folder by default.
        short_lived: a new local session is tuned for a process that runs a few small
            batches and exits (``SHORT_LIVED_CONF``); local only.

    Raises:
        LakehouseError: Java is missing, Delta's jars cannot be resolved, or the Spark
            Connect server does not answer.
    """
    if on_databricks():
        spark = SparkSession.builder.getOrCreate()
        check_spark_floor(spark.version)
        check_client_functions()  # over serverless the version above is the server's
        return spark
    url = remote_url()
    if url is not None:
        check_client_functions()
        return connect(url)
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    return start_local(
        app_name,
        log_dir or user_log_dir(),
        short_lived=short_lived,
    )


def user_log_dir() -> Path:
    """A log folder for a root the user cannot write: this user's own, under the temp folder.

    Never a shared fixed name: another user could make it first and plant a link in it.
    A name taken by someone else (not ours, a link, or open to others) is passed over for a
    new private folder.
    """
    folder = Path(tempfile.gettempdir()) / f"omdb-lakehouse-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    info = folder.lstat()
    if folder.is_symlink() or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return Path(tempfile.mkdtemp(prefix="omdb-lakehouse-"))
    return folder


def check_spark_floor(version: str) -> None:
    """Refuse, in one line, a Spark older than the code needs (a job that would fail later
    with an AttributeError deep in a stream).

    Raises:
        LakehouseError: ``version`` is older than ``SPARK_FLOOR``.
    """

    def major_minor(text: str) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", text)[:2])

    if major_minor(version) < major_minor(SPARK_FLOOR):
        raise LakehouseError(
            f"Spark {version} is older than this code needs ({SPARK_FLOOR}): use serverless "
            "environment version 4 or newer, or Databricks Runtime 17.3 LTS or newer"
        )


# What the pipeline calls on the client side that Spark 4.0 brought: over Spark Connect
# (serverless) the session's version is the server's, so the client's own pyspark (or
# Databricks Connect) is asked for them by name.
CLIENT_FUNCTIONS = {
    "pyspark.sql.functions": ("is_valid_utf8", "make_valid_utf8"),
    "pyspark.sql.Column": ("try_cast",),
}


def check_client_functions(found: dict[str, object] | None = None) -> None:
    """Refuse, in one line, a client whose pyspark lacks what the pipeline calls.

    ``found``: each of ``CLIENT_FUNCTIONS``' holders, by name (the installed ones when None).

    Raises:
        LakehouseError: a function or method is missing, named with the client's pyspark.
    """
    if found is None:
        import pyspark
        from pyspark.sql import Column
        from pyspark.sql import functions as F

        found = {"pyspark.sql.functions": F, "pyspark.sql.Column": Column}
        version = pyspark.__version__
    else:
        version = "given"
    missing = [
        f"{holder}.{name}"
        for holder, names in CLIENT_FUNCTIONS.items()
        for name in names
        if not hasattr(found[holder], name)
    ]
    if missing:
        raise LakehouseError(
            f"this client's pyspark ({version}) lacks {', '.join(missing)}, which the "
            f"pipeline calls (Spark {SPARK_FLOOR} or newer): use serverless environment "
            "version 4 or newer, or Databricks Runtime 17.3 LTS or newer"
        )


def connect(url: str) -> SparkSession:
    """A session on the Spark Connect server at ``url`` (``sc://host:port``)."""
    shown = url.split(";", 1)[0]  # a token in the parameters is never printed
    parsed = urllib.parse.urlparse(shown)
    if parsed.scheme != "sc" or not parsed.hostname:
        raise LakehouseError(f"{REMOTE_ENV} must look like sc://host:port, got {shown!r}")
    # pyspark's client retries an unreachable server for minutes: ask the port first.
    try:
        socket.create_connection((parsed.hostname, parsed.port or 15002), timeout=5).close()
        spark = SparkSession.builder.remote(url).getOrCreate()
        spark.sql("SELECT 1").collect()  # the session is lazy: make sure someone answers
    except Exception as exc:
        if "UNAUTHENTICATED" in str(exc):
            raise LakehouseError(
                f"the Spark Connect server at {shown} ({REMOTE_ENV}) refused this client: "
                "give its token as sc://host:port/;token=<token> "
                "(serve and make spark-connect print it)"
            ) from None
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else first_line(exc)
        raise LakehouseError(
            f"no Spark Connect server answers at {shown} ({REMOTE_ENV}): {redact_token(reason)}"
        ) from None
    return spark


def redact_token(text: str) -> str:
    """``text`` without the value of any ``token=`` in it."""
    return re.sub(r"(token=)[^;\s'\"]+", r"\1***", text)


def local_confs(log_dir: Path, *, short_lived: bool = False) -> dict[str, str]:
    """Every conf of a local Spark with Delta: the in-process session's and the Connect
    server's; ``short_lived`` adds ``SHORT_LIVED_CONF``."""
    jars = delta_jar_confs()
    java_opts = " ".join(
        [
            *(
                _java_option(name, value)
                for name, value in (
                    ("log4j.configurationFile", str(_CONF_DIR / "log4j2.properties")),
                    ("derby.system.home", str(log_dir)),
                )
            ),
            *map(shlex.quote, class_archive.java_options(_jar_files(jars))),
            *(SHORT_LIVED_JAVA_OPTIONS if short_lived else ()),
        ]
    )
    extra = extra_confs()
    # JVM options given in $OMDB_SPARK_CONF come after ours: the log settings stay.
    java_opts = " ".join(filter(None, [java_opts, extra.pop(JAVA_OPTIONS, "")]))
    master = chosen_master(submitted_master())
    return {
        "spark.master": master,
        # A local master's driver RPC and block manager listen on loopback, not on the
        # machine's network address (Spark's default); so does a loopback cluster's.
        **(LOOPBACK_DRIVER if on_loopback(master) else {}),
        **jars,
        "spark.driver.memory": os.environ.get("OMDB_SPARK_DRIVER_MEMORY", "2g"),
        JAVA_OPTIONS: java_opts,
        "spark.sql.warehouse.dir": str(log_dir / "warehouse"),
        **LOCAL_CONF,
        **(SHORT_LIVED_CONF if short_lived else {}),
        **extra,
    }


def pyspark_bin(name: str) -> Path:
    """A script of the installed pyspark's ``bin`` (``spark-submit``, ``spark-class``)."""
    import pyspark

    return Path(pyspark.__file__).parent / "bin" / name


def chosen_master(submitted: str | None = None) -> str:
    """The master a new session runs on: ``$OMDB_SPARK_MASTER``, else the one
    ``spark-submit --master`` was given (``submitted``), else ``local[*]``."""
    return os.environ.get(MASTER_ENV, "").strip() or submitted or "local[*]"


def submitted_master() -> str | None:
    """The master ``spark-submit`` started this Python process with, if it did (its JVM
    is then already up, and holds the master as a system property)."""
    if GATEWAY_ENV not in os.environ:
        return None
    from pyspark import SparkContext

    SparkContext._ensure_initialized()
    return SparkContext._jvm.java.lang.System.getProperty("spark.master")  # type: ignore[union-attr]


def check_submitted_jars() -> None:
    """Under ``spark-submit`` the JVM is up before this code runs: Delta's jars must be on
    its command line, since the session can no longer add them to the driver."""
    from pyspark import SparkContext

    jvm = SparkContext._jvm
    loader = jvm.java.lang.Thread.currentThread().getContextClassLoader()  # type: ignore[union-attr]
    try:
        jvm.java.lang.Class.forName(DELTA_EXTENSION, False, loader)  # type: ignore[union-attr]
    except Exception:
        raise LakehouseError(
            "spark-submit was given no Delta jars: add "
            f"--packages {delta_maven_coordinate()} (or --jars with the same jars)"
        ) from None


def on_loopback(master: str) -> bool:
    """A local master, or a cluster's on this machine's loopback address."""
    if master.startswith("local"):
        return True
    host = master.split("://", 1)[-1].split(",")[0].rsplit(":", 1)[0]
    return host in ("127.0.0.1", "localhost", "[::1]")


def extra_confs() -> dict[str, str]:
    """Local Spark confs from ``$OMDB_SPARK_CONF``: ``key=value`` pairs separated by ``;``."""
    confs = {}
    for item in os.environ.get(EXTRA_CONF_ENV, "").split(";"):
        key, sep, value = item.strip().partition("=")
        if not item.strip():
            continue
        if not sep or not key.strip():
            raise LakehouseError(
                f"{EXTRA_CONF_ENV} takes key=value pairs separated by ';', got {item.strip()!r}"
            )
        confs[key.strip()] = value.strip()
    return confs


def _jar_list_file() -> Path:
    return Path.home() / ".cache" / "omdb-lakehouse" / f"{delta_maven_coordinate()}.jars"


def delta_jar_confs() -> dict[str, str]:
    """How Spark gets Delta's jars: the files resolved before, else the Maven coordinate.

    Resolving the coordinate with Ivy costs seconds on every JVM start, even with every
    jar cached; once a start has resolved them, later starts name the files.
    """
    listed = _jar_list_file()
    if listed.is_file():
        jars = listed.read_text(encoding="utf-8").split()
        if jars and all(Path(urllib.parse.urlparse(jar).path).is_file() for jar in jars):
            return {"spark.jars": ",".join(jars)}
    return {
        "spark.jars.packages": delta_maven_coordinate(),
        "spark.jars.ivySettings": str(_CONF_DIR / "ivysettings.xml"),
    }


def _jar_files(jar_confs: Mapping[str, str]) -> list[str]:
    """Delta's jar files named by ``delta_jar_confs``; none while only the coordinate is known."""
    return [jar for jar in jar_confs.get("spark.jars", "").split(",") if jar]


def _remember_jars(spark: SparkSession) -> None:
    """Keep the jar files Ivy resolved for this start, for the next ones."""
    jars = spark.sparkContext.getConf().get("spark.jars", "")
    if "delta-spark" not in jars:
        return
    listed = _jar_list_file()
    with contextlib.suppress(OSError):  # a cache only: an unwritable home changes nothing
        listed.parent.mkdir(parents=True, exist_ok=True)
        listed.write_text("\n".join(jars.split(",")) + "\n", encoding="utf-8")


def _java_option(name: str, value: str) -> str:
    # Spark splits extraJavaOptions like a shell: quote a value holding spaces.
    return shlex.quote(f"-D{name}={value}")


def _local_builder(
    app_name: str, log_dir: Path, extra: Mapping[str, str], short_lived: bool
) -> SparkSession.Builder:
    builder = SparkSession.builder.appName(app_name)
    for key, value in {**local_confs(log_dir, short_lived=short_lived), **extra}.items():
        builder = builder.config(key, value)
    return builder


def start_local(
    app_name: str,
    log_dir: Path,
    extra: Mapping[str, str] | None = None,
    *,
    short_lived: bool = False,
) -> SparkSession:
    """A new local session with Delta (and ``extra`` confs), its JVM output in ``log_dir``;
    ``short_lived``: tuned for a process that exits after a few small batches."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise LakehouseError("Java 17 is needed to run Spark locally, and no `java` was found")
    if submitted_master() is not None:
        check_submitted_jars()
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / "spark-jvm.log"
    for attempt in (1, 2):
        try:
            with _jvm_output_to(log_file):
                spark = _local_builder(app_name, log_dir, extra or {}, short_lived).getOrCreate()
            spark.sparkContext.setLogLevel("WARN")
            _remember_jars(spark)
            return spark
        except Exception as exc:  # pyspark raises PySparkRuntimeError(JAVA_GATEWAY_EXITED)
            if attempt == 1 and jars_unresolved(log_file) and fill_maven_cache():
                continue
            raise start_failed(exc, log_file) from exc
    raise AssertionError("unreachable")


def jars_unresolved(log_file: Path) -> bool:
    """True when the JVM's log says Ivy could not resolve a package."""
    log_tail = log_file.read_text(errors="replace")[-4000:] if log_file.exists() else ""
    return "unresolved dependency" in log_tail or "download failed" in log_tail


def start_failed(error: BaseException | str, log_file: Path) -> LakehouseError:
    """Why a local Spark (in-process or a Connect server) did not start, in one line."""
    if jars_unresolved(log_file):
        coordinate = delta_maven_coordinate()
        return LakehouseError(
            f"cannot resolve Delta Lake's jars {coordinate} from Maven Central or "
            f"~/.m2 (try: mvn dependency:get -Dartifact={coordinate}); see {log_file}"
        )
    return LakehouseError(f"Spark did not start: {first_line(error)}; see {log_file}")


def fill_maven_cache() -> bool:
    """Fetch Delta's jars into ~/.m2 with Maven (when Ivy cannot reach them), if Maven is here."""
    mvn = shutil.which("mvn")
    if mvn is None:
        return False
    result = subprocess.run(
        [mvn, "-q", "-B", "dependency:get", f"-Dartifact={delta_maven_coordinate()}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0


@contextlib.contextmanager
def _jvm_output_to(log_file: Path) -> Iterator[None]:
    """Point fds 1 and 2 at ``log_file`` while the JVM is spawned, so it inherits them."""
    saved = [os.dup(1), os.dup(2)]
    with open(log_file, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


if __name__ == "__main__":
    # `python -m streaming.runtime.session`: resolve and cache Delta's jars once (make jars). A
    # start that found them already remembered their files: no JVM is needed to know.
    if "spark.jars" in delta_jar_confs():
        print(f"Delta's jars are cached ({delta_maven_coordinate()})")
    else:
        get_spark("omdb-lakehouse-setup").stop()
        print(f"Spark with Delta ready ({delta_maven_coordinate()})")
    jar_files = _jar_files(delta_jar_confs())
    if class_archive.wanted() and not class_archive.java_options(jar_files):
        print("making the JVM's class archive (once per install, about two minutes)", flush=True)
        made = class_archive.make(jar_files)
        print(f"class archive: {made}" if made else "no class archive: Spark starts without")
