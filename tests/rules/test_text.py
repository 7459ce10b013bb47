"""Stray characters: the quick check for a plain value never hides one that the character scan finds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from auditor.rules.text import _is_suspicious, stray_characters

# ASCII (controls, space, DEL included) and the look-alikes and invisibles copy-and-paste brings
_CHARS = st.one_of(st.characters(min_codepoint=0, max_codepoint=127),
                   st.sampled_from(["\u00a0", "\u200b", "\u2060", "\ufeff", "\u0430", "\u2028", "\x85", "\u3000"]))


@given(st.text(_CHARS, max_size=40))
def test_a_value_is_clean_exactly_when_no_character_is_suspicious(value: str) -> None:
    assert (stray_characters(value) is None) == (not any(_is_suspicious(c) for c in value))


def test_each_kind_of_stray_character_is_still_named() -> None:
    assert stray_characters("pk_live_abc\n") == "a trailing newline"
    assert stray_characters(" sk_live_abc") == "a leading space"
    assert stray_characters("acct_1\u200bx") == "a zero-width space at position 7"
    assert stray_characters("whsec_\x7fabc") is not None
    assert stray_characters("sk_live_\u0430bc") is not None  # a Cyrillic look-alike
    assert stray_characters("sk_live_abc") is None
