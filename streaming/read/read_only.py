"""``query`` reads; it never writes: one statement, a read of the pipeline's tables only.

Every engine (Spark, DataFusion, a SQL warehouse, a running ``serve``) gets the statement
only after this check, so a ``DELETE`` typed into ``query`` cannot empty gold behind the
pipeline's back, nor a ``COPY … TO`` write files anywhere. It fails closed: a statement it
cannot parse is refused, and so is anything that reaches past the tables — a script
(``TRANSFORM … USING``), Java (``reflect``, ``java_method``, ``try_reflect``), a file
(``text.`/path```), a table function, or ``${…}``, which Spark substitutes before it
parses. Where the engine offers its own parser, the engine's parse is checked too
(``streaming.read.spark_parse``): two parsers need not agree on where a comment ends.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from checkpoints_config import ConfigError, PipelineConfig

# What a query may be: a query expression, VALUES, DESCRIBE; SHOW and EXPLAIN come back
# from the parser as a generic command.
_READING = (exp.Query, exp.Values, exp.Describe)
_READING_COMMANDS = ("SHOW", "DESCRIBE", "DESC")
_EXPLAIN_MODES = ("EXTENDED", "FORMATTED", "CODEGEN", "COST", "VERBOSE")
_FIRST_WORD = re.compile(r"^[\s(]*([A-Za-z]+)")
# What a statement that reads begins with: one of these that cannot be parsed is refused
# as unparseable, any other as the kind its first word names.
_READING_FIRST_WORDS = ("SELECT", "WITH", "FROM", "VALUES", "TABLE", "EXPLAIN", *_READING_COMMANDS)
# Delta's DESCRIBE DETAIL, which the parser does not know, in the one form accepted.
_DESCRIBE_DELTA = re.compile(
    r"^\s*DESC(?:RIBE)?\s+(?:DETAIL|HISTORY)\s+`?([A-Za-z_][A-Za-z0-9_]*)`?\s*;?\s*$", re.I
)
# Nodes that do something other than read, wherever they sit in a statement.
_NOT_READING = (
    exp.DML,
    exp.DDL,
    exp.Command,
    exp.Set,
    exp.Cache,
    exp.Uncache,
    exp.Copy,
    exp.Use,
    exp.Refresh,
    exp.LoadData,
    exp.Export,
    exp.Kill,
    exp.Analyze,
    exp.Grant,
    exp.Pragma,
    exp.Commit,
)
# Built-in functions that reach outside the data: each calls a public static Java method.
CALLING_OUT = frozenset({"reflect", "java_method", "try_reflect"})
# Functions whose answer changes from one call to the next: never answered from a cache.
VARYING = frozenset(
    {
        "current_date",
        "current_time",
        "current_timestamp",
        "current_timezone",
        "current_user",
        "curdate",
        "input_file_name",
        "localtimestamp",
        "monotonically_increasing_id",
        "now",
        "rand",
        "randn",
        "random",
        "randstr",
        "session_user",
        "shuffle",
        "spark_partition_id",
        "uniform",
        "unix_timestamp",
        "user",
        "uuid",
    }
)
# The one table function that reads nothing: it counts.
TABLE_FUNCTIONS = frozenset({"range"})

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to a Command" warnings


def table_names(config: PipelineConfig) -> list[str]:
    """The names a query may read: the pipeline's tables, bare."""
    return [ref.name for ref in config.all_tables()]


