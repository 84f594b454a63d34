"""The one exception type the command line turns into a one-line message, and its makers."""

import re


class LakehouseError(Exception):
    """A failure the user can act on; its message is shown as is, without a traceback."""

    exit_code = 1


class StoppedEarly(LakehouseError):
    """A run cut short by its source (OMDb refused the key, the request budget ran out):
    running the same command again resumes it."""

    exit_code = 3


def first_line(error: BaseException) -> str:
    """The gist of an error: its first non-empty line (Spark's carry a JVM stack after it)."""
    text = getattr(error, "desc", None) or str(error)
    return next((line.strip() for line in text.splitlines() if line.strip()), type(error).__name__)


# A Spark error's class, as its message starts: ``[DELTA_UNSUPPORTED_FEATURES_FOR_WRITE] …``.
_ERROR_CLASS = re.compile(r"\[([A-Z][A-Z0-9_.]+)\] ")
# Classes that only wrap the cause: a stream's, and foreachBatch's around a Python traceback.
_WRAPPERS = frozenset({"STREAM_FAILED", "FOREACH_BATCH_USER_FUNCTION_ERROR"})
_PYTHON_RAISE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception): ")


def failure_gist(error: BaseException | str) -> str:
    """Why a stream failed, in one line: the first Spark error class under the wrappers
    (a foreachBatch failure carries it inside a Python traceback inside a JVM stack), else
    the last exception its Python traceback raised, else the first line."""
    text = error if isinstance(error, str) else getattr(error, "desc", None) or str(error)
    lines = text.splitlines()
    for line in lines:
        found = _ERROR_CLASS.search(line)
        if found and found.group(1) not in _WRAPPERS:
            return line[found.start() :].strip()
    raised = [line for line in lines if _PYTHON_RAISE.match(line) and "Py4J" not in line]
    if raised:
        return raised[-1].strip()
    if isinstance(error, str):
        return next((line.strip() for line in lines if line.strip()), "unknown error")
    return first_line(error)


def query_failed(error: BaseException, *, tables_exist: bool = True) -> LakehouseError:
    """An engine's rejection of a statement, as one line (with a hint when no table exists)."""
    hint = "" if tables_exist else " (no tables yet: run the pipeline first)"
    return LakehouseError(f"query failed: {first_line(error)}{hint}")
