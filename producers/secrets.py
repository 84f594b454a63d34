"""Where the OMDb key comes from: ``OMDB_API_KEY``, or a Databricks secret scope."""

from __future__ import annotations

import base64
import os

from producers.omdb_client import KEY_ENV


def api_key_from_env() -> str | None:
    """The key from ``$OMDB_API_KEY``, or None when unset or blank."""
    return os.environ.get(KEY_ENV, "").strip() or None


def api_key_from_secret_scope(scope: str, key: str, client=None) -> str:
    """The key stored in a Databricks secret scope (read with databricks-sdk).

    Args:
        scope: the secret scope's name.
        key: the secret's key within the scope.
        client: a ``WorkspaceClient``; one from the usual SDK configuration by default.
    """
    if client is None:
        from databricks.sdk import WorkspaceClient

        client = WorkspaceClient()
    secret = client.secrets.get_secret(scope=scope, key=key)
    return base64.b64decode(secret.value).decode("utf-8").strip()
