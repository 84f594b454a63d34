"""Which local roots delta-rs may read: only names it keeps as they are."""

from __future__ import annotations

import pytest

from streaming.pipeline.checkpoints import delta_rs_reads, live_files


@pytest.mark.parametrize(
    "root", ["/tmp/lakehouse", "/home/me/My Projects/été 2026", "/data/a-b_c.d,e+f=g@h~i"]
)
def test_plain_names_letters_digits_and_spaces_are_read_with_delta_rs(root):
    assert delta_rs_reads(root)


@pytest.mark.parametrize("char", [*list("#?%[]\\\t:*{}'\"<>|!$&;()^`"), "\n"])
def test_any_other_character_sends_the_root_to_spark(char):
    assert not delta_rs_reads(f"/tmp/my{char}root/tables")


def test_live_files_are_read_from_the_newest_commits_checksum(tmp_path):
    log = tmp_path / "_delta_log"
    log.mkdir()
    (log / f"{0:020d}.json").write_text("{}\n")
    (log / f"{0:020d}.crc").write_text('{"numFiles": 3}')
    assert live_files(tmp_path) == 3
    # A newer commit without its checksum (a writer killed before writing it): unknown,
    # never the older count.
    (log / f"{1:020d}.json").write_text("{}\n")
    assert live_files(tmp_path) is None
    (log / f"{1:020d}.crc").write_text("not json")
    assert live_files(tmp_path) is None
    assert live_files(tmp_path / "no table") is None
