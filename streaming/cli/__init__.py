"""``omdb-lakehouse``: one module per command; ``app`` builds the parser from them.

``options`` declares what several commands share; ``access`` decides how a command
reaches the tables (a running ``serve``, delta-rs, or Spark).
"""

from streaming.cli.app import COMMANDS, build_parser, main

__all__ = ["COMMANDS", "build_parser", "main"]
