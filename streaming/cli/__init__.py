"""``omdb-lakehouse``: one module per command; ``app`` builds the parser from them.

``options`` declares what several commands share; ``access`` decides how a command
reaches the tables (a running ``serve``, delta-rs, or Spark).
"""

from streaming.cli.app import COMMANDS, JobFailed, build_parser, job_main, main

__all__ = ["COMMANDS", "JobFailed", "build_parser", "job_main", "main"]
