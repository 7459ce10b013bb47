"""The quick scan for secret-shaped strings masks exactly what the case-insensitive pattern masks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.redact import _SECRET_SHAPED, _mask_secret_shaped, mask, scrub

_PIECES = st.sampled_from(["sk", "rk", "SK", "Rk", "whsec", "WHSEC", "wh", "_", "%5F", "%5f", "%5", "live", "TEST",
                           "tes", "abcdefgh", "ABC123", "x", " ", "\n", '"', "…", "é", "\u0130", "\u0131",
                           "\u017f", "\u212a", "ſk_live_", "sk_live_abcdefghijkl", "whsec_", "0123456789"])


def by_pattern(text: str) -> str:
    return _SECRET_SHAPED.sub(lambda m: mask(m.group(0)), text)


@settings(max_examples=3000, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join))
def test_the_quick_scan_masks_what_the_pattern_masks(text: str) -> None:
    assert _mask_secret_shaped(text) == by_pattern(text)


def test_matches_next_to_each_other_and_inside_words_are_masked_as_before() -> None:
    text = ('{"key": "sk_live_ABCDEFGHIJKL", "url": "x?k=sK%5fTeSt%5Fabcdefghij", "w": "whsec%5Fabcdefghijkl"} '
            "xrk_test_12345678 sk_live_sk_live_abcdefghij WHSEC_ABCDEFGHIJ")
    assert _mask_secret_shaped(text) == by_pattern(text) != text
    assert "ABCDEFGHIJKL" not in scrub(text)
    assert _mask_secret_shaped("nothing to see") == "nothing to see"
