"""``audit checklist`` without the command line: one tenant's record against the setup guide, then a verdict."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.app.errors import UsageProblem
from auditor.app.inputs import SourceOptions, apply_waiver_entries, evidence_source, load_fleet, load_waiver_file
from auditor.app.output import Output
from auditor.app.startup import collector_off
from auditor.atomic import output_batch, write_bytes_atomic
from auditor.config import Environment, Tenant
from auditor.render import FORMATS
from auditor.rules.context import FleetIndex, Settings

if TYPE_CHECKING:
    from auditor.checklist import Checklist
    from auditor.collect.prefetch import Prefetched
    from auditor.results import RecordResult

# Only what is needed to ask Stripe is imported up front; the engine, the rule catalogue, the checklist
# and its renderers are imported while Stripe answers (auditor.collect.prefetch).


@dataclass(frozen=True)
class ChecklistOptions:
    """Everything ``audit checklist`` is asked to do; ``formats`` are names the checklist offers."""

    config: Path
    company_id: str
    environment: Environment
    formats: tuple[str, ...] = ("table",)
    output: Path = Path(".")
    source: SourceOptions = field(default_factory=SourceOptions)
    waivers_file: Path | None = None
    accept_waived: bool = False
    color: bool = False
    instructions: bool = False  # print the setup steps with this tenant's values instead, Stripe not asked


@dataclass(frozen=True)
class ChecklistOutcome:
    checklist: Checklist
    exit_code: int  # 0 READY (or the instructions printed), 1 NOT READY, 3 CANNOT CHECK


def check_formats(formats: tuple[str, ...]) -> None:
    """At most one format may go to standard output (table and json would be mixed there)."""
    to_stdout = [name for name in formats if FORMATS[name].checklist_suffix is None]
    if len(to_stdout) > 1:
        both = " and ".join(sorted(to_stdout, reverse=True))  # "table and json"
        raise UsageProblem(f"{both} both go to standard output: choose one", option="--format")


def run_checklist(options: ChecklistOptions, out: Output) -> ChecklistOutcome:
    """Audit the one record, judge it item by item and write the checklist in every chosen format."""
    with collector_off():  # one record: a person waits, and its garbage is bounded (auditor.app.startup)
        return _checklist(options, out)


def _checklist(options: ChecklistOptions, out: Output) -> ChecklistOutcome:
    check_formats(options.formats)
    options.source.check()
    settings = Settings()
    early = None if options.instructions else _early_reads(options, settings)
    fleet = load_fleet(options.config)
    waivers = load_waiver_file(options.waivers_file)
    tenant = _the_tenant(fleet, options)
    if options.instructions:
        return _instructions(tenant, options.environment, out)
    record = tenant.record(options.environment)
    result: RecordResult | None = None
    if record is not None:
        from auditor.collect.prefetch import prefetch

        source = early if early is not None and early.holds(tenant, record) else \
            prefetch(evidence_source(options.source, settings.delivery_window_days), tenant, record)
        from auditor.audit import audit_record  # imported while Stripe answers, as is the rest below
        from auditor.evaluate import rule_catalogue
        from auditor.results import RunResult

        rule_catalogue()  # the rule modules, loaded now rather than once the answer is in
        result = audit_record(tenant, record, source, FleetIndex.build(fleet), settings)
        apply_waiver_entries(RunResult(records=[result]), waivers)
    from auditor.checklist import build_checklist

    checklist = build_checklist(tenant, options.environment, result, accept_waived=options.accept_waived)
    with output_batch():  # the HTML and the PDF are put in place together, or neither
        _write(checklist, options, out)
    return ChecklistOutcome(checklist=checklist, exit_code=checklist.verdict.exit_code)


def _early_reads(options: ChecklistOptions, settings: Settings) -> Prefetched | None:
    """The record's reads begun before a large tenant file is loaded whole (``auditor.config.early_tenant``).

    The whole load still decides: a broken file stops the command as always (these answers are dropped),
    and the answers are used only for the very record the whole load gives (:meth:`Prefetched.holds`).
    """
    from auditor.config import early_tenant

    tenant = early_tenant(options.config, options.company_id)
    record = tenant.record(options.environment) if tenant is not None else None
    if tenant is None or record is None:
        return None
    try:
        source = evidence_source(options.source, settings.delivery_window_days)
    except UsageProblem:
        return None  # said in its usual place, after the tenant file
    from auditor.collect.prefetch import prefetch

    return prefetch(source, tenant, record)


def _instructions(tenant: Tenant, environment: Environment, out: Output) -> ChecklistOutcome:
    """``--instructions``: the setup steps with this tenant's values, Stripe not asked."""
    from auditor.checklist import build_checklist
    from auditor.render.checklist import instructions_text

    steps = build_checklist(tenant, environment, None)
    out.report(instructions_text(steps))
    return ChecklistOutcome(checklist=steps, exit_code=0)


def _the_tenant(fleet: list[Tenant], options: ChecklistOptions) -> Tenant:
    """The tenant ``--tenant`` names, or a usage problem with a suggestion."""
    found = next((tenant for tenant in fleet if tenant.company_id == options.company_id), None)
    if found is None:
        from auditor.app.preflight import unknown_tenants_message

        raise UsageProblem(unknown_tenants_message([options.company_id], fleet, options.config))
    return found


def _write(checklist: Checklist, options: ChecklistOptions, out: Output) -> None:
    stem = f"checklist-{checklist.company_id}-{checklist.environment}"
    for name in options.formats:
        data = _RENDER[name](checklist, options.color)
        suffix = FORMATS[name].checklist_suffix
        if suffix is None:
            out.report(data.decode("utf-8"))
        else:
            out.note(f"wrote {write_bytes_atomic(options.output / (stem + suffix), data)}")


def _table(checklist: Checklist, color: bool) -> bytes:
    from auditor.render.checklist import checklist_text

    return checklist_text(checklist, color=color).encode("utf-8")


def _json(checklist: Checklist, color: bool) -> bytes:
    from auditor.redact import scrub

    return (scrub(checklist.model_dump_json(indent=2)) + "\n").encode("utf-8")


def _html(checklist: Checklist, color: bool) -> bytes:
    from auditor.render.checklist import checklist_html

    return checklist_html(checklist).encode("utf-8")


def _pdf(checklist: Checklist, color: bool) -> bytes:
    from auditor.render.checklist import checklist_pdf

    return checklist_pdf(checklist)


# How each format the checklist offers (FORMATS[...].commands holds "checklist") renders one.
_RENDER: dict[str, Callable[[Checklist, bool], bytes]] = {"table": _table, "json": _json, "html": _html, "pdf": _pdf}
