"""Spark's own parse of a ``query`` statement, checked before Spark runs it.

``read_only.check_statement`` judges the statement with sqlglot; Spark then parses it with
its own grammar, and two parsers need not agree (where a comment ends, which words a
statement takes). So on a classic session the statement is parsed once more by Spark's
parser (``sessionState.sqlParser.parsePlan``: no analysis, nothing runs) and the plan is
walked: every node must be one a query is made of, every relation one of the pipeline's
tables, and no function may call Java. A Spark Connect client has no parser to ask; the
server's sessions have variable substitution off, and a Connect client holding the
server's token is its user anyway (docs/guarantees.md, "Who can reach what").
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from pyspark.sql import SparkSession

from streaming.read.read_only import (
    REACHES_OUT,
    TABLE_FUNCTIONS,
    check_function,
    check_relation,
    refused,
)

# The logical plan nodes a read parses into; anything else is refused (fail closed).
QUERY_NODES = frozenset(
    {
        "Aggregate",
        "Deduplicate",
        "Distinct",
        "Except",
        "Expand",
        "Filter",
        "Generate",
        "GlobalLimit",
        "Intersect",
        "Join",
        "LateralJoin",
        "LocalLimit",
        "LocalRelation",
        "Offset",
        "OneRowRelation",
        "Pivot",
        "Project",
        "RelationTimeTravel",
        "Repartition",
        "RepartitionByExpression",
        "Sample",
        "Sort",
        "SubqueryAlias",
        "Tail",
        "Union",
        "UnresolvedHaving",
        "UnresolvedHint",
        "UnresolvedInlineTable",
        "UnresolvedRelation",
        "UnresolvedSubqueryColumnAliases",
        "UnresolvedTableValuedFunction",
        "UnresolvedTVFAliases",
        "UnresolvedWith",
        "Unpivot",
        "WithWindowDefinition",
    }
)
# Statements that describe a table and read nothing else; their relations are checked.
DESCRIBING = frozenset(
    {
        "DescribeRelation",
        "DescribeColumn",
        "DescribeDeltaDetailCommand",
        "DescribeDeltaHistory",
        "ShowColumns",
        "ShowTableProperties",
        "ShowTables",
    }
)
RELATION_LEAVES = frozenset(
    {"UnresolvedRelation", "UnresolvedTable", "UnresolvedTableOrView", "UnresolvedView"}
)
SUBQUERIES = frozenset({"ScalarSubquery", "ListQuery", "Exists", "LateralSubquery"})
SCRIPT_NODES = frozenset({"ScriptTransformation", "ScriptInputOutputSchema"})


def check_spark_parse(spark: SparkSession, statement: str, tables: Collection[str]) -> None:
    """Refuse a statement whose parse by ``spark`` is not a read of ``tables``.

    Classic sessions only (a Spark Connect client cannot reach the parser); a statement
    Spark cannot parse is left to ``spark.sql``, which then refuses it without running it.

    Raises:
        ConfigError: a node, relation or function that is not a read of ``tables``.
    """
    jsession = getattr(spark, "_jsparkSession", None)
    if jsession is None:
        return
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    try:
        plan = jsession.sessionState().sqlParser().parsePlan(statement)
    except (Py4JJavaError, PySparkException):
        return
    _check_root(plan, {name.lower() for name in tables})


def _check_root(plan: Any, allowed: set[str]) -> None:
    name = _name(plan)
    if name == "ExplainCommand":
        _check_root(plan.logicalPlan(), allowed)
    elif name in DESCRIBING:
        for node, node_name, _ in _walk(plan):
            if node is not plan and node_name in RELATION_LEAVES:
                check_relation(list(_seq(node.multipartIdentifier())), allowed)
    else:
        _check_query(plan, allowed)


def _check_query(plan: Any, allowed: set[str]) -> None:
    walked = list(_walk(plan))  # once: every step is a call into the JVM
    ctes = {
        relation._1().lower()
        for node, name, _ in walked
        if name == "UnresolvedWith"
        for relation in _seq(node.cteRelations())
    }
    for node, name, expressions in walked:
        if name in SCRIPT_NODES:
            raise refused("TRANSFORM … USING (a script)", REACHES_OUT)
        if name not in QUERY_NODES:
            raise refused(name)
        if name in RELATION_LEAVES:
            check_relation(list(_seq(node.multipartIdentifier())), allowed | ctes)
        if name == "UnresolvedTableValuedFunction":
            function = ".".join(_seq(node.name()))
            if function.lower() not in TABLE_FUNCTIONS:
                raise refused(f"the table function {function}", REACHES_OUT)
        for part, part_name in expressions:
            if part_name == "UnresolvedFunction":
                check_function(".".join(_seq(part.nameParts())))


def _walk(plan: Any) -> Iterator[tuple[Any, str, list[tuple[Any, str]]]]:
    """(node, its class name, every expression in it with its name) for the plan and every
    plan below it: children, subqueries and CTE definitions."""
    todo = [plan]
    while todo:
        node = todo.pop()
        expressions = [
            (part, _name(part))
            for expression in _seq(node.expressions())
            for part in _tree(expression)
        ]
        yield node, _name(node), expressions
        todo += _seq(node.children())
        todo += _seq(node.innerChildren())
        todo += [part.plan() for part, name in expressions if name in SUBQUERIES]


def _tree(expression: Any) -> Iterator[Any]:
    todo = [expression]
    while todo:
        node = todo.pop()
        yield node
        todo += _seq(node.children())


def _name(node: Any) -> str:
    return node.getClass().getSimpleName().rstrip("$")


def _seq(scala_seq: Any) -> list[Any]:
    return [scala_seq.apply(i) for i in range(scala_seq.size())]
