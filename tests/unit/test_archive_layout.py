"""Where an archived page came from, and putting it back: files only, no Spark."""

from __future__ import annotations

from pathlib import Path

from checkpoints_config import load_target, local
from streaming.pipeline.archive import archived_pages, restore_archive, source_options


def archive_as_spark_does(config, page: Path) -> Path:
    """Spark's file source keeps a page's absolute path below the archive folder."""
    moved = Path(config.archive_path, *page.absolute().parts[1:])
    moved.parent.mkdir(parents=True, exist_ok=True)
    page.rename(moved)
    return moved


def test_archived_pages_map_back_to_where_they_landed_and_reset_puts_them_there(tmp_path):
    config = local(tmp_path / "root [2026] é")
    landed = Path(config.landing_path, "star-wars", "all", "page-001--t--a.json")
    landed.parent.mkdir(parents=True)
    landed.write_bytes(b'{"page": 1}')
    moved = archive_as_spark_does(config, landed)
    # A layout relative to the source (another mover's) maps below the landing folder.
    other = Path(config.archive_path, "star-wars", "movie", "page-002--t--b.json")
    other.parent.mkdir(parents=True)
    other.write_bytes(b'{"page": 2}')

    pages = {(page.path, page.landed) for page in archived_pages(config)}
    assert pages == {
        (moved, landed),
        (other, Path(config.landing_path, "star-wars", "movie", "page-002--t--b.json")),
    }
    assert restore_archive(config) == 2
    assert landed.read_bytes() == b'{"page": 1}'
    assert archived_pages(config) == [] and list(Path(config.archive_path).iterdir()) == []
    assert restore_archive(config) == 0  # done twice: nothing more to do


def test_the_source_archives_locally_and_auto_loader_moves_on_databricks(tmp_path):
    config = local(tmp_path)
    assert source_options(config) == {
        "cleanSource": "archive",
        "sourceArchiveDir": config.archive_path,
    }
    remote = load_target("dev", catalog="main", schema="omdb")
    assert source_options(remote) == {
        "cloudFiles.cleanSource": "MOVE",
        "cloudFiles.cleanSource.moveDestination": "/Volumes/main/omdb/landing/archive",
        # Auto Loader's default leaves pages 30 days in the folder the job's trigger
        # watches; a day keeps it far below the trigger's 10,000 files.
        "cloudFiles.cleanSource.retentionDuration": "1 day",
    }
    # The archive is beside the landing folder, not below it: neither Auto Loader nor
    # the trigger, which watches the landing folder alone, sees a moved page again.
    assert not remote.archive_path.startswith(remote.landing_path.rstrip("/") + "/")


def test_an_archived_empty_file_is_no_page_yet_goes_back_on_reset(tmp_path):
    # Spark lists and archives a zero-byte file but reads no row from it.
    config = local(tmp_path / "root")
    empty = Path(config.landing_path, "t", "all", "page-001--t--empty.json")
    empty.parent.mkdir(parents=True)
    empty.touch()
    archive_as_spark_does(config, empty)
    assert archived_pages(config) == []
    assert restore_archive(config) == 1 and empty.is_file()
