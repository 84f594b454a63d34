"""DESIGN.md's invariants, checked against a ground truth computed in plain Python.

The expected silver, gold and quarantine are derived here from the landed files
without Spark, so a bug shared by the pipeline's transforms cannot hide itself.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pyspark.sql import SparkSession

from checkpoints_config import PipelineConfig
from producers.landing import landed_files
from streaming.tables import read_table

_YEAR = re.compile(r"^\s*(\d{4})(?:\s*[\u2013-]\s*(\d{4})?)?")
_IMDB = re.compile(r"^tt\d{7,}$")
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


def ground_truth(landing_path: str | Path) -> Truth:
    """What the tables must hold after every landed file has flowed through."""
    truth = Truth()
    newest: dict[str, tuple[str, str]] = {}
    for path in landed_files(landing_path):
        try:
            envelope = json.loads(path.read_text("utf-8"))  # not UTF-8: a ValueError
            fetched_at = datetime.fromisoformat(envelope["fetched_at"].replace("Z", "+00:00"))
            response = envelope["response"]
            results = response.get("Search") or []
        except (ValueError, KeyError, TypeError, AttributeError):
            truth.corrupt_pages += 1
            continue
        well_formed = envelope.get("source") and envelope.get("endpoint")
        if not well_formed or fetched_at > _trusted_until():
            truth.corrupt_pages += 1
            continue
        for result in results:
            row = clean_result(result)
            if row is None:
                truth.failed_records += 1
                continue
            order = (fetched_at.isoformat(), str(path))
            if row["imdb_id"] not in newest or order > newest[row["imdb_id"]]:
                newest[row["imdb_id"]] = order
                truth.silver[row["imdb_id"]] = row
    return truth


def assert_invariants(spark: SparkSession, config: PipelineConfig) -> Truth:
    """Silver = valid distinct titles; gold = GROUP BY over silver; failures quarantined."""
    truth = ground_truth(config.landing_path)
    silver_rows = read_table(spark, config.table("silver")).collect()
    ids = [row.imdb_id for row in silver_rows]
    assert len(ids) == len(set(ids)), "silver holds an imdb_id twice"
    actual_silver = {
        row.imdb_id: {
            "imdb_id": row.imdb_id,
            "movie_title": row.movie_title,
            "release_year": row.release_year,
            "end_year": row.end_year,
            "media_type": row.media_type,
        }
        for row in silver_rows
    }
    assert actual_silver == truth.silver

    gold = gold_counts(spark, config)
    assert gold == truth.gold
    assert all(count > 0 for count in gold.values())

    quarantine = read_table(spark, config.table("quarantine"))
    assert quarantine.where("result_index IS NOT NULL").count() == truth.failed_records
    assert quarantine.where("result_index IS NULL").count() == truth.corrupt_pages
    return truth


def gold_counts(spark: SparkSession, config: PipelineConfig) -> dict[tuple[int, str], int]:
    """Gold as {(release_year, media_type): total_releases}."""
    rows = read_table(spark, config.table("gold")).collect()
    return {(row.release_year, row.media_type): row.total_releases for row in rows}


def table_versions(spark: SparkSession, config: PipelineConfig) -> dict[str, int]:
    """The current Delta version of every pipeline table."""
    from streaming.tables import table_version

    return {ref.key: table_version(spark, ref) for ref in config.all_tables()}


# Data files a commit added, by operation: appends and streaming appends, or MERGE.
_ADDED_FILES = ("numFiles", "numAddedFiles", "numTargetFilesAdded")


def files_per_commit(spark: SparkSession, config: PipelineConfig) -> dict[str, list[int]]:
    """Per table, the data files each commit after CREATE added, oldest first."""
    from streaming.tables import history

    out = {}
    for ref in config.all_tables():
        commits = history(spark, ref).orderBy("version").collect()
        out[ref.key] = [
            next((int(metrics[k]) for k in _ADDED_FILES if k in metrics), 0)
            for metrics in (dict(row["operationMetrics"] or {}) for row in commits)
            if metrics
        ]
    return out
