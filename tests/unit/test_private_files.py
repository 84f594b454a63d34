"""What the pipeline keeps under <root>/state is its user's alone, and written safely."""

from __future__ import annotations

import os
import uuid

import pytest

from checkpoints_config import local
from producers.ledger import LocalFile, private_folder
from streaming.pipeline.lock import pipeline_lock


def test_a_private_file_is_0600_in_a_0700_folder(tmp_path):
    record = LocalFile(tmp_path / "state" / "serve.json", private=True)
    record.write("{}")
    assert (tmp_path / "state" / "serve.json").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "state").stat().st_mode & 0o777 == 0o700


def test_a_folder_made_open_before_is_closed(tmp_path):
    folder = tmp_path / "state"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    private_folder(folder)
    assert folder.stat().st_mode & 0o777 == 0o700


def test_a_write_never_goes_through_a_link_planted_at_its_temporary_name(tmp_path, monkeypatch):
    target = tmp_path / "victim.txt"
    target.write_text("untouched")
    path = tmp_path / "state" / "ledger.json"
    path.parent.mkdir()
    known = uuid.UUID(int=7)
    monkeypatch.setattr("producers.ledger.uuid.uuid4", lambda: known)  # a name guessed right
    (path.parent / f".{path.name}.{os.getpid()}.{known.hex[:8]}.tmp").symlink_to(target)
    with pytest.raises(FileExistsError):
        LocalFile(path).write("new")
    assert target.read_text() == "untouched" and not path.exists()


def test_a_link_at_the_file_s_own_name_is_replaced_not_followed(tmp_path):
    target = tmp_path / "victim.txt"
    target.write_text("untouched")
    path = tmp_path / "serve.json"
    path.symlink_to(target)
    LocalFile(path, private=True).write("{}")
    assert target.read_text() == "untouched" and not path.is_symlink()


def test_the_writer_lock_is_the_user_s_alone(tmp_path):
    config = local(tmp_path)
    lock = tmp_path / "state" / "pipeline.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text("")
    lock.chmod(0o644)  # as a version before made it
    with pipeline_lock(config, "run"):
        assert lock.stat().st_mode & 0o777 == 0o600
        assert lock.parent.stat().st_mode & 0o777 == 0o700


def test_a_link_planted_as_the_lock_is_refused(tmp_path):
    config = local(tmp_path)
    (tmp_path / "state").mkdir(mode=0o700)
    (tmp_path / "state" / "pipeline.lock").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(Exception, match="cannot write under"), pipeline_lock(config, "run"):
        pass
    assert not (tmp_path / "elsewhere").exists()
