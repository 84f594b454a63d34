"""Query results printed as an aligned table, CSV or JSON: plain Python, no engine imported.

Every engine (Spark, DataFusion, a SQL warehouse, a running ``serve``) hands over the
same shape, column names and rows, so printing never depends on where rows came from.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
from collections.abc import Sequence
from typing import Any

from streaming.errors import LakehouseError

FORMATS = ("table", "csv", "json")


def escape_controls(text: str) -> str:
    """``text`` for a terminal: every character that is not printable (ANSI and OSC
    escapes, carriage returns, line breaks) spelled as its escape (``\\x1b``)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def plain(value: Any) -> Any:
    """A value as JSON can hold it: dates as ISO text, decimals as floats, rows as dicts."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "asDict"):
        return {k: plain(v) for k, v in value.asDict().items()}
    return value


def format_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> str:
    """Rows as ``json`` (an array of objects), ``csv`` (with a header) or an aligned ``table``.

    A table is for a terminal: control characters in the data are shown escaped. JSON
    escapes them itself; CSV keeps the data as it is, for a program to read.
    """
    values = [[plain(v) for v in row] for row in rows]
    if fmt == "json":
        return json.dumps(
            [dict(zip(columns, row, strict=True)) for row in values], ensure_ascii=False
        )
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(["" if v is None else v for v in row] for row in values)
        return out.getvalue().rstrip("\n")
    if fmt == "table":
        return _text_table(columns, values)
    raise LakehouseError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def _text_table(columns: Sequence[str], rows: list[list[Any]]) -> str:
    cells = [[escape_controls(str(c)) for c in columns]] + [
        ["NULL" if v is None else escape_controls(str(v)) for v in row] for row in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    numeric = [
        all(isinstance(row[i], int | float) or row[i] is None for row in rows) and bool(rows)
        for i in range(len(columns))
    ]

    def line(row: list[str]) -> str:
        return "  ".join(
            cell.rjust(w) if num else cell.ljust(w)
            for cell, w, num in zip(row, widths, numeric, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    body = [line(row) for row in cells[1:]]
    footer = f"({len(rows)} row{'s' if len(rows) != 1 else ''})"
    return "\n".join([line(cells[0]), rule, *body, footer])
