"""Where the OMDb key comes from: ``OMDB_API_KEY``, or a Databricks secret scope."""

from __future__ import annotations

import os
import re

from checkpoints_config.targets import on_databricks
from producers.omdb_client import OmdbConfigError, OmdbError
from producers.settings import KEY_ENV

# What Databricks allows in a secret scope's and a secret key's name.
SECRET_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,128}")


def api_key_from_env() -> str | None:
    """The key from ``$OMDB_API_KEY``, or None when unset or blank."""
    return os.environ.get(KEY_ENV, "").strip() or None


def api_key_from_secret_scope(scope: str, key: str, spark=None) -> str:
    """The key stored in a Databricks secret scope, read with SQL's ``secret()``.

    That function is how a job reads a secret on every Databricks compute, serverless
    (Spark Connect) included. The SDK's ``dbutils`` is the runtime's own only on a
    classic runtime; elsewhere it falls back to the REST secrets API, which Databricks
    answers to DBUtils alone. Outside Databricks, set ``OMDB_API_KEY`` instead.

    Args:
        scope: the secret scope's name.
        key: the secret's key within the scope.
        spark: the session to ask; the job's own inside Databricks by default.

    Raises:
        OmdbConfigError: a name Databricks would refuse, or no Databricks to ask.
        OmdbError: the lookup failed (no such scope or key, or no right to read it).
    """
    for name, what in ((scope, "secret scope"), (key, "secret key")):
        if not SECRET_NAME.fullmatch(name):
            raise OmdbConfigError(
                f"{what} {name!r} is not a Databricks secret name "
                "(letters, digits, '_', '-', '.', '@'; 128 at most)"
            )
    if spark is None:
        if not on_databricks():
            raise OmdbConfigError(
                f"secret scope {scope!r} is read inside Databricks only (SQL's secret()); "
                f"here, set {KEY_ENV} instead"
            )
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.getOrCreate()
    try:
        # The names are checked above: no quote can reach the statement.
        row = spark.sql(f"SELECT secret('{scope}', '{key}') AS value").first()
    except Exception as error:  # Spark's own errors vary with the engine and version
        gist = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise OmdbError(
            f"cannot read the OMDb key {key!r} from secret scope {scope!r}: {gist}"
        ) from None
    if row is None or not (row["value"] or "").strip():
        raise OmdbError(f"secret {key!r} in scope {scope!r} is empty: put the OMDb key in it")
    return row["value"].strip()
