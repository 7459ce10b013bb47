"""``audit run`` without the command line: select, audit, waive, filter, write, deliver, decide the exit code."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from auditor.app.delivery import DeliveryOptions, deliver, previous_run
from auditor.app.errors import NothingToAudit, UsageProblem
from auditor.app.inputs import SourceOptions, apply_waiver_entries, evidence_source, load_fleet, load_waiver_file
from auditor.app.output import Output
from auditor.app.preflight import check_stripe_reachable, resolve_rules, unknown_tenants_message, why_nothing_selected
from auditor.app.reports import check_folders_writable, write_reports
from auditor.atomic import output_batch
from auditor.audit import AuditPlan, ProgressCallback, run_audit, select_tenants
from auditor.collect.saved import save_evidence
from auditor.config import Environment
from auditor.filters import filter_run
from auditor.render import RenderOptions
from auditor.render.table import run_summary, terminal_width
from auditor.results import ExitCode, RunResult, Severity
from auditor.rules.base import FleetIndex, Settings

# How a caller shows progress: given the number of records, a context yielding a callback (or None for none).
Progress = Callable[[int], AbstractContextManager[ProgressCallback | None]]


@dataclass(frozen=True)
class RunOptions:
    """Everything ``audit run`` is asked to do; ``formats`` are known names (auditor.render.FORMATS)."""

    config: Path
    company_ids: tuple[str, ...] = ()  # empty: every tenant
    environments: tuple[Environment, ...] = (Environment.STAGE, Environment.LIVE)
    formats: tuple[str, ...] = ("table",)
    output: Path = Path(".")
    source: SourceOptions = field(default_factory=SourceOptions)
    fail_on: Severity = Severity.LOW
    workers: int = 16
    processes: int | None = None
    settings: Settings = field(default_factory=Settings)
    save_dir: Path | None = None
    waivers_file: Path | None = None
    min_severity: Severity | None = None
    rule_names: tuple[str, ...] = ()
    color: bool = False
    show_pass: bool = False
    delivery: DeliveryOptions = field(default_factory=DeliveryOptions)


@dataclass(frozen=True)
class RunOutcome:
    """The run as reported, the files written, and the exit code (4 or 5 when some mail failed)."""

    run: RunResult
    written: list[Path]
    mail_failed: bool
    exit_code: int


def run_fleet(options: RunOptions, out: Output, progress: Progress) -> RunOutcome:
    """Audit the chosen records and write, store and mail the reports; see SPEC.md for the exit codes."""
    options.source.check()
    rules_chosen = resolve_rules(options.rule_names)
    fleet = load_fleet(options.config)
    waivers = load_waiver_file(options.waivers_file)
    tenants = fleet
    if options.company_ids:
        tenants, unknown = select_tenants(fleet, options.company_ids)
        if unknown:
            raise UsageProblem(unknown_tenants_message(unknown, fleet, options.config))
    plan = AuditPlan(tenants=tenants, environments=options.environments, workers=options.workers,
                     processes=options.processes, settings=options.settings, config_path=str(options.config),
                     mode=options.source.mode)
    records = plan.records()
    if not records:
        raise NothingToAudit(why_nothing_selected(tenants, options.environments, options.config,
                                                  named=bool(options.company_ids)))
    source = evidence_source(options.source, options.settings.delivery_window_days)
    check_folders_writable({"--output": options.output if set(options.formats) - {"table"} else None,
                            "--save-evidence": options.save_dir, "--history": options.delivery.history})
    if options.source.mode == "online" and any(record.secret_key for _, record in records):  # else Stripe is not asked
        from auditor.collect.stripe_api import StripeSource  # already imported by evidence_source

        assert isinstance(source, StripeSource)
        check_stripe_reachable(source.api_base or "", options.source.timeout)
    previous = previous_run(options.delivery)
    started = time.monotonic()
    with progress(len(records)) as advance:
        run = run_audit(plan, source, progress=advance, fleet=FleetIndex.build(fleet))
    run.duration_seconds = round(time.monotonic() - started, 3)
    apply_waiver_entries(run, waivers)
    run = filter_run(run, options.min_severity, rules_chosen)
    render = RenderOptions(previous=previous, color=options.color,
                           extra={"width": terminal_width(), "show_pass": options.show_pass})
    with output_batch():  # the run's files are put in place together, or none is (a signal, a full disk)
        if options.save_dir is not None:
            for record in run.records:
                if record.evidence is not None:
                    save_evidence(options.save_dir, record.evidence)
        written = write_reports(run, options.formats, options.output, render, out)
    mail_failed = deliver(options.delivery, run, previous, fleet, written, out)
    out.note(run_summary(run, previous, written, history=options.delivery.history is not None))
    code = run.exit_code(options.fail_on)
    return RunOutcome(run=run, written=written, mail_failed=mail_failed,
                      exit_code=ExitCode.with_mail_failure(code) if mail_failed else code)
