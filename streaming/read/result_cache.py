"""Answers remembered by (statement, table versions), bounded by their size in bytes.

``serve`` answers the same statement over the same table versions from memory, as a SQL
warehouse's result cache does. The cache holds at most ``max_bytes`` of encoded answers
(the oldest used go first); an answer larger than a quarter of it is not kept.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


class ResultCache:
    """A least-recently-used map of answers, bounded by bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[Hashable, tuple[dict[str, Any], int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> dict[str, Any] | None:
        with self._lock:
            if key not in self._entries:
                return None
            self._entries.move_to_end(key)
            return self._entries[key][0]

    def put(self, key: Hashable, answer: dict[str, Any]) -> None:
        size = len(json.dumps(answer, ensure_ascii=False).encode())
        if size > self.max_bytes // 4:
            return
        with self._lock:
            if key in self._entries:
                self.bytes -= self._entries.pop(key)[1]
            self._entries[key] = (answer, size)
            self.bytes += size
            while self.bytes > self.max_bytes:
                self.bytes -= self._entries.popitem(last=False)[1][1]

    def __len__(self) -> int:
        return len(self._entries)
