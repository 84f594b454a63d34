"""Telling a committed local Delta table from a folder that is not one, without Spark."""

from __future__ import annotations

from streaming.pipeline.checkpoints import has_commits


def test_a_folder_without_a_delta_log_has_no_commits(tmp_path):
    assert not has_commits(tmp_path / "missing")
    assert not has_commits(tmp_path)


def test_an_empty_delta_log_has_no_commits(tmp_path):
    (tmp_path / "_delta_log").mkdir()
    (tmp_path / "_delta_log" / ".00000000000000000000.json.crc").write_text("")
    assert not has_commits(tmp_path)


def test_a_commit_or_a_checkpoint_counts(tmp_path):
    log = tmp_path / "_delta_log"
    log.mkdir()
    (log / "00000000000000000000.json").write_text("{}")
    assert has_commits(tmp_path)

    (log / "00000000000000000000.json").unlink()  # cleaned up after a checkpoint
    (log / "00000000000000000010.checkpoint.parquet").write_bytes(b"")
    assert has_commits(tmp_path)
