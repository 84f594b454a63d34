"""SQL over the local Delta tables without a JVM: delta-rs reads them, DataFusion runs the SQL.

A read takes a fraction of a second where a Spark session takes ten or more to start,
so ``query --engine datafusion`` suits a quick look at gold while ``run`` writes.
The dialect is DataFusion's, not Spark's: most plain SELECTs read the same, but
functions differ (``date_format`` patterns, ``size``...), so Spark stays the default.
The statement runs in DataFusion's own ``SessionContext`` with DDL, DML and statements
switched off (``SQLOptions``): the engine itself refuses ``COPY``, ``CREATE`` and ``SET``,
whatever the check before it judged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from checkpoints_config import PipelineConfig
from streaming.errors import LakehouseError, query_failed
from streaming.pipeline.checkpoints import delta_rs_reads, has_commits
from streaming.read.read_only import check_statement, table_names


def run_sql_datafusion(config: PipelineConfig, statement: str) -> tuple[list[str], list[list[Any]]]:
    """Run ``statement`` over every existing local table, registered under its bare name.

    Returns:
        The column names and the rows.

    Raises:
        LakehouseError: not a local target, the extra is missing, or DataFusion rejects
            the statement (message in one line).
    """
    if config.on_unity_catalog:
        raise LakehouseError("--engine datafusion reads local tables only (--target local)")
    check_statement(statement, table_names(config))
    if not delta_rs_reads(config.table_root):
        raise LakehouseError(
            "--engine datafusion cannot open tables under a root holding '%', '[' or ']' "
            "(delta-rs reads the path as a URL): use --engine spark"
        )
    context, available = tables_context(config)
    try:
        table = read_only_sql(context, statement)
    except Exception as exc:  # DataFusion raises its own errors for planning and parse errors
        raise query_failed(exc, tables_exist=bool(available)) from exc
    rows = [[_utc_naive(v) for v in row.values()] for row in table.to_pylist()]
    return table.column_names, rows


def tables_context(config: PipelineConfig) -> tuple[Any, list[str]]:
    """A DataFusion session with every existing table under its bare name, and the names.

    Raises:
        LakehouseError: the datafusion or deltalake package is missing.
    """
    try:
        from datafusion import SessionContext
        from deltalake import DeltaTable
    except ImportError as exc:
        raise LakehouseError(
            "--engine datafusion needs the datafusion and deltalake packages "
            "(pip install 'omdb-lakehouse[local]')"
        ) from exc
    context = SessionContext()
    available = []
    for ref in config.all_tables():
        if has_commits(ref.path):
            context.register_table(ref.name, DeltaTable(ref.path))
            available.append(ref.name)
    return context, available


def read_only_sql(context: Any, statement: str) -> Any:
    """``statement``'s answer as an Arrow table, with DataFusion's DDL, DML and statements
    (``COPY``, ``CREATE``, ``SET``...) refused by DataFusion itself."""
    from datafusion import SQLOptions

    reads_only = SQLOptions().with_allow_ddl(False).with_allow_dml(False)
    frame = context.sql_with_options(statement, reads_only.with_allow_statements(False))
    return frame.to_arrow_table()


def _utc_naive(value: Any) -> Any:
    """Timestamps as Spark prints them with the session in UTC: naive, in UTC."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value