def check_statement(statement: str, tables: Collection[str]) -> None:
    """Refuse, before any engine sees it, a statement that is not a read of ``tables``.

    Args:
        statement: the SQL as the user gave it.
        tables: the names a statement may read (the pipeline's tables, bare).

    Raises:
        ConfigError: empty, more than one statement, unparseable, not a read (its kind
            named), or reading something other than ``tables``.
    """
    if not statement.strip():
        raise ConfigError("the SQL statement is empty")
    if "${" in statement:
        raise ConfigError(
            "query refuses '${': Spark would substitute a variable into the statement "
            "before reading it"
        )
    allowed = {name.lower() for name in tables}
    delta_describe = _DESCRIBE_DELTA.match(statement)
    if delta_describe:
        check_relation([delta_describe.group(1)], allowed)
        return
    try:
        trees = [tree for tree in sqlglot.parse(statement, read="spark") if tree is not None]
    except SqlglotError as exc:
        kind = _first_word(statement)
        if kind not in _READING_FIRST_WORDS:
            raise refused(kind) from None  # RESTORE, REPAIR...: named, as a parsed write is
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"query reads only statements it can check, and cannot parse this one ({reason})"
        ) from None
    if len(trees) != 1:
        raise ConfigError(f"query runs one statement at a time, got {len(trees)}")
    tree = trees[0]
    if isinstance(tree, exp.Command):
        keyword = str(tree.this).upper()
        rest = tree.expression.name if tree.expression else ""
        if keyword == "EXPLAIN":
            # EXPLAIN ANALYZE runs the statement (DataFusion); a plain EXPLAIN only plans it.
            if _first_word(rest) == "ANALYZE":
                raise refused("EXPLAIN ANALYZE")
            if _first_word(rest) in _EXPLAIN_MODES:
                rest = rest.lstrip()[len(_first_word(rest)) :]
            return check_statement(rest, tables)
        if keyword in _READING_COMMANDS:
            return None
        raise refused(keyword)
    if not isinstance(tree, _READING):
        raise refused(tree.key.upper().removesuffix("TABLE") or tree.key.upper())
    _check_tree(tree, allowed)
    return None


def _check_tree(tree: exp.Expression, allowed: set[str]) -> None:
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for node in tree.walk():
        if isinstance(node, exp.QueryTransform):
            raise refused("TRANSFORM … USING (a script)", REACHES_OUT)
        if node is not tree and isinstance(node, _NOT_READING):
            raise refused(node.key.upper())
        if isinstance(node, exp.Func):
            check_function(_function_name(node))
        if isinstance(node, exp.Table):
            if not isinstance(node.this, exp.Identifier):
                name = node.this.name if isinstance(node.this, exp.Func) else node.this.sql()
                if name.lower() not in TABLE_FUNCTIONS:
                    raise refused(f"the table function {name}", REACHES_OUT)
                continue
            parts = [part.name for part in node.parts]
            check_relation(parts, allowed | ctes)


def varies(statement: str) -> bool:
    """True when the statement's answer may change with nothing written: a random, clock
    or session function, or a sample; also when it cannot tell."""
    try:
        trees = [tree for tree in sqlglot.parse(statement, read="spark") if tree is not None]
    except SqlglotError:
        return True
    for tree in trees:
        for node in tree.walk():
            if isinstance(node, exp.TableSample):
                return True
            if isinstance(node, exp.Func) and _function_name(node).lower() in VARYING:
                return True
    return False


def _function_name(node: exp.Func) -> str:
    """A function's name: as written for one sqlglot does not know, sqlglot's own name for
    one it does (``now()`` is ``CURRENT_TIMESTAMP``)."""
    return node.name if isinstance(node, exp.Anonymous) else node.sql_name()


def check_function(name: str) -> None:
    """Refuse a function that reaches outside the data."""
    if name.lower() in CALLING_OUT:
        raise refused(f"{name.lower()} (a call into Java)", REACHES_OUT)


def check_relation(parts: list[str], allowed: Collection[str]) -> None:
    """Refuse a relation that is not one of ``allowed``, named bare."""
    if len(parts) == 1 and parts[0].lower() in allowed:
        return
    name = ".".join(parts)
    raise ConfigError(
        f"query reads only the pipeline's tables, by their bare names: {name} is not one "
        f"of them ({', '.join(sorted(allowed))})"
    )


def _first_word(statement: str) -> str:
    match = _FIRST_WORD.match(statement)
    return match.group(1).upper() if match else ""


WRITES = "the pipeline alone writes its tables; `reset` rebuilds a layer"
REACHES_OUT = "it reaches outside the tables"


def refused(kind: str, why: str = WRITES) -> ConfigError:
    """The one-line refusal of a statement that is not a read."""
    return ConfigError(f"query is read-only: {kind or 'this statement'} is refused ({why})")
