"""`--help` explains every command, without starting anything."""

from __future__ import annotations

import pytest

from streaming import cli


def help_of(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*argv, "--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def test_the_top_level_help_lists_every_command_with_what_it_does(capsys):
    listed = {
        line.split()[0]: line.split(maxsplit=1)[1]
        for line in help_of(capsys).splitlines()
        if line.startswith("    ") and len(line.split()) > 1
    }
    assert set(listed) == set(cli.COMMANDS)
    assert listed["query"] == "run read-only SQL over the tables"


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_each_command_has_its_own_help_with_the_root_option(capsys, command):
    out = help_of(capsys, command)
    assert out.startswith(f"usage: omdb-lakehouse {command}")
    assert "--root" in out and len(out.splitlines()) > 8
