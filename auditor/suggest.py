""""Did you mean": the nearest known names to a mistyped one (company IDs, rule IDs, tenant-file keys).

Operators type IDs from memory or paste them truncated or in lower case; naming
the intended one turns a dead end into a one-word fix.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_matches(word: str, known: Iterable[str], limit: int = 3) -> list[str]:
    """Known names that ``word`` most likely meant: same text in another case, a prefix, or a near spelling."""
    known = list(dict.fromkeys(known))
    folded = {k.lower(): k for k in known}
    key = word.strip().lower()
    if not key:
        return []
    if key in folded:
        return [folded[key]]
    prefixed = [k for k in known if k.lower().startswith(key)] if len(key) >= 4 else []
    near = difflib.get_close_matches(key, list(folded), n=limit, cutoff=0.6)
    return list(dict.fromkeys(prefixed + [folded[n] for n in near]))[:limit]


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`` (did you mean 'X'?)`` or an empty string when nothing is close."""
    matches = close_matches(word, known)
    if not matches:
        return ""
    return " (did you mean " + " or ".join(repr(m) for m in matches) + "?)"
