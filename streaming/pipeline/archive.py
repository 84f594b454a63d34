"""Pages bronze has read leave the landing folder for the archive, byte for byte.

Bronze's source lists the whole landing folder at every trigger, so a folder that only
grows makes every trigger slower. Once a batch is committed and the next one planned,
the source itself moves that batch's pages to the archive: Spark's file source with
``cleanSource=archive`` locally, Auto Loader's ``cloudFiles.cleanSource=MOVE`` on
Databricks. A move is a rename: a page is in the landing folder or in the archive,
never in both and never changed. The pages of the last batch stay until the next one.

Spark keeps a page's absolute path below the archive (``<archive>/<absolute path>``),
so ``reset --stream bronze`` can put every page back where it landed, and bronze
rebuilds from them as from the first run.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from checkpoints_config import PipelineConfig

# How long Auto Loader leaves a page it has read in the landing folder (its default is
# 30 days). The job's file-arrival trigger watches that folder, which may hold at most
# 10,000 files without file events: a day keeps it to about a day's pages.
AUTO_LOADER_RETENTION = "1 day"


def source_options(config: PipelineConfig) -> dict[str, str]:
    """The options of bronze's source that archive what it has read."""
    if config.archive_path is None:
        return {}
    if config.use_auto_loader:
        return {
            "cloudFiles.cleanSource": "MOVE",
            "cloudFiles.cleanSource.moveDestination": config.archive_path,
            "cloudFiles.cleanSource.retentionDuration": AUTO_LOADER_RETENTION,
        }
    return {"cleanSource": "archive", "sourceArchiveDir": config.archive_path}


@dataclass(frozen=True)
class ArchivedPage:
    path: Path  # where it is now
    landed: Path  # where it landed, and where a reset puts it back


def archived_pages(config: PipelineConfig) -> list[ArchivedPage]:
    """Every page in the archive that bronze holds a row of, with where it landed; sorted
    by the latter. A zero-byte file, which the source lists and archives but reads no
    row from (as ``producers.landing.landed_files`` leaves it out), is not one."""
    return [page for page in _archived(config) if page.path.stat().st_size > 0]


def _archived(config: PipelineConfig) -> list[ArchivedPage]:
    """Every file in the archive, with where it landed."""
    if config.archive_path is None:
        return []
    archive, landing = Path(config.archive_path), Path(config.landing_path).absolute()
    pages = []
    for folder, _, names in os.walk(archive):
        for name in names:
            path = Path(folder, name)
            kept = path.relative_to(archive)
            landed = Path("/", kept)
            if not landed.is_relative_to(landing):
                # Not Spark's layout (or an older landing folder): keep it below this one.
                landed = landing / kept
            pages.append(ArchivedPage(path, landed))
    return sorted(pages, key=lambda page: page.landed)


def restore_archive(config: PipelineConfig) -> int:
    """Move every archived page back to where it landed; returns how many moved.

    Safe to repeat: a page already back is not in the archive any more. A page whose
    landed path is taken (it cannot be: names are unique) is left in the archive.
    """
    moved = 0
    for page in _archived(config):  # zero-byte files too: the landing folder as it was
        if page.landed.exists():
            continue
        page.landed.parent.mkdir(parents=True, exist_ok=True)
        os.rename(page.path, page.landed)
        moved += 1
    if config.archive_path is not None:
        _remove_empty_folders(Path(config.archive_path))
    return moved


def _remove_empty_folders(root: Path) -> None:
    for folder, _, _ in os.walk(root, topdown=False):
        if Path(folder) != root:
            with contextlib.suppress(OSError):  # not empty: it stays
                os.rmdir(folder)
