"""A stream's failure told in one line that says why."""

from __future__ import annotations

from streaming.errors import failure_gist

# What a foreachBatch failure looks like from the listener: the JVM's wrapper, the Python
# traceback the batch raised, and the Delta error it carried (shortened here).
FOREACH_BATCH_FAILURE = """\
org.apache.spark.sql.execution.streaming.sources.ForeachBatchUserFuncException: \
[FOREACH_BATCH_USER_FUNCTION_ERROR] An error occurred in the user provided function in \
foreach batch sink. Reason: An exception was raised by the Python Proxy. Return Message: \
Traceback (most recent call last):
  File "/site-packages/py4j/clientserver.py", line 644, in _call_proxy
    return_value = getattr(self.pool[obj_id], method)(*params)
  File "/streaming/pipeline/writers.py", line 152, in merge_changes
    spark.sql(merge_sql(ref.sql_name, view))
py4j.protocol.Py4JJavaError: An error occurred while calling o4280.sql.
: org.apache.spark.sql.delta.DeltaUnsupportedTableFeatureException: \
[DELTA_UNSUPPORTED_FEATURES_FOR_WRITE] Unsupported Delta write feature: aNewerFeature.
\tat org.apache.spark.sql.delta.DeltaErrorsBase.unsupported(DeltaErrors.scala:2726)
"""


def test_a_foreach_batch_failure_is_told_by_the_spark_error_it_carries():
    assert failure_gist(FOREACH_BATCH_FAILURE) == (
        "[DELTA_UNSUPPORTED_FEATURES_FOR_WRITE] Unsupported Delta write feature: aNewerFeature."
    )


def test_a_python_failure_is_told_by_what_it_raised():
    text = (
        "[FOREACH_BATCH_USER_FUNCTION_ERROR] An error occurred. Return Message: Traceback "
        '(most recent call last):\n  File "w.py", line 3, in f\n    raise ValueError(x)\n'
        "ValueError: a title without an id\n\tat org.apache.spark.Foo.bar(Foo.scala:1)\n"
    )
    assert failure_gist(text) == "ValueError: a title without an id"


def test_any_other_failure_is_its_first_line():
    assert failure_gist(RuntimeError("\n  the disk is full\nmore")) == "the disk is full"
    assert failure_gist("") == "unknown error"
