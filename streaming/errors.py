"""The one exception type the command line turns into a one-line message, and its makers."""


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


def query_failed(error: BaseException, *, tables_exist: bool = True) -> LakehouseError:
    """An engine's rejection of a statement, as one line (with a hint when no table exists)."""
    hint = "" if tables_exist else " (no tables yet: run the pipeline first)"
    return LakehouseError(f"query failed: {first_line(error)}{hint}")
