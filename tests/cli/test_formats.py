"""One registry of formats (auditor.render.FORMATS): the commands offer what it says, named as it says."""

from __future__ import annotations

import pytest

from auditor.app.checklist import _RENDER
from auditor.cli import main
from auditor.commands.common import DEFAULT_FORMAT, parse_formats
from auditor.render import FORMATS, formats_for, get_renderer


@pytest.mark.parametrize("name", list(FORMATS))
def test_each_entry_names_its_renderer_and_file(name) -> None:
    renderer = get_renderer(name)
    assert renderer.name == name and renderer.filename == FORMATS[name].filename


def test_the_checklist_renders_every_format_it_offers() -> None:
    assert set(formats_for("checklist")) == set(_RENDER)
    for name in formats_for("checklist"):
        suffix = FORMATS[name].checklist_suffix
        assert suffix is None or suffix.startswith(".")


@pytest.mark.parametrize("command", ["run", "report", "checklist"])
def test_help_and_errors_list_the_registrys_formats(command, capsys) -> None:
    offered = ", ".join(formats_for(command))
    assert main([command, "--help"]) == 0
    assert " ".join(f"Output formats: {offered}.".split()) in " ".join(capsys.readouterr().out.split())
    args = {"run": ["--all-tenants"], "report": ["results.json"], "checklist": ["--tenant", "X", "--env", "live"]}
    assert main([command, *args[command], "--format", "nope"]) == 2
    assert f"unknown format 'nope' (choose from {offered})" in capsys.readouterr().err


def test_what_each_command_offers() -> None:
    """Today's choices, kept (a new format is one more registry entry)."""
    assert formats_for("run") == ("table", "json", "html", "pdf", "junit", "csv", "prometheus")
    assert set(formats_for("report")) == {"html", "pdf", "junit", "json", "table", "prometheus"}
    assert set(formats_for("checklist")) == {"table", "html", "pdf", "json"}


@pytest.mark.parametrize(("command", "default"), [("run", "table"), ("report", "html"), ("checklist", "table")])
@pytest.mark.parametrize("given", ["", ",", " , "])
def test_an_empty_format_list_means_the_commands_own_default(command, default, given) -> None:
    """``audit report r.json --format ""`` writes report.html, as before the registry (not the registry's first)."""
    assert parse_formats([given], command) == (default,)


def test_help_shows_the_default_that_an_empty_list_gets(capsys) -> None:
    for command, default in DEFAULT_FORMAT.items():
        assert main([command, "--help"]) == 0
        assert f"[default: {default}]" in capsys.readouterr().out
