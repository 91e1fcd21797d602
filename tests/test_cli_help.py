"""Every command documents itself: non-empty help text, and `--help` works without a store or a model."""

from __future__ import annotations

import click
import pytest
from helpers import run_cli

from cqc_assistant.cli import cli

COMMANDS = sorted(cli.commands)


def test_there_are_commands() -> None:
    assert {"ingest", "docs", "show", "remove"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help_text(name: str) -> None:
    command: click.Command = cli.commands[name]
    assert (command.help or "").strip(), f"`{name}` has no help text"
    for param in command.params:
        if isinstance(param, click.Option):
            assert (param.help or "").strip(), f"`{name} {param.opts[0]}` has no help text"


@pytest.mark.parametrize("name", COMMANDS)
def test_help_exits_zero(name: str) -> None:
    result = run_cli(name, "--help")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: cli {name} ")
    first_line = (cli.commands[name].help or "").strip().splitlines()[0]
    assert " ".join(first_line.split()) in " ".join(result.output.split())


def test_group_help_lists_every_command() -> None:
    result = run_cli("--help")
    assert result.exit_code == 0
    for name in COMMANDS:
        assert f"  {name}" in result.output
