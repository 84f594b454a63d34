"""Where the OMDb key comes from: ``OMDB_API_KEY``, or a Databricks secret scope."""

from __future__ import annotations

import os

from producers.settings import KEY_ENV


def api_key_from_env() -> str | None:
    """The key from ``$OMDB_API_KEY``, or None when unset or blank."""
    return os.environ.get(KEY_ENV, "").strip() or None


def api_key_from_secret_scope(scope: str, key: str, client=None) -> str:
    """The key stored in a Databricks secret scope, read through dbutils.

    Inside Databricks the SDK's ``dbutils`` is the runtime's own (the secrets API's
    ``get_secret`` is refused to jobs and notebooks); elsewhere it is the SDK's remote
    stand-in. From a laptop, set ``OMDB_API_KEY`` instead.

    Args:
        scope: the secret scope's name.
        key: the secret's key within the scope.
        client: a ``WorkspaceClient``; one from the usual SDK configuration by default.
    """
    if client is None:
        from databricks.sdk import WorkspaceClient

        client = WorkspaceClient()
    return client.dbutils.secrets.get(scope=scope, key=key).strip()
