"""Review of the quick secret-shaped scan (``redact._mask_secret_shaped``): what ``_SECRET_SHAPED.sub`` masks.

Held to the pattern over texts built near its edges (every case, ``%5F``/``%5f``,
candidates overlapping, adjacent and nested, each Unicode character the
case-insensitive pattern takes for an ASCII letter), and ``scrub`` as a whole to
its form before the rewrite; no secret-shaped key survives inside any text.
"""

from __future__ import annotations

import re
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import redact
from auditor.redact import _SECRET_SHAPED, _mask_secret_shaped, mask, scrub

_SETTINGS = settings(max_examples=500, deadline=None, derandomize=True)
_PIECES = st.sampled_from([
    "s", "k", "r", "S", "K", "R", "sk", "rk", "sK", "rK", "w", "wh", "whs", "whse", "whsec", "WhSeC", "_", "%", "%5",
    "%5F", "%5f", "%5_", "5F", "live", "LiVe", "test", "TEST", "tes", "liv", "a", "Z", "9", "abcdefg", "abcdefgh",
    "ABCDEFGHIJKL", "0123456789", "-", ".", " ", "\n", "\t", '"', "\\", "/", "?", "=", "&", "…", "é", "ß", "µ", "ﬀ",
    "\u0130", "\u0131", "\u017f", "\u212a", "\u212b", "\u0345", "\u1e9e", "\U0001f600", "\x00",
    "sk_live_", "rk_test_", "whsec_", "sk%5Flive%5F", "whsec%5f", "sk_live_sk_live_", "whsec_whsec_",
])


def by_pattern(text: str) -> str:
    return _SECRET_SHAPED.sub(lambda m: mask(m.group(0)), text)


@_SETTINGS
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_every_text_near_the_patterns_edges_is_masked_as_the_pattern_masks_it(text: str) -> None:
    assert _mask_secret_shaped(text) == by_pattern(text)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(st.characters(codec="utf-8"), max_size=60), st.lists(_PIECES, max_size=10).map("".join))
def test_any_text_around_a_candidate_is_masked_as_the_pattern_masks_it(noise: str, candidate: str) -> None:
    text = noise[: len(noise) // 2] + candidate + noise[len(noise) // 2:]
    assert _mask_secret_shaped(text) == by_pattern(text)


def test_the_case_twins_are_every_character_the_pattern_reads_as_an_ascii_letter() -> None:
    """The quick scan finds places in the lower-cased text; a character that matches an ASCII letter of the
    pattern without lower-casing to it (or that lower-cases to two) must send the text to the pattern."""
    letters = re.compile("[A-Za-z0-9]|[skrlivetwhcf]", re.IGNORECASE)
    beyond_ascii = "".join(map(chr, range(0x80, sys.maxunicode + 1)))
    assert set(letters.findall(beyond_ascii)) == set(redact._CASE_TWINS)
    odd = {c for c in beyond_ascii if len(low := c.lower()) != 1 or low.isascii()}  # İ (two), K (k)
    assert odd <= set(redact._CASE_TWINS)


_KEY = st.builds(lambda kind, mode, sep1, sep2, tail: f"{kind}{sep1}{mode}{sep2}{tail}",
                 st.sampled_from(["sk", "rk", "SK", "Rk"]), st.sampled_from(["live", "test", "LIVE", "Test"]),
                 st.sampled_from(["_", "%5F", "%5f"]), st.sampled_from(["_", "%5F", "%5f"]),
                 st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
                         min_size=12, max_size=40))


@_SETTINGS
@given(_KEY, st.text(max_size=20), st.text(max_size=20))
def test_no_secret_shaped_key_survives_in_any_text(key: str, before: str, after: str) -> None:
    text = before + key + after
    out = scrub(text)
    tail = key[-12:]
    assert tail[:8] not in out or tail[:8] in before + after


def test_scrub_is_what_it_was_with_registered_secrets_too(monkeypatch) -> None:
    """scrub = the registered secrets' pattern, then the secret-shaped pass: only the second was rewritten."""
    for name, empty in (("_irregular", {}), ("_folded", {}), ("_pattern", None)):  # this test's secrets only
        monkeypatch.setattr(redact, name, empty)
    for secret in ("not a stripe key ✓", "sk_live_with space 1234567890", "p&ss\"word<42>"):
        redact.register_secret(secret)
    pattern = redact._compiled()
    assert pattern is not None
    texts = ['{"a": "not a stripe key ✓", "b": "sk_live_ABCDEFGHIJKLMNOP"}', "p&amp;ss&quot;word&lt;42&gt;",
             "sk_live_with%20space%201234567890 and whsec%5FABCDEFGHIJKL and \u212a", "nothing here"]
    for text in texts:
        before = _SECRET_SHAPED.sub(lambda m: mask(m.group(0)),
                                    pattern.sub(lambda m: redact._inert_mask(redact._secret_of(m.group(0))), text))
        assert scrub(text) == before


LIVE_KEY = "sk_live_51AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"


def test_a_key_glued_to_a_secret_shaped_string_is_masked_too(monkeypatch) -> None:
    """A Stripe-shaped key is left to the shape pass (never registered). Glued to the end of another
    secret-shaped string (two keys pasted into one field, a log without a separator), the other's tail took
    the key's ``sk`` and the rest of the key was printed whole: ``sk_test_…_live_51AbCd…6789``."""
    for name, empty in (("_irregular", {}), ("_folded", {}), ("_pattern", None)):
        monkeypatch.setattr(redact, name, empty)
    redact.register_secret(LIVE_KEY)
    body = LIVE_KEY[len("sk_live_"):-4]
    for glued in ("sk_test_abcdefgh", "sk_test_ab", "WHSEC_ABCDEFGHIJKLMNOP", "rk%5Ftest%5F12345678", "whsec_x"):
        for key in (LIVE_KEY, LIVE_KEY.replace("_", "%5F"), LIVE_KEY.upper()):
            text = f"found {glued}{key} in the field"
            assert body.upper() not in scrub(text).upper(), text
            assert _mask_secret_shaped(text) == by_pattern(text)
    assert scrub(f"sk_test_abcdefgh{LIVE_KEY}") == "sk_test_…sk_live_…6789"
    assert scrub(f"whsec_abcdefghijklmnop{LIVE_KEY}.") == "whsec_…mnopsk_live_…6789."
