"""The one exception type the command line turns into a one-line message."""


class LakehouseError(Exception):
    """A failure the user can act on; its message is shown as is, without a traceback."""


def first_line(error: BaseException) -> str:
    """The gist of an error: its first non-empty line (Spark's carry a JVM stack after it)."""
    text = getattr(error, "desc", None) or str(error)
    return next((line.strip() for line in text.splitlines() if line.strip()), type(error).__name__)
