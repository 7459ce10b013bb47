"""What ``run`` and ``checklist`` both read before auditing: tenants, waivers and the evidence source.

Written once here so that the two commands cannot drift: the same tenant-file
errors, the same waiver handling, the same choice between Stripe, saved
evidence and no evidence at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.app.errors import ConfigurationProblem, UsageProblem
from auditor.app.startup import collector_off
from auditor.config import ConfigError, Tenant, load_tenants

if TYPE_CHECKING:
    from auditor.collect import EvidenceSource
    from auditor.results import RunResult
    from auditor.waivers import WaiverEntry


@dataclass(frozen=True)
class SourceOptions:
    """Where a record's evidence comes from: Stripe (how to reach it), saved evidence, or nowhere."""

    api_base: str | None = None  # --stripe-api-base; None: Stripe itself
    timeout: float = 20.0
    retries: int = 4
    evidence_dir: Path | None = None  # --evidence: re-audit what --save-evidence wrote
    offline: bool = False  # --offline: Stripe is not asked, its rules are skipped

    @property
    def mode(self) -> str:
        """"offline", "evidence" or "online", as results.json records it."""
        return "offline" if self.offline else "evidence" if self.evidence_dir else "online"

    def check(self) -> None:
        """Stop on options that exclude each other, before anything is read."""
        if self.offline and self.evidence_dir:
            raise UsageProblem("--offline and --evidence exclude each other")


def load_fleet(path: Path) -> list[Tenant]:
    """Every tenant of the tenant file (or folder); a problem stops the command (exit 2)."""
    try:
        return load_tenants(path)
    except ConfigError as exc:
        raise ConfigurationProblem(str(exc)) from None


def load_waiver_file(path: Path | None) -> list[WaiverEntry]:
    """The waivers of ``--waivers FILE`` (none without it); a malformed file stops the command (exit 2)."""
    if path is None:
        return []
    from auditor.waivers import load_waivers  # pydantic models, only when a waiver file is given

    try:
        return load_waivers(path)
    except ConfigError as exc:
        raise ConfigurationProblem(str(exc)) from None


def apply_waiver_entries(run: RunResult, waivers: list[WaiverEntry]) -> None:
    """Waive what the active waivers cover, as of the run's own date (so a re-run judges alike)."""
    if not waivers:
        return
    from auditor.waivers import apply_waivers

    apply_waivers(run, waivers, today=run.generated_at.date())


def evidence_source(options: SourceOptions, window_days: int) -> EvidenceSource:
    """The source ``options`` choose; an unsafe ``--stripe-api-base`` is a usage problem."""
    options.check()
    if options.offline:
        from auditor.collect.offline import OfflineSource

        return OfflineSource()
    if options.evidence_dir:
        from auditor.collect.saved import SavedEvidenceSource

        return SavedEvidenceSource(options.evidence_dir)
    with collector_off():
        from auditor.collect.stripe_api import StripeSource, validate_api_base  # the SDK: only when Stripe is asked

    try:
        base = validate_api_base(options.api_base) if options.api_base else None
    except ValueError as exc:
        raise UsageProblem(str(exc), option="--stripe-api-base") from None
    return StripeSource(api_base=base, timeout=options.timeout, max_retries=options.retries,
                        delivery_window_days=window_days)
