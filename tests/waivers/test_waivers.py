"""Waivers: active, expiring, expired, unused, wildcard, malformed — in every output."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from auditor.cli import main
from auditor.mail import compose
from auditor.results import RunResult
from tests.cli.test_run_cli import good_fleet

TODAY = date.today()
CID = "ACME0000000000000001"


def waiver(rule: str = "KEY004", company_id: str = CID, expires: date | str = TODAY + timedelta(days=60),
           environment: str | None = None, reason: str = "live keys rotate next week",
           approved_by: str = "head of payments", **extra: str) -> str:
    value = expires if isinstance(expires, str) else expires.isoformat()
    lines = ["[[waivers]]", f'rule = "{rule}"', f'company_id = "{company_id}"', f"expires = {value}",
             f'reason = "{reason}"', f'approved_by = "{approved_by}"']
    if environment:
        lines.append(f'environment = "{environment}"')
    lines += [f'{k} = "{v}"' for k, v in extra.items()]
    return "\n".join(lines) + "\n"


def run(tmp_path: Path, capsys, *waivers: str, formats: str = "table,json") -> tuple[int, str, str, dict]:
    """An offline audit whose only failure is KEY004: a test secret key on the live record."""
    config = tmp_path / "tenants.toml"
    if not config.exists():
        config = good_fleet(tmp_path, live_sk_mode="test")
    path = tmp_path / "waivers.toml"
    path.write_text("".join(waivers))
    out_dir = tmp_path / "out"
    code = main(["run", "--all-tenants", "--offline", "--config", str(config), "--waivers", str(path),
                 "--format", formats, "--output", str(out_dir)])
    out, err = capsys.readouterr()
    results = json.loads((out_dir / "results.json").read_text()) if (out_dir / "results.json").exists() else {}
    return code, out, err, results


def key004(results: dict) -> dict:
    live = next(r for r in results["records"] if r["environment"] == "live")
    return next(c for c in live["checks"] if c["rule"] == "KEY004")


def test_without_waiver_the_check_fails(tmp_path, capsys) -> None:
    code, _, _, results = run(tmp_path, capsys)
    assert code == 1 and key004(results)["status"] == "fail"


def test_active_waiver_waives_and_does_not_count(tmp_path, capsys) -> None:
    code, out, _, results = run(tmp_path, capsys, waiver())
    check = key004(results)
    assert code == 0
    assert check["status"] == "waived"
    assert check["waiver"]["reason"] == "live keys rotate next week"
    assert check["waiver"]["approved_by"] == "head of payments"
    assert results["summary"]["fail"] == 0
    assert "  waived   KEY004 secret-key-environment:" in out and "waived until" in out


def test_expired_waiver_has_no_effect_and_says_so(tmp_path, capsys) -> None:
    old = TODAY - timedelta(days=1)
    code, out, _, results = run(tmp_path, capsys, waiver(expires=old))
    assert code == 1 and key004(results)["status"] == "fail"
    assert f"expired on {old}" in out and "the check fails again" in out
    assert any(n["kind"] == "expired" for n in results["waiver_notices"])


def test_expiring_soon_is_a_reminder(tmp_path, capsys) -> None:
    soon = TODAY + timedelta(days=5)
    code, out, _, results = run(tmp_path, capsys, waiver(expires=soon))
    assert code == 0 and f"expires on {soon}, in 5 day(s)" in out
    assert [n["kind"] for n in results["waiver_notices"]] == ["expiring"]


def test_a_waiver_holds_through_its_expiry_date(tmp_path, capsys) -> None:
    code, _, _, results = run(tmp_path, capsys, waiver(expires=TODAY))
    assert code == 0 and key004(results)["status"] == "waived"
    assert [n["kind"] for n in results["waiver_notices"]] == ["expiring"]


@pytest.mark.parametrize(("days", "reminded"), [(14, True), (15, False), (60, False)])
def test_reminders_cover_the_next_14_days(tmp_path, capsys, days, reminded) -> None:
    code, _, _, results = run(tmp_path, capsys, waiver(expires=TODAY + timedelta(days=days)))
    assert code == 0 and key004(results)["status"] == "waived"
    assert ("expiring" in [n["kind"] for n in results["waiver_notices"]]) is reminded


def test_unused_waiver_is_listed(tmp_path, capsys) -> None:
    code, out, _, _results = run(tmp_path, capsys, waiver(), waiver(rule="WH006"))
    assert code == 0 and f"waiver WH006 for {CID} matched no failing check" in out


def test_wildcard_and_specific_beats_wildcard(tmp_path, capsys) -> None:
    code, _, _, results = run(tmp_path, capsys, waiver(company_id="*", reason="fleet-wide exception"))
    assert code == 0 and key004(results)["waiver"]["reason"] == "fleet-wide exception"
    code, _, _, results = run(tmp_path, capsys, waiver(company_id="*", reason="fleet-wide exception"),
                              waiver(reason="this tenant only"))
    assert key004(results)["waiver"]["reason"] == "this tenant only"


def test_environment_restricted_waiver(tmp_path, capsys) -> None:
    code, out, _, results = run(tmp_path, capsys, waiver(environment="stage"))
    assert code == 1 and key004(results)["status"] == "fail" and "unused" in out
    code, _, _, results = run(tmp_path, capsys, waiver(environment="live"))
    assert code == 0


def every_format(tmp_path: Path) -> dict[str, str]:
    """The text a reader sees in each output of the last run: table aside, html, pdf, junit, email text and HTML."""
    out = tmp_path / "out"
    result = RunResult.model_validate_json((out / "results.json").read_text())
    message = compose(result, None, "audit@plenigo.test", ["ops@plenigo.test"], None)
    flat = lambda text: " ".join(re.sub(r"<[^>]+>", " ", text).split())  # noqa: E731
    return {
        "html": flat((out / "report.html").read_text()),
        "pdf": " ".join(" ".join(page.extract_text().split()) for page in PdfReader(out / "report.pdf").pages),
        "junit": (out / "junit.xml").read_text(),
        "email text": " ".join(message.get_body(("plain",)).get_content().split()),
        "email html": flat(message.get_body(("html",)).get_content()),
    }


ALL_FORMATS = "table,json,html,pdf,junit"


def test_waived_checks_show_in_every_format(tmp_path, capsys) -> None:
    run(tmp_path, capsys, waiver(), formats=ALL_FORMATS)
    seen = every_format(tmp_path)
    for name in ("html", "pdf"):
        assert "Waived until" in seen[name] and "head of payments" in seen[name], name
        assert "live keys rotate next week" in seen[name], name
    assert 'skipped message="waived until' in seen["junit"]
    for name in ("email text", "email html"):
        assert "KEY004" in seen[name] and "waived" in seen[name].lower(), name


def test_expired_waiver_notice_in_every_format(tmp_path, capsys) -> None:
    old = TODAY - timedelta(days=1)
    _, out, _, _ = run(tmp_path, capsys, waiver(expires=old), formats=ALL_FORMATS)
    notice = f"expired on {old}"
    assert notice in out
    seen = every_format(tmp_path)
    for name in ("html", "pdf", "email text", "email html"):
        assert notice in seen[name], name
    assert "<failure" in seen["junit"] and "KEY004" in seen["junit"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (waiver(rule="WH999"), "waivers[0] (WH999 for ACME0000000000000001): rule: unknown rule 'WH999'"),
        (waiver(expires='"2026-12-01"'), "expires: expires must be a TOML date without quotes"),
        (waiver(expires="2026-13-01"), "not valid TOML"),
        (waiver(reason=""), "reason: must not be empty"),
        (waiver().replace('approved_by = "head of payments"\n', ""), "approved_by: required field is missing"),
        (waiver().replace("expires =", "expiry ="), "expires: required field is missing"),
        (waiver(owner="x"), "owner: unknown key"),
        (waiver(environment="prod"), "environment: Input should be 'stage' or 'live'"),
        (waiver(expires="2026-12-01T10:00:00"), "TOML date without quotes"),
    ],
)
def test_malformed_waivers_stop_the_run(tmp_path, capsys, text, words) -> None:
    code, _out, err, results = run(tmp_path, capsys, text)
    assert code == 2
    assert words in err and "waivers.toml" in err
    assert results == {} and "Traceback" not in err
