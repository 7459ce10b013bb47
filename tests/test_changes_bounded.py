"""``compare`` reads each run once and keeps only findings and record keys, and answers exactly as the version
that indexed every check of the current run (kept here as the oracle) over synthetic fleets, hand-made
transitions and random runs with repeated keys."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any, overload

from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.changes import Change, Changes, FindingKey, compare
from auditor.results import CheckResult, CheckStatus, RecordResult, RecordStatus, RunResult, Severity
from auditor.spool import RecordSpool, dumped
from tests.render import synthetic

# ---- the oracle: compare() as it was before (commit 5ec6c3d) ----


def _index(run: RunResult, status: CheckStatus) -> dict[FindingKey, Change]:
    found: dict[FindingKey, Change] = {}
    for record in run.records:
        for check in record.checks:
            if check.status is status:
                found[(record.company_id, record.environment, check.rule)] = Change(
                    record.company_id, record.tenant, record.environment, check.rule, check.severity.value,
                    check.message)
    return found


def _order(changes: list[Change]) -> list[Change]:
    rank = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
    return sorted(changes, key=lambda c: (rank.get(c.severity, 9), c.company_id, c.environment, c.rule))


def compare_oracle(previous: RunResult, current: RunResult) -> Changes:
    old_fail, new_fail = _index(previous, CheckStatus.FAIL), _index(current, CheckStatus.FAIL)
    old_err, new_err = _index(previous, CheckStatus.ERROR), _index(current, CheckStatus.ERROR)
    old_records = {(r.company_id, r.environment) for r in previous.records}
    new_records = {(r.company_id, r.environment) for r in current.records}
    now = {(r.company_id, r.environment, c.rule): c.status for r in current.records for c in r.checks}
    resolved = [c for k, c in old_fail.items() if now.get(k) in (CheckStatus.PASS, CheckStatus.WAIVED)]
    return Changes(
        previous_generated_at=previous.generated_at.isoformat(),
        new_failures=_order([c for k, c in new_fail.items() if k not in old_fail]),
        resolved=_order(resolved),
        new_errors=_order([c for k, c in new_err.items() if k not in old_err]),
        still_failing=_order([c for k, c in new_fail.items() if k in old_fail]),
        new_records=sorted(new_records - old_records),
        removed_records=sorted(old_records - new_records),
    )


# ---- runs ----


def changed(run: RunResult, seed: int) -> RunResult:
    """A later run of the same fleet: checks that changed status, records gone and new, a renamed tenant."""
    rng = random.Random(seed)
    later = run.model_copy(deep=True)
    later.generated_at = run.generated_at.replace(day=run.generated_at.day + 1)
    later.records = [r for r in later.records if rng.random() > 0.05]
    later.records += synthetic.fleet(6, seed=seed + 100).records[:3]
    for record in later.records:
        record.company_id += "" if rng.random() > 0.03 else "X"  # a new company ID: the record is new
        if rng.random() < 0.1:
            record.tenant = f"renamed {record.tenant}"
        for check in record.checks:
            if rng.random() < 0.08:
                check.status = rng.choice(list(CheckStatus))
                check.message = f"changed {rng.random()}"
    return later


def transitions() -> tuple[RunResult, RunResult]:
    """One record per case: fail→pass (resolved), fail→waived (resolved), fail→error (not resolved),
    fail→skipped (not resolved), fail→fail, pass→fail (new), error→error (not new), pass→error (new),
    fail and the record gone (not resolved), a record new."""
    cases = [("RES", "fail", "pass"), ("WAI", "fail", "waived"), ("ERR", "fail", "error"),
             ("SKP", "fail", "skipped"), ("STL", "fail", "fail"), ("NEW", "pass", "fail"),
             ("OLDERR", "error", "error"), ("NEWERR", "pass", "error"), ("GONE", "fail", None), ("ADDED", None, "fail")]

    def run(which: int) -> RunResult:
        records = []
        for name, *statuses in cases:
            status = statuses[which]
            if status is None:
                continue
            record = synthetic.record(f"{name}0000000000000001", name, "live")
            check = record.check("WH004")
            assert check is not None
            check.status, check.message = CheckStatus(status), f"{name} {status}"
            records.append(record)
        return synthetic.run_of(records)

    return run(0), run(1)


def spooled(run: RunResult) -> RunResult:
    spool = RecordSpool(len(run.records), [r.company_id for r in run.records])
    for index, record in enumerate(run.records):
        spool.put(index, *dumped(record))
    copy = run.model_copy()
    copy.records = spool.complete()  # type: ignore[assignment]  # a Sequence of RecordResult, read on access
    return copy


def test_every_kind_of_change_is_found_as_before() -> None:
    previous, current = transitions()
    changes = compare(previous, current)
    assert changes == compare_oracle(previous, current)
    names = lambda found: sorted(c.tenant for c in found)  # noqa: E731
    assert names(changes.resolved) == ["RES", "WAI"]  # an error, a skip or a record not audited proves nothing
    assert names(changes.new_failures) == ["ADDED", "NEW"] and names(changes.still_failing) == ["STL"]
    assert names(changes.new_errors) == ["ERR", "NEWERR"]
    assert changes.new_records == [("ADDED0000000000000001", "live")]
    assert changes.removed_records == [("GONE0000000000000001", "live")]


def test_fleets_compare_as_before_listed_or_spooled() -> None:
    previous = synthetic.fleet(120, seed=3)
    for seed in range(4):
        current = changed(previous, seed)
        expected = compare_oracle(previous, current)
        assert expected.any and expected.resolved and expected.new_failures and expected.new_errors
        assert compare(previous, current) == expected
        assert compare(spooled(previous), spooled(current)) == expected
        assert compare(current, previous) == compare_oracle(current, previous)
    assert compare(previous, previous) == compare_oracle(previous, previous)
    other = synthetic.fleet(50, seed=9)  # other kinds drawn for the same tenants
    assert compare(previous, other) == compare_oracle(previous, other)
    empty = synthetic.run_of([])
    assert compare(empty, previous) == compare_oracle(empty, previous)
    assert compare(previous, empty) == compare_oracle(previous, empty)


class Passes(Sequence[RecordResult]):
    """Records that count the passes over them."""

    def __init__(self, records: list[RecordResult]):
        self.records, self.passes, self.reads = records, 0, 0

    def __len__(self) -> int:
        return len(self.records)

    @overload
    def __getitem__(self, index: int) -> RecordResult: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[RecordResult]: ...

    def __getitem__(self, index: Any) -> Any:
        self.reads += 1
        return self.records[index]

    def __iter__(self) -> Iterator[RecordResult]:
        self.passes += 1
        for index in range(len(self)):
            yield self[index]


def test_each_run_is_read_once() -> None:
    previous = synthetic.fleet(20, seed=1)
    current = changed(previous, 1)
    expected = compare_oracle(previous, current)
    old, new = Passes(list(previous.records)), Passes(list(current.records))
    previous.records, current.records = old, new  # type: ignore[assignment]
    assert compare(previous, current) == expected
    assert (old.passes, old.reads, new.passes, new.reads) == (1, len(old), 1, len(new))


_STATUSES = st.sampled_from(list(CheckStatus))
_CHECK = st.tuples(st.sampled_from(["R1", "R2", "R3"]), _STATUSES, st.sampled_from(list(Severity)),
                   st.sampled_from(["m1", "m2"]))
_RECORD = st.tuples(st.sampled_from(["A", "B", "C"]), st.sampled_from(["live", "stage"]),
                    st.sampled_from(["t1", "t2"]), st.lists(_CHECK, max_size=4))


def _run(records: list[tuple[str, str, str, list[tuple[str, CheckStatus, Severity, str]]]]) -> RunResult:
    return synthetic.run_of([RecordResult(
        company_id=cid, tenant=tenant, environment=env, status=RecordStatus.PASS,
        checks=[CheckResult(rule=rule, slug=rule.lower(), severity=severity, status=status, message=message)
                for rule, status, severity, message in checks]) for cid, env, tenant, checks in records])


@settings(max_examples=500, deadline=None)
@given(st.lists(_RECORD, max_size=6), st.lists(_RECORD, max_size=6))
def test_any_two_runs_compare_as_before(old: list[Any], new: list[Any]) -> None:
    """Small universes of keys, so that records and checks repeat: the last of a key counts, as before."""
    previous, current = _run(old), _run(new)
    assert compare(previous, current) == compare_oracle(previous, current)
