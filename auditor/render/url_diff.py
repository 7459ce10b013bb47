"""How a found URL differs from the expected one, part by part, for the reader to see at a glance."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    """A piece of a URL difference: ``same``, ``del`` (only in found) or ``ins`` (only in expected)."""

    op: str
    text: str



NEAR_MISS = 0.6  # similarity ratio from which a differing URL part is a near miss, marked letter by letter
_URL_PART = re.compile(r"[^/?#&]+|[/?#&]")


def url_diff(found: str, expected: str) -> tuple[list[Segment], list[Segment]]:
    """What to delete from ``found`` and insert for ``expected``, part by part (between slashes).

    A near miss (``v1`` for ``v1.0``, ``http:`` for ``https:``) is marked letter by letter; a part that is
    altogether different (another tenant's companyID) is shown whole, wrong beside right: a letter-by-letter
    diff of two unrelated IDs is unreadable.
    """
    a, b = _URL_PART.findall(found), _URL_PART.findall(expected)
    left: list[Segment] = []
    right: list[Segment] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            left.append(Segment("same", "".join(a[a1:a2])))
            right.append(Segment("same", "".join(b[b1:b2])))
        elif op == "replace" and a2 - a1 == b2 - b1:
            for x, y in zip(a[a1:a2], b[b1:b2], strict=True):
                _part_diff(x, y, left, right)
        else:
            if a2 > a1:
                left.append(Segment("del", "".join(a[a1:a2])))
            if b2 > b1:
                right.append(Segment("ins", "".join(b[b1:b2])))
    return _merged(left), _merged(right)


def _part_diff(found: str, expected: str, left: list[Segment], right: list[Segment]) -> None:
    matcher = difflib.SequenceMatcher(a=found, b=expected, autojunk=False)
    if matcher.ratio() < NEAR_MISS:
        left.append(Segment("del", found))
        right.append(Segment("ins", expected))
        return
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            left.append(Segment("same", found[a1:a2]))
            right.append(Segment("same", expected[b1:b2]))
            continue
        if a2 > a1:
            left.append(Segment("del", found[a1:a2]))
        if b2 > b1:
            right.append(Segment("ins", expected[b1:b2]))


def _merged(segments: list[Segment]) -> list[Segment]:
    """Neighbouring segments of one kind as one."""
    out: list[Segment] = []
    for s in segments:
        if out and out[-1].op == s.op:
            out[-1] = Segment(s.op, out[-1].text + s.text)
        elif s.text:
            out.append(s)
    return out
