"""Which local roots delta-rs may read: only names it keeps as they are."""

from __future__ import annotations

import pytest

from streaming.pipeline.checkpoints import delta_rs_reads


@pytest.mark.parametrize(
    "root", ["/tmp/lakehouse", "/home/me/My Projects/été 2026", "/data/a-b_c.d,e+f=g@h~i"]
)
def test_plain_names_letters_digits_and_spaces_are_read_with_delta_rs(root):
    assert delta_rs_reads(root)


@pytest.mark.parametrize("char", [*list("#?%[]\\\t:*{}'\"<>|!$&;()^`"), "\n"])
def test_any_other_character_sends_the_root_to_spark(char):
    assert not delta_rs_reads(f"/tmp/my{char}root/tables")
