"""Start-up: a subcommand's module is imported only when it runs, so `audit --help` loads no heavy library."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest

from auditor.cli import COMMANDS, cli, main

HEAVY = ("stripe", "pydantic", "jinja2", "weasyprint", "requests")


def modules_loaded_by(argv: list[str]) -> list[str]:
    """The heavy top-level packages a fresh interpreter has imported after running ``audit *argv``."""
    code = ("import json, sys\n"
            "from auditor.cli import main\n"
            f"code = main({argv!r})\n"
            f"print(json.dumps([code, sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    exit_code, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert exit_code == 0, done.stderr
    return loaded


@pytest.mark.parametrize("argv", [["--help"], ["--version"]])
def test_help_and_version_import_no_heavy_library(argv) -> None:
    assert modules_loaded_by(argv) == []


def test_a_commands_own_help_loads_only_what_it_needs() -> None:
    assert "stripe" not in modules_loaded_by(["rules", "--help"])


def test_every_summary_in_the_list_is_the_commands_own() -> None:
    """The list `audit --help` shows without importing must say what each command's docstring says."""
    ctx = click.Context(cli)
    for name, (_, summary) in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name
        assert command.get_short_help_str(limit=10_000) == summary, name


def test_the_list_is_the_same_before_and_after_the_commands_are_loaded(capsys) -> None:
    main(["--help"])
    before = capsys.readouterr().out
    ctx = click.Context(cli)
    for name in COMMANDS:
        cli.get_command(ctx, name)
    main(["--help"])
    assert capsys.readouterr().out == before and "checklist  Walk the setup guide" in before


def test_an_unknown_command_is_still_a_usage_error(capsys) -> None:
    assert main(["rnu"]) == 2
    assert "No such command 'rnu'" in capsys.readouterr().err
