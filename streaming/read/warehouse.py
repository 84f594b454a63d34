"""SQL on a Databricks SQL Warehouse through the SDK's statement execution API."""

from __future__ import annotations

import time
from typing import Any

from checkpoints_config.model import TableNames
from streaming.errors import LakehouseError
from streaming.read.read_only import check_statement

_INTEGER_TYPES = {"BYTE", "SHORT", "INT", "LONG"}
_FLOAT_TYPES = {"FLOAT", "DOUBLE", "DECIMAL"}


def _typed(value: str | None, type_name: str) -> Any:
    """JSON_ARRAY results are strings: give numbers and booleans their type back."""
    if value is None:
        return None
    if type_name in _INTEGER_TYPES:
        return int(value)
    if type_name in _FLOAT_TYPES:
        return float(value)
    if type_name == "BOOLEAN":
        return value.lower() == "true"
    return value


def run_on_warehouse(
    statement: str,
    warehouse_id: str,
    *,
    catalog: str | None = None,
    schema: str | None = None,
    client=None,
    timeout_seconds: float = 300,
) -> tuple[list[str], list[list[Any]]]:
    """Run ``statement`` on a SQL Warehouse; returns (column names, rows).

    Host and credentials come from the usual databricks-sdk configuration
    (``DATABRICKS_HOST``/``DATABRICKS_TOKEN``, a profile, or the notebook's context).
    ``catalog`` and ``schema`` let the statement use bare table names.

    Raises:
        ConfigError: the statement is empty or is not a read of the pipeline's tables
            (``check_statement``).
        LakehouseError: the statement failed, was canceled, or did not finish in time.

    The check refuses mistakes; the boundary that holds against a determined reader is the
    warehouse's own: the grants of whoever the SDK authenticates as (docs/databricks.md).
    """
    check_statement(statement, [name for _, name in TableNames().items()])
    from databricks.sdk.service.sql import (
        Disposition,
        ExecuteStatementRequestOnWaitTimeout,
        Format,
        StatementState,
    )

    if client is None:
        from databricks.sdk import WorkspaceClient

        client = WorkspaceClient()
    api = client.statement_execution
    response = api.execute_statement(
        statement=statement,
        warehouse_id=warehouse_id,
        catalog=catalog,
        schema=schema,
        disposition=Disposition.INLINE,
        format=Format.JSON_ARRAY,
        wait_timeout="30s",
        on_wait_timeout=ExecuteStatementRequestOnWaitTimeout.CONTINUE,
    )
    deadline = time.monotonic() + timeout_seconds
    delay = 0.5
    while response.status.state in (StatementState.PENDING, StatementState.RUNNING):
        if time.monotonic() > deadline:
            api.cancel_execution(response.statement_id)
            raise LakehouseError(f"the statement did not finish in {timeout_seconds:.0f} s")
        time.sleep(delay)
        delay = min(delay * 2, 5)
        response = api.get_statement(response.statement_id)
    if response.status.state != StatementState.SUCCEEDED:
        error = response.status.error
        message = error.message if error and error.message else response.status.state.value
        raise LakehouseError(f"query failed on the warehouse: {message}")

    columns = response.manifest.schema.columns or []
    types = [c.type_name.value if c.type_name else "STRING" for c in columns]
    rows: list[list[Any]] = []
    result = response.result
    while result is not None:
        rows += [
            [_typed(v, t) for v, t in zip(row, types, strict=True)]
            for row in result.data_array or []
        ]
        if result.next_chunk_index is None:
            break
        result = api.get_statement_result_chunk_n(response.statement_id, result.next_chunk_index)
    return [c.name for c in columns], rows
