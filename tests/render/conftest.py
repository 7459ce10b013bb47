"""Runs to render: a small synthetic run with hostile text and a fake secret, and the sample fleet."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.results import RunResult
from tests.render import synthetic

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
HOSTILE_NAME = '<script>alert("tenant")</script> & Co'
HOSTILE_DESCRIPTION = '<script>alert("stripe")</script><img src=x onerror=alert(1)>'
SECRET = "sk_live_" + "".join(chr(ord("a") + i % 26) for i in range(24))  # built at run time, not a real key
SECRET_MASK = "sk_live_…" + SECRET[-4:]


def small_run() -> RunResult:
    """Five records: a URL difference (WH004), missing events (WH006), an error, a waiver, a clean pass."""
    s = synthetic
    hostile = s.record("HOSTILE0000000000001", HOSTILE_NAME, "live", "wrong_path")
    bergmann = s.record("BERGMANND1G1TAL00004", "Bergmann Digital GmbH", "live", "missing_events")
    endpoint = bergmann.evidence.webhook_endpoints[0]
    bergmann.evidence.webhook_endpoints[0] = endpoint.model_copy(update={"description": HOSTILE_DESCRIPTION})
    seeblick = s.record("SEEBL1CKSPORT0000008", "Seeblick Sport e.V.", "live", "error")
    kieler = s.record("K1ELERRUNDSCHAU00005", "Kieler Rundschau GmbH", "stage", "waived")
    leaky = s.record("LEAKY000000000000009", f"Leaky {SECRET} GmbH", "stage", "pass")
    leaky.checks[0].message = f"account ID read with {SECRET}"
    return s.run_of([hostile, bergmann, seeblick, kieler, leaky])


def sample_run() -> RunResult:
    """The bundled sample fleet, re-audited from its recorded evidence by the real engine."""
    from auditor.audit import AuditPlan, run_audit
    from auditor.collect.saved import SavedEvidenceSource
    from auditor.config import load_tenants

    tenants = load_tenants(SAMPLES / "tenants.toml")
    return run_audit(AuditPlan(tenants=tenants, config_path="samples/tenants.toml", mode="evidence"),
                     SavedEvidenceSource(SAMPLES / "evidence"))


@pytest.fixture(scope="session")
def run() -> RunResult:
    return small_run()
