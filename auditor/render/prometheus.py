"""``metrics.prom``: the run as Prometheus metrics, for node_exporter's textfile collector.

Operations teams alert from Prometheus, and a batch job reaches it through a
textfile (or a Pushgateway). One file, every family grouped with its HELP and
TYPE, no duplicate series and no sample timestamps (the textfile collector
refuses them); the file is renamed into place, so the collector never reads half
of it. ``..._last_run_timestamp_seconds`` makes "the audit did not run" alertable.

Metrics (all gauges; see README "Metrics for alerting"):

- ``plenigo_stripe_audit_check_status{company_id,environment,rule,severity,status} 1`` per record and rule
- ``plenigo_stripe_audit_record_status{company_id,environment,tenant,status} 1`` per record
- ``plenigo_stripe_audit_records{environment,status}`` records by status
- ``plenigo_stripe_audit_checks{environment,severity,status}`` checks by severity and status
- ``plenigo_stripe_audit_run_duration_seconds``, ``plenigo_stripe_audit_last_run_timestamp_seconds``
- ``plenigo_stripe_audit_build_info{version,schema,mode} 1``
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from auditor.redact import scrub
from auditor.render.interface import RenderOptions
from auditor.results import CheckStatus, RecordStatus, RunResult, Severity

PREFIX = "plenigo_stripe_audit_"
Labels = tuple[tuple[str, str], ...]


class PrometheusRenderer:
    name = "prometheus"
    filename = "metrics.prom"

    def render(self, run: RunResult, options: RenderOptions) -> bytes:
        return scrub("".join(_lines(run))).encode("utf-8")


def _lines(run: RunResult) -> Iterator[str]:
    yield from _family("build_info", "The auditor that wrote this file; always 1.",
                       [((("version", run.tool_version), ("schema", run.schema_), ("mode", run.mode)), 1)])
    yield from _family("last_run_timestamp_seconds", "When the last completed audit run finished (Unix time).",
                       [((), run.generated_at.timestamp())])
    duration = getattr(run, "duration_seconds", None)
    if duration is not None:
        yield from _family("run_duration_seconds", "How long the last audit run took.", [((), duration)])
    yield from _family("records", "Audited records (a tenant's stage or live Stripe connection) by status.",
                       _record_counts(run))
    yield from _family("checks", "Checks by environment, severity and status.", _check_counts(run))
    yield from _family("record_status", "1 for each audited record, labelled with its status.",
                       [((("company_id", r.company_id), ("environment", r.environment), ("tenant", r.tenant),
                          ("status", r.status.value)), 1) for r in run.records])
    yield from _family("check_status", "1 for each record and rule, labelled with the check's status.",
                       [((("company_id", r.company_id), ("environment", r.environment), ("rule", c.rule),
                          ("severity", c.severity.value), ("status", c.status.value)), 1)
                        for r in run.records for c in r.checks])


def _environments(run: RunResult) -> list[str]:
    return sorted({r.environment for r in run.records})


def _record_counts(run: RunResult) -> list[tuple[Labels, float]]:
    """Every environment × status, zeros included, so an alert sees 0 instead of nothing."""
    counts = Counter((r.environment, r.status.value) for r in run.records)
    return [((("environment", env), ("status", s.value)), counts[(env, s.value)])
            for env in _environments(run) for s in RecordStatus]


def _check_counts(run: RunResult) -> list[tuple[Labels, float]]:
    counts = Counter((r.environment, c.severity.value, c.status.value) for r in run.records for c in r.checks)
    return [((("environment", env), ("severity", sev.value), ("status", st.value)), counts[(env, sev.value, st.value)])
            for env in _environments(run) for sev in Severity for st in CheckStatus]


def _family(name: str, help_text: str, samples: Iterable[tuple[Labels, float]]) -> Iterator[str]:
    """HELP, TYPE and the samples of one gauge; a label set seen twice is written once (no duplicate series)."""
    full = PREFIX + name
    yield f"# HELP {full} {_escape_help(help_text)}\n"
    yield f"# TYPE {full} gauge\n"
    seen: set[Labels] = set()
    for labels, value in samples:
        if labels in seen:
            continue
        seen.add(labels)
        rendered = ",".join(f'{key}="{_escape_label(val)}"' for key, val in labels)
        yield f"{full}{{{rendered}}} {_number(value)}\n" if rendered else f"{full} {_number(value)}\n"


def _escape_label(value: str) -> str:
    """The text format's label escapes: backslash, double quote, line feed."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
