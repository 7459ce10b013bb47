"""Rule IDs in catalogue order (ACC, KEY, WH, TEN) and written compactly (``WH002–009``)."""

from __future__ import annotations

import functools

from auditor.results import CheckResult


def rule_key(check: CheckResult) -> tuple[int, str, int]:
    return split_rule(check.rule)


_GROUP_ORDER = {"ACC": 0, "KEY": 1, "WH": 2, "TEN": 3}


def split_rule(rule: str) -> tuple[int, str, int]:
    """(group, prefix, number): sorts ``WH010`` after ``WH009`` and the groups in the guide's order."""
    prefix = rule.rstrip("0123456789")
    digits = rule[len(prefix):]
    return (_GROUP_ORDER.get(prefix, 9), prefix, int(digits) if digits else -1)


def rule_ranges(rules: list[str]) -> str:
    """``ACC001 ACC002 ACC003 KEY001`` → ``ACC001–003, KEY001``: compact, in catalogue order."""
    return _ranges(frozenset(rules))


@functools.lru_cache(maxsize=1024)  # a fleet's records share a few dozen sets of rules
def _ranges(rules: frozenset[str]) -> str:
    parts: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) >= 3:
            first, last = run[0], run[-1]
            parts.append(f"{first}–{last[len(last.rstrip('0123456789')):]}")
        else:
            parts.extend(run)
        run.clear()

    for rule in sorted(set(rules), key=split_rule):
        if run:
            _, prefix, number = split_rule(rule)
            _, last_prefix, last_number = split_rule(run[-1])
            if prefix != last_prefix or number != last_number + 1 or number < 0:
                flush()
        run.append(rule)
    flush()
    return ", ".join(parts)
