"""How much one statement may take of ``serve``: time, rows, bytes; and its result cache."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AnswerLimits:
    """Past each limit a statement is refused in one line (or cancelled, for time)."""

    statement_seconds: float = 300.0  # then its Spark jobs are cancelled
    max_rows: int = 100_000
    max_bytes: int = 64 * 2**20  # the answer as JSON
    cache_bytes: int = 64 * 2**20  # answers remembered, by (statement, table versions)

    def __post_init__(self) -> None:
        if not self.statement_seconds > 0 or self.max_rows < 1 or self.max_bytes < 1:
            raise ValueError(f"limits must be positive: {self}")
