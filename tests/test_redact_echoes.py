"""Transformed echoes of a secret: percent-encoded (as a URL carries it) and upper-cased, for Stripe-shaped
secrets and for secrets only the tenant file knows. Reversed or otherwise rewritten echoes are not promised."""

from __future__ import annotations

from urllib.parse import quote, quote_plus

import pytest

from auditor.evidence import RecordEvidence, WebhookEndpoint
from auditor.redact import register_secret, scrub, scrub_model
from auditor.render import RenderOptions
from auditor.render.spreadsheet import CsvRenderer
from auditor.results import RunResult
from tests.render.synthetic import record

KEY = "sk_live_51EchoKey" + "Ab9Cd8Ef7" * 4
IRREGULAR = "pa ss&wörd_Echo/42"  # not Stripe-shaped: found only because it was registered


def _forms(secret: str) -> list[str]:
    percent = quote(secret, safe="")
    return [secret.upper(), secret.lower(), percent, percent.replace("_", "%5F"), percent.replace("_", "%5f"),
            quote(secret), quote_plus(secret), secret.replace("_", "%5F").upper()]


@pytest.mark.parametrize("secret", [KEY, IRREGULAR], ids=["stripe-shaped", "irregular"])
def test_percent_encoded_and_case_changed_echoes_are_scrubbed(secret) -> None:
    register_secret(secret)
    for form in _forms(secret):
        text = scrub(f"https://example.com/hook?k={form}&x=1")
        assert form not in text and "https://example.com/hook?k=" in text, form


def test_stripe_shaped_key_with_encoded_underscores_is_caught_without_registering() -> None:
    unknown = "rk_test_51NeverRegistered" + "Q" * 20
    for form in (unknown.replace("_", "%5F"), unknown.upper(), unknown.replace("_", "%5f").upper()):
        assert "Q" * 20 not in scrub(f"see {form} here")


def test_evidence_is_scrubbed_in_every_string_field() -> None:
    register_secret(KEY)
    evidence = RecordEvidence(company_id="ECHO1", environment="live", webhook_endpoints=[
        WebhookEndpoint(id="we_1", url=f"https://x.example/{quote(KEY, safe='')}", status="enabled",
                        enabled_events=[KEY.upper()], description=f"key {KEY}")])
    dumped = scrub_model(evidence).model_dump_json()
    assert "Ab9Cd8Ef7" not in dumped.replace("%5F", "_") and "AB9CD8EF7" not in dumped
    assert "https://x.example/" in dumped and "ECHO1" in dumped


def test_a_registered_secret_with_quotes_is_masked_in_results_csv() -> None:
    """The CSV writer doubles a cell's quotes ("" for "): that form is masked too (it was printed whole)."""
    secret = 'pl3nigo "odd" <vault> 9f2c'
    register_secret(secret)
    rec = record("CSVQUOTE000000000001", "Quote GmbH", "live", kind="wrong_path")
    check = next(c for c in rec.checks if c.message)
    rec.checks[rec.checks.index(check)] = check.model_copy(update={"message": f"found {secret} in the URL"})
    data = CsvRenderer().render(RunResult(records=[rec]), RenderOptions()).decode("utf-8-sig")
    assert '""odd""' not in data and "odd" not in data and "found " in data


def test_a_registered_secret_with_a_line_break_or_tab_is_masked_in_junit_xml() -> None:
    """ElementTree writes CR, LF and tab in an attribute as &#13;, &#10; and &#09;: that form is masked too (a
    tenant name or message echoing such a secret was printed whole in junit.xml's attributes)."""
    import xml.etree.ElementTree as ET

    from auditor.render.junit import JunitRenderer
    from tests.render.synthetic import record

    secret = 'v4ult "qz9"\r\nbr3ak\tand <tab> 7e1d'
    register_secret(secret)
    rec = record("JUNITCRLF00000000001", f"Name {secret} GmbH", "live", kind="wrong_path")
    check = next(c for c in rec.checks if c.status.value == "fail")
    rec.checks[rec.checks.index(check)] = check.model_copy(update={"message": f"found {secret} in the URL"})
    data = JunitRenderer().render(RunResult(records=[rec]), RenderOptions())
    ET.fromstring(data)  # well-formed
    text = data.decode("utf-8")
    assert "Name " in text and "found " in text
    assert "qz9" not in text and "br3ak" not in text and "v4ult" not in text


def test_a_registered_secret_with_control_characters_is_masked_as_the_terminal_shows_it() -> None:
    """The table shows a control character as an escape (\\x0d): that form of the secret is masked too."""
    from auditor.render.table import TableRenderer

    secret = "vault\r\nline\ttwo-9f2c"
    register_secret(secret)
    rec = record("CTRLSECRET0000000001", f"Name {secret} GmbH", "live", kind="wrong_path")
    shown = TableRenderer().render(RunResult(records=[rec]), RenderOptions()).decode("utf-8")
    assert "vault" not in shown and "line\\ttwo" not in shown and "CTRLSECRET0000000001" in shown
