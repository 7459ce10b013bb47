"""What the HTML and PDF reports show, derived once from a RunResult alone.

Templates stay dumb: this module assembles the counts, the verdict
(``verdict``), the worst-first matrix (``matrix``), the findings with their URL
differences (``findings``, ``url_diff``) and the changes since a previous run;
the evidence rows are in ``evidence_table``, the screen's markup in ``html_fragments``.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass

from auditor.changes import Changes, compare
from auditor.render.findings import RecordView, record_view
from auditor.render.matrix import ENVIRONMENTS, MatrixRow, matrix
from auditor.render.ranking import has_findings, ranks_of, worst_first
from auditor.render.triage import record_anchor, rule_anchor
from auditor.render.verdict import Verdict, verdict
from auditor.results import CheckStatus, RecordStatus, RunResult

STATUSES = tuple(s.value for s in RecordStatus)  # pass, fail, error
MODES = {
    "online": "asked Stripe (read-only)",
    "offline": "offline: Stripe not asked, Stripe rules skipped",
    "evidence": "re-audited from saved evidence",
}


@dataclass
class ReportView:
    run: RunResult
    by_status: dict[str, int]
    by_env: dict[str, dict[str, int]]
    checks_by_status: dict[str, int]
    top_rules: list[tuple[str, str, int]]
    matrix: list[MatrixRow]
    records: list[RecordView]
    changes: Changes | None
    mode_text: str

    @property
    def verdict(self) -> Verdict:
        return verdict(self.run)

    @property
    def checks_total(self) -> int:
        return sum(self.checks_by_status.values())

    @property
    def tenants(self) -> int:
        return len(self.matrix)

    @property
    def attention_rows(self) -> list[MatrixRow]:
        return [row for row in self.matrix if not row.clean]

    @property
    def clean_rows(self) -> list[MatrixRow]:
        return [row for row in self.matrix if row.clean]

    @property
    def clean_records(self) -> int:
        return len(self.run.records) - len(self.records)

    @functools.cached_property
    def anchors(self) -> frozenset[str]:
        """The ids report.html has for records and rules: a change links only where there is something to see
        (a resolved record that now passes has no findings, a rule that only errored no by-rule entry)."""
        records = {record_anchor(rv.record.company_id, rv.record.environment) for rv in self.records}
        return frozenset(records | {rule_anchor(rule) for rule in self.listed_rules})

    @functools.cached_property
    def listed_rules(self) -> frozenset[str]:
        """Rules that failed or were waived somewhere: the ones the by-rule view lists."""
        return frozenset(f.check.rule for rv in self.records for f in rv.findings)


def build_view(run: RunResult, previous: RunResult | None = None) -> ReportView:
    """The report's content, in the order it is shown."""
    by_status: Counter[str] = Counter()
    env_status: Counter[tuple[str, str]] = Counter()
    checks: Counter[str] = Counter()
    for record in run.records:  # one pass over a fleet's records and their checks
        status = record.status.value
        by_status[status] += 1
        env_status[(record.environment, status)] += 1
        checks.update(c.status.value for c in record.checks)
    envs = list(ENVIRONMENTS) + sorted({r.environment for r in run.records} - set(ENVIRONMENTS))
    ranks = ranks_of(run.records)
    return ReportView(
        run=run,
        by_status={s: by_status[s] for s in STATUSES},
        by_env={env: {s: env_status[(env, s)] for s in STATUSES} for env in envs},
        checks_by_status={s.value: checks[s.value] for s in CheckStatus},
        top_rules=top_failing_rules(run),
        matrix=matrix(run, ranks),
        records=[record_view(r) for r in worst_first(run.records, ranks) if has_findings(r)],
        changes=compare(previous, run) if previous is not None else None,
        mode_text=MODES.get(run.mode, run.mode),
    )


def top_failing_rules(run: RunResult, limit: int = 8) -> list[tuple[str, str, int]]:
    """(rule, slug, records failing it), most frequent first."""
    counts: Counter[tuple[str, str]] = Counter()
    for record in run.records:
        for check in record.checks:
            if check.status is CheckStatus.FAIL:
                counts[(check.rule, check.slug)] += 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0]))[:limit]
    return [(rule, slug, n) for (rule, slug), n in ranked]
