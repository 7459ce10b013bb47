"""Waivers: accepted exceptions with a reason, an owner and an expiry date.

An active waiver turns a failing check into ``waived`` (shown with its reason,
owner and expiry; it does not count toward the exit code). An expired waiver
has no effect, and the run says so. A malformed waiver file stops the run
before anything is audited (exit 2), naming the waiver.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from auditor.config import ConfigError
from auditor.results import CheckResult, CheckStatus, RecordResult, RunResult, Waiver
from auditor.rules import get_rule

REMIND_DAYS = 14


class WaiverEntry(BaseModel):
    """One ``[[waivers]]`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str
    company_id: str
    environment: Literal["stage", "live"] | None = None
    reason: str
    expires: date
    approved_by: str

    @field_validator("expires", mode="before")
    @classmethod
    def _a_toml_date(cls, value: Any) -> date:
        if isinstance(value, datetime) or not isinstance(value, date):
            raise ValueError("expires must be a TOML date without quotes, like 2026-12-31")
        return value

    @field_validator("rule")
    @classmethod
    def _a_known_rule(cls, value: str) -> str:
        found = get_rule(value)
        if found is None or found.id != value.upper():
            raise ValueError(f"unknown rule {value!r} (`audit rules` lists the IDs)")
        return found.id

    @field_validator("reason", "approved_by", "company_id")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    def label(self) -> str:
        env = f" ({self.environment})" if self.environment else ""
        return f"{self.rule} for {self.company_id}{env}"

    def matches(self, company_id: str, environment: str, rule: str) -> bool:
        return (self.rule == rule and self.company_id in ("*", company_id)
                and self.environment in (None, environment))

    def specificity(self) -> int:
        return (2 if self.company_id != "*" else 0) + (1 if self.environment else 0)

    def as_result(self) -> Waiver:
        return Waiver(reason=self.reason, approved_by=self.approved_by, expires=self.expires.isoformat(),
                      company_id=self.company_id, environment=self.environment)


def load_waivers(path: Path | str) -> list[WaiverEntry]:
    """Read and validate a waiver file; any problem is a ConfigError naming the waiver and field."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, "no such waiver file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, f"cannot read the waiver file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, f"not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses once per level
        raise ConfigError(path, "not valid TOML: arrays or tables nested too deeply") from None
    extra = set(data) - {"waivers"}
    if extra:
        raise ConfigError(path, f"unknown key {sorted(extra)[0]!r} (a waiver file holds [[waivers]] tables)")
    entries = data.get("waivers", [])
    if not isinstance(entries, list):
        raise ConfigError(path, "waivers must be [[waivers]] tables")
    return [_entry(path, index, raw) for index, raw in enumerate(entries)]


def _entry(path: Path, index: int, raw: Any) -> WaiverEntry:
    try:
        return WaiverEntry.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        label = f"waivers[{index}]"
        if isinstance(raw, dict):
            label += f" ({raw.get('rule', '?')} for {raw.get('company_id', '?')})"
        kind = err["type"]
        message = ("unknown key (a typo?)" if kind == "extra_forbidden" else
                   "required field is missing" if kind == "missing" else err["msg"].removeprefix("Value error, "))
        raise ConfigError(path, message, tenant=None, field=f"{label}: {field}" if field else label) from None


@dataclass(frozen=True)
class WaiverNotice:
    waiver: WaiverEntry
    kind: Literal["expired", "expiring", "unused"]
    text: str


def apply_waivers(run: RunResult, waivers: list[WaiverEntry], today: date) -> list[WaiverNotice]:
    """Waive the failing checks that active waivers cover; report expired, expiring and unused waivers.

    Record statuses and the summary are recomputed; the notices are added to
    ``run.notices`` (so every format shows them) and to ``run.waiver_notices``.
    """
    active = [w for w in waivers if w.expires >= today]
    expired = [w for w in waivers if w.expires < today]
    used: set[WaiverEntry] = set()
    hit_expired: set[WaiverEntry] = set()
    for index, record in enumerate(run.records):
        waived = False
        for check in record.checks:
            if check.status is not CheckStatus.FAIL:
                continue
            waiver = _best(active, record, check)
            if waiver is not None:
                check.status = CheckStatus.WAIVED
                check.waiver = waiver.as_result()
                used.add(waiver)
                waived = True
            else:
                old = _best(expired, record, check)
                if old is not None:
                    hit_expired.add(old)
        record.status = RecordResult.status_of(record.checks)
        if waived:  # stored again: a large run's records are read back from disk (auditor.spool), not held
            run.records[index] = record
    run.summarise()
    notices = _notices(waivers, used, hit_expired, today)
    run.notices.extend(n.text for n in notices)
    run.waiver_notices = [{"kind": n.kind, "waiver": n.waiver.label(), "expires": n.waiver.expires.isoformat(),
                           "approved_by": n.waiver.approved_by, "text": n.text} for n in notices]
    return notices


def _best(waivers: list[WaiverEntry], record: RecordResult, check: CheckResult) -> WaiverEntry | None:
    matching = [w for w in waivers if w.matches(record.company_id, record.environment, check.rule)]
    return max(matching, key=WaiverEntry.specificity, default=None)


def _notices(waivers: list[WaiverEntry], used: set[WaiverEntry], hit_expired: set[WaiverEntry],
             today: date) -> list[WaiverNotice]:
    notices = []
    for w in waivers:
        who = f"approved by {w.approved_by}"
        if w.expires < today:
            effect = "the check fails again" if w in hit_expired else "it no longer applies"
            notices.append(WaiverNotice(w, "expired", f"waiver {w.label()} expired on {w.expires} ({who}): {effect}"))
        elif w not in used:
            notices.append(WaiverNotice(w, "unused", f"waiver {w.label()} matched no failing check (unused; {who})"))
        if today <= w.expires <= today + timedelta(days=REMIND_DAYS):
            days = (w.expires - today).days
            notices.append(WaiverNotice(w, "expiring", f"waiver {w.label()} expires on {w.expires}, in {days} "
                                                       f"day(s) ({who}): renew it or fix the finding"))
    return notices
