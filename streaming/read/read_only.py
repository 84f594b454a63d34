"""``query`` reads; it never writes: one statement, and only a kind that cannot change data.

Every engine (Spark, DataFusion, a SQL warehouse) gets the statement only after this
check, so a ``DELETE`` typed into ``query`` cannot empty gold behind the pipeline's back
(without its writer lock), nor a ``COPY … TO`` write files anywhere.
"""

from __future__ import annotations

import logging
import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from checkpoints_config import ConfigError

# What a query may be: a query expression, VALUES, DESCRIBE; SHOW and EXPLAIN come back
# from the parser as a generic command.
_READING = (exp.Query, exp.Values, exp.Describe)
_READING_COMMANDS = ("SHOW", "EXPLAIN", "DESCRIBE", "DESC")
_EXPLAIN_MODES = ("EXTENDED", "FORMATTED", "CODEGEN", "COST", "VERBOSE")
_FIRST_WORD = re.compile(r"^[\s(]*([A-Za-z]+)")
# Spark SQL the parser does not know (DESCRIBE DETAIL ...) is judged by its first word.
_READING_FIRST_WORDS = ("SELECT", "WITH", "FROM", "VALUES", "TABLE", *_READING_COMMANDS)

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to a Command" warnings


def check_statement(statement: str) -> None:
    """Refuse, before any engine sees it, a statement that is empty or could write.

    Raises:
        ConfigError: empty, more than one statement, or not a read (its kind named).
    """
    if not statement.strip():
        raise ConfigError("the SQL statement is empty")
    try:
        trees = [tree for tree in sqlglot.parse(statement, read="spark") if tree is not None]
    except SqlglotError:
        kind = _first_word(statement)
        if kind in _READING_FIRST_WORDS:
            return
        raise _refused(kind) from None
    if len(trees) != 1:
        raise ConfigError(f"query runs one statement at a time, got {len(trees)}")
    tree = trees[0]
    if isinstance(tree, exp.Command):
        keyword = str(tree.this).upper()
        rest = tree.expression.name if tree.expression else ""
        if keyword == "EXPLAIN":
            # EXPLAIN ANALYZE runs the statement (DataFusion); a plain EXPLAIN only plans it.
            if _first_word(rest) == "ANALYZE":
                raise _refused("EXPLAIN ANALYZE")
            if _first_word(rest) in _EXPLAIN_MODES:
                rest = rest.lstrip()[len(_first_word(rest)) :]
            return check_statement(rest)
        if keyword in _READING_COMMANDS:
            return None
        raise _refused(keyword)
    if not isinstance(tree, _READING):
        raise _refused(tree.key.upper().removesuffix("TABLE") or tree.key.upper())
    return None


def _first_word(statement: str) -> str:
    match = _FIRST_WORD.match(statement)
    return match.group(1).upper() if match else ""


def _refused(kind: str) -> ConfigError:
    return ConfigError(
        f"query is read-only: {kind or 'this statement'} is refused "
        "(the pipeline alone writes its tables; `reset` rebuilds a layer)"
    )
