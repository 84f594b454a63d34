"""The one exception type the command line turns into a one-line message."""


class LakehouseError(Exception):
    """A failure the user can act on; its message is shown as is, without a traceback."""
