"""DESIGN.md's invariants, checked against a ground truth computed in plain Python.

The expected silver, gold and quarantine are derived here from the landed files
without Spark, so a bug shared by the pipeline's transforms cannot hide itself.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from deltalake import DeltaTable
from pyspark.sql import SparkSession

from checkpoints_config import PipelineConfig
from producers.landing import landed_files
from streaming.pipeline.archive import archived_pages
from streaming.pipeline.checkpoints import delta_rs_reads, has_commits, local_table_version
from streaming.pipeline.tables import read_table
from streaming.read.delta_rs_tables import select

_YEAR = re.compile(r"^\s*(\d{4})(?:\s*[\u2013-]\s*(\d{4})?)?")
_IMDB = re.compile(r"^tt\d{7,}$")
SILVER_COLUMNS = ("imdb_id", "movie_title", "release_year", "end_year", "media_type")
TYPES = {"movie", "series", "episode", "game"}


@dataclass
class Truth:
    silver: dict[str, dict] = field(default_factory=dict)
    failed_records: int = 0
    corrupt_pages: int = 0

    @property
    def gold(self) -> dict[tuple[int, str], int]:
        return dict(
            Counter((row["release_year"], row["media_type"]) for row in self.silver.values())
        )


def clean_result(result: dict) -> dict | None:
    """A search result cleaned by the silver rules, or None when it fails one."""
    title = (result.get("Title") or "").strip(" ")
    imdb_id = result.get("imdbID")
    kind = (result.get("Type") or "").strip(" ").lower()
    year = _YEAR.match(result.get("Year") or "")
    if not title or not imdb_id or not _IMDB.match(imdb_id) or kind not in TYPES or not year:
        return None
    return {
        "imdb_id": imdb_id,
        "movie_title": title,
        "release_year": int(year.group(1)),
        "end_year": int(year.group(2)) if year.group(2) else None,
        "media_type": kind,
    }


def _trusted_until() -> datetime:
    """The latest ``fetched_at`` bronze trusts: its ingestion time (at most now) plus the skew."""
    return datetime.now(timezone.utc) + timedelta(minutes=5)


def every_page(config: PipelineConfig) -> list[tuple[Path, Path]]:
    """(where it is now, where it landed) for every page, live or archived."""
    live = [(path, path) for path in landed_files(config.landing_path)]
    return live + [(page.path, page.landed) for page in archived_pages(config)]


def page_bytes(config: PipelineConfig) -> list[tuple[Path, bytes]]:
    """Every page's bytes, with where it landed; listed again when a running bronze
    archives a page between the listing and its read."""
    for _ in range(20):
        try:
            return [(landed, path.read_bytes()) for path, landed in every_page(config)]
        except FileNotFoundError:
            continue
    raise AssertionError(f"pages of {config.landing_path} kept moving while read")


def read_pages(config: PipelineConfig) -> Iterator[tuple[Path, datetime, list[dict]] | None]:
    """Every page as (where it landed, fetched_at, results), None for one bronze marks
    corrupt."""
    for landed, data in page_bytes(config):
        try:
            envelope = json.loads(data.decode("utf-8"))  # not UTF-8: a ValueError
            fetched_at = datetime.fromisoformat(envelope["fetched_at"].replace("Z", "+00:00"))
            response = envelope["response"]
            results = response.get("Search") or []
        except (ValueError, KeyError, TypeError, AttributeError):
            yield None
            continue
        trusted = envelope.get("source") and envelope.get("endpoint")
        trusted = trusted and fetched_at <= _trusted_until()
        yield (landed, fetched_at, results) if trusted else None


def ground_truth(config: PipelineConfig) -> Truth:
    """What the tables must hold after every landed file has flowed through."""
    truth = Truth()
    newest: dict[str, tuple[str, str]] = {}
    for page in read_pages(config):
        if page is None:
            truth.corrupt_pages += 1
            continue
        landed, fetched_at, results = page
        for result in results:
            row = clean_result(result)
            if row is None:
                truth.failed_records += 1
                continue
            order = (fetched_at.isoformat(), str(landed))
            if row["imdb_id"] not in newest or order > newest[row["imdb_id"]]:
                newest[row["imdb_id"]] = order
                truth.silver[row["imdb_id"]] = row
    return truth


def titles_by_fetch(config: PipelineConfig) -> dict[datetime, int]:
    """Gold's total (distinct valid titles) once each page is counted, by the page's
    ``fetched_at``, pages counted in the order they were fetched; corrupt pages are left out."""
    pages = sorted(
        (page for page in read_pages(config) if page is not None),
        key=lambda page: (page[1], str(page[0])),
    )
    seen: set[str] = set()
    totals = {}
    for _, fetched_at, results in pages:
        seen.update(row["imdb_id"] for row in map(clean_result, results) if row is not None)
        totals[fetched_at] = len(seen)
    return totals


def rows(config: PipelineConfig, key: str, columns: list[str]) -> list[dict]:
    """A local table's rows read with delta-rs, a reader independent of the pipeline's
    (with Spark under a root delta-rs cannot open)."""
    path = config.table(key).path
    if not has_commits(path):
        return []
    if not delta_rs_reads(path):
        spark = SparkSession.getActiveSession()
        return [r.asDict() for r in read_table(spark, config.table(key)).select(*columns).collect()]
    return delta_rs_rows(path, columns)


def delta_rs_rows(path: str, columns: list[str]) -> list[dict]:
    """A table's rows read with delta-rs's SQL, which applies deletion vectors (its
    pyarrow reader refuses a table that has them)."""
    names = ", ".join(f'"{c}"' for c in columns)
    rows = select(DeltaTable(path), f"SELECT {names} FROM t")
    return [dict(zip(columns, row, strict=True)) for row in rows]


def assert_invariants(config: PipelineConfig, extra_corrupt_pages: int = 0) -> Truth:
    """Silver = valid distinct titles; gold = GROUP BY over silver; failures quarantined.

    ``extra_corrupt_pages``: pages bronze read that landing no longer holds (a planted
    link read just before it was set aside).
    """
    truth = ground_truth(config)
    silver_rows = rows(config, "silver", list(SILVER_COLUMNS))
    ids = [row["imdb_id"] for row in silver_rows]
    assert len(ids) == len(set(ids)), "silver holds an imdb_id twice"
    assert {row["imdb_id"]: row for row in silver_rows} == truth.silver

    gold = gold_counts(config)
    assert gold == truth.gold
    assert all(count > 0 for count in gold.values())

    quarantined = [row["result_index"] for row in rows(config, "quarantine", ["result_index"])]
    assert sum(i is not None for i in quarantined) == truth.failed_records
    assert sum(i is None for i in quarantined) == truth.corrupt_pages + extra_corrupt_pages
    return truth


def gold_counts(config: PipelineConfig) -> dict[tuple[int, str], int]:
    """Gold as {(release_year, media_type): total_releases}."""
    return {
        (row["release_year"], row["media_type"]): row["total_releases"]
        for row in rows(config, "gold", ["release_year", "media_type", "total_releases"])
    }


def table_versions(config: PipelineConfig) -> dict[str, int | None]:
    """The current Delta version of every pipeline table, from its log."""
    return {ref.key: local_table_version(ref.path) for ref in config.all_tables()}


# Data files a commit added, by operation: appends and streaming appends, or MERGE.
_ADDED_FILES = ("numFiles", "numAddedFiles", "numTargetFilesAdded")


def files_per_commit(spark: SparkSession, config: PipelineConfig) -> dict[str, list[int]]:
    """Per table, the data files each commit of a batch added, oldest first: not CREATE,
    nor a compaction (auto compaction clusters silver's first MERGE files once)."""
    from streaming.pipeline.tables import history

    out = {}
    for ref in config.all_tables():
        commits = history(spark, ref).orderBy("version").collect()
        out[ref.key] = [
            next((int(metrics[k]) for k in _ADDED_FILES if k in metrics), 0)
            for operation, metrics in (
                (row["operation"], dict(row["operationMetrics"] or {})) for row in commits
            )
            if metrics and operation != "OPTIMIZE"
        ]
    return out


def commits_since(path: str, version: int | None) -> Iterator[tuple[str, int]]:
    """(operation, data files added) of each commit a table's log holds after ``version``
    (all when None), read from the log's files."""
    for commit in sorted(Path(path, "_delta_log").glob("*.json")):
        if version is not None and int(commit.stem) <= version:
            continue
        actions = [json.loads(line) for line in commit.read_text().splitlines()]
        operation = next(
            (a["commitInfo"].get("operation") for a in actions if "commitInfo" in a), "?"
        )
        yield operation, sum(1 for a in actions if "add" in a)


def operations_since(path: str, version: int | None) -> dict[str, int]:
    """How many commits of each operation a table's log holds after ``version``."""
    return dict(Counter(operation for operation, _ in commits_since(path, version)))
