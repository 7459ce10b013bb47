"""The rule catalogue: one module per group, one small pure function per rule.

Find a rule by its ID or slug: ``grep -rn WH006 rules/`` or ``audit explain WH006``.

To add one: write ``def my_check(ctx: <Context>) -> Outcome`` in its group's module, where the
argument's type says what it reads (``RecordContext`` for the tenant file alone; ``AccountContext``,
``EndpointsContext``, ``DeliveriesContext`` or ``StripeContext`` for Stripe's answers, never None), and
decorate it with ``@rule(...)`` (ID, slug, severity, source, texts, and ``fills`` for the placeholders its
outcomes fill). The registry checks the metadata at import; tests/rules/test_catalogue.py holds SPEC's table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from auditor.rules.base import Rule

_GROUP_ORDER = {"ACC": 0, "KEY": 1, "WH": 2, "TEN": 3}


def catalogue() -> dict[str, Rule]:
    """Every registered rule by ID; the group modules are imported (and register) on first use.

    Not at package import: the collector needs only ``auditor.rules.guide`` and ``auditor.rules.text``, and
    importing the whole catalogue before the first request leaves cost a checklist ~30 ms of start-up.
    """
    from auditor.rules import account, keys, tenant, webhook  # noqa: F401  (registers the rules)
    from auditor.rules.registry import REGISTRY

    return REGISTRY


def all_rules() -> list[Rule]:
    """Every rule, in catalogue order (ACC, KEY, WH, TEN; by number)."""
    return sorted(catalogue().values(), key=lambda r: (_GROUP_ORDER.get(r.id.rstrip("0123456789"), 9), r.id))


def get_rule(rule_id: str) -> Rule | None:
    """A rule by ID (``WH006``) or slug (``events-complete``), case-insensitively."""
    key = rule_id.strip()
    for r in catalogue().values():
        if r.id.lower() == key.lower() or r.slug == key.lower():
            return r
    return None
