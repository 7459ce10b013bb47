"""Review: WH004 now passes the whole fleet's companyIDs (its own among them) instead of a copy without its own.

The tenant's own ID is matched before the fleet's are asked, so every URL must
get the problems it got with the fleet minus the tenant.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.rules.endpoints import path_problems

OWN = "8XYM4WU2V6NJUM5LZ6C9"
OTHERS = ["T000000001FLEET00000", "8xym4wu2v6njum5lz6c9X", "ABC"]
_SEGMENT = st.sampled_from(["callbacks", "Callbacks", "v1.0", "v1", "V1.0", "stripe", "STRIPE", OWN, OWN.lower(),
                            OWN + "X", *OTHERS, "", "x", "%2F", "?", "#", "..", "plenigo"])
_HOST = st.sampled_from(["https://callbacks.plenigo.com", "http://callbacks.plenigo-stage.com:8443",
                         "https://CALLBACKS.PLENIGO.COM", "https://calbacks.plenigo.de", ""])
_TAIL = st.sampled_from(["", "/", "//", "?a=b", "#f", "?", "/?x"])


@settings(max_examples=400, deadline=None, derandomize=True)
@given(_HOST, st.lists(_SEGMENT, max_size=6), _TAIL, st.sets(st.sampled_from(OTHERS)))
def test_the_fleets_ids_with_or_without_the_tenants_own_give_the_same_problems(host, segments, tail, others) -> None:
    url = host + "/" + "/".join(segments) + tail
    fleet = frozenset(others) | {OWN}
    assert path_problems(url, OWN, fleet) == path_problems(url, OWN, fleet - {OWN})


def test_another_tenants_id_is_still_named_as_such() -> None:
    url = f"https://callbacks.plenigo.com/callbacks/v1.0/stripe/{OTHERS[0]}"
    assert path_problems(url, OWN, frozenset({OWN, OTHERS[0]})) == [
        f"it has the companyID {OTHERS[0]} of another tenant instead of {OWN}"]
    assert path_problems(url.replace(OTHERS[0], OWN), OWN, frozenset({OWN, OTHERS[0]})) == []
