"""The one-shot peer: orjson over every file, gold in plain Python, written with delta-rs."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import orjson
import pyarrow as pa
from deltalake import write_deltalake

from producers.landing import landed_files
from tests.invariants import clean_result


def peer_gold(landing: Path, table_path: Path) -> tuple[dict[tuple[int, str], int], float]:
    """Gold from scratch over all landed files, written to a Delta table; (gold, seconds)."""
    start = time.perf_counter()
    newest: dict[str, tuple[str, str, tuple[int, str]]] = {}
    for path in landed_files(landing):
        try:
            envelope = orjson.loads(path.read_bytes())
            fetched_at = datetime.fromisoformat(envelope["fetched_at"].replace("Z", "+00:00"))
            results = envelope["response"].get("Search") or []
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError):
            continue
        stamp = fetched_at.isoformat()
        for result in results:
            row = clean_result(result)
            if row is None:
                continue
            key = (stamp, str(path))
            previous = newest.get(row["imdb_id"])
            if previous is None or key > previous[:2]:
                newest[row["imdb_id"]] = (*key, (row["release_year"], row["media_type"]))
    gold = Counter(value[2] for value in newest.values())
    table = pa.table(
        {
            "release_year": pa.array([k[0] for k in gold], pa.int32()),
            "media_type": pa.array([k[1] for k in gold], pa.string()),
            "total_releases": pa.array(list(gold.values()), pa.int64()),
        }
    )
    write_deltalake(str(table_path), table, mode="overwrite")
    return dict(gold), time.perf_counter() - start
