"""The tenants × environments matrix: one row per tenant, one cell per environment, worst first."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.render.ranking import RecordRank, record_rank
from auditor.render.rule_order import rule_ranges
from auditor.results import CheckStatus, RecordResult, RunResult, Severity

ENVIRONMENTS = ("stage", "live")


@dataclass
class Cell:
    """One record in the matrix: its status and the rules that failed or errored."""

    status: str
    failing: list[str]
    info: list[str]
    errors: list[str]
    waived: list[str]

    @property
    def rules(self) -> str:
        """Errored and failed rules, compactly (``WH002–009``)."""
        return ", ".join(p for p in (rule_ranges(self.errors), rule_ranges(self.failing)) if p)

    @property
    def mixed(self) -> bool:
        return bool(self.errors and self.failing)

    @property
    def has_findings(self) -> bool:
        """The record has a section in the findings (the matrix links to it)."""
        return self.status != "pass" or bool(self.failing or self.info or self.errors or self.waived)


@dataclass
class MatrixRow:
    company_id: str
    tenant: str
    cells: dict[str, Cell | None]
    rank: RecordRank | tuple[()]

    @property
    def clean(self) -> bool:
        """Every record of the tenant passed, with no finding of any kind."""
        return all(c is None or (c.status == "pass" and not (c.failing or c.info or c.errors or c.waived))
                   for c in self.cells.values())

    @property
    def environments(self) -> list[str]:
        return [env for env, cell in self.cells.items() if cell is not None]


def _cell(record: RecordResult) -> Cell:
    cell = Cell(status=record.status.value, failing=[], info=[], errors=[], waived=[])
    for check in record.checks:  # one pass: a fleet's matrix has some 2,000 cells of 25 checks each
        status = check.status
        if status is CheckStatus.FAIL:
            (cell.info if check.severity is Severity.INFO else cell.failing).append(check.rule)
        elif status is CheckStatus.ERROR:
            cell.errors.append(check.rule)
        elif status is CheckStatus.WAIVED:
            cell.waived.append(check.rule)
    return cell


def matrix(run: RunResult, known: dict[int, RecordRank] | None = None) -> list[MatrixRow]:
    """One row per tenant, one cell per environment; worst first."""
    rows: dict[str, MatrixRow] = {}
    ranks: dict[str, list[RecordRank]] = {}
    for record in run.records:
        row = rows.setdefault(record.company_id, MatrixRow(record.company_id, record.tenant,
                                                           {e: None for e in ENVIRONMENTS}, ()))
        row.cells[record.environment] = _cell(record)
        ranks.setdefault(record.company_id, []).append((known or {}).get(id(record)) or record_rank(record))
    for company_id, row in rows.items():
        row.rank = min(ranks[company_id])
    return sorted(rows.values(), key=lambda r: (r.rank, r.tenant.casefold(), r.company_id))
