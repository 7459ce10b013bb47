"""Which webhook endpoints point at plenigo, which one is "the" endpoint, and how its URL is wrong.

The webhook rules (WH003–WH009) all judge one endpoint, and a fix edits it, so
a wrong choice turns a fix into an outage (SPEC "Which endpoint is plenigo's"):

- candidates are endpoints at a callbacks host (any case, scheme or port), at a
  look-alike of one (a typo, another top-level domain, another plenigo
  subdomain) or with the path shape ``/callbacks/<…>/stripe/<…>``; a URL that
  merely mentions plenigo elsewhere is the merchant's own and never a candidate;
- an endpoint whose URL is exactly another tenant's URL (that tenant names the
  same Stripe account), or a near miss naming that tenant's companyID, is that
  tenant's, never this one's;
- among the rest: the exact URL enabled (or one that differs only in the host's
  case or an explicit :443, which Stripe delivers to alike), then the exact URL
  disabled, then the nearest miss.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from auditor.config import Environment
from auditor.evidence import WebhookEndpoint
from auditor.rules.guide import CALLBACK_HOSTS, CALLBACK_PATH_PREFIX, callback_url

PLENIGO_HOSTS = frozenset(CALLBACK_HOSTS.values())


@dataclass(frozen=True)
class UrlParts:
    scheme: str
    host: str
    port: int | None
    path: str
    query: str
    fragment: str

    @classmethod
    def of(cls, url: str) -> UrlParts:
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            return cls("", "", None, url, "", "")
        return cls(parts.scheme.lower(), (parts.hostname or "").lower(), port, parts.path, parts.query, parts.fragment)


def points_at_plenigo(endpoint: WebhookEndpoint) -> bool:
    """True for a candidate: a callbacks host or a look-alike of one, or plenigo's path shape.

    Only the host and the path shape count: ``https://erp.example/webhooks/plenigo-sync``
    mentions plenigo but is the merchant's own endpoint, which no fix may touch.
    """
    parts = UrlParts.of(endpoint.url)
    return looks_like_callbacks_host(parts.host) or bool(_PATH_SHAPE.match(parts.path))


_PATH_SHAPE = re.compile(r"^/+callbacks/+[^/]+/+stripe(/|$)", re.IGNORECASE)
_PLENIGO_DOMAINS = ("plenigo", "plenigo-stage")


@functools.lru_cache(maxsize=4096)  # a pure function of the host; a fleet's endpoints share a few hosts
def looks_like_callbacks_host(host: str) -> bool:
    """A callbacks host, a typo of one (2 edits at most), or plenigo's name under another TLD or subdomain."""
    host = host.lower().rstrip(".")
    if not host:
        return False
    if host in PLENIGO_HOSTS or any(abs(len(host) - len(h)) <= 2 and _distance(host, h) <= 2 for h in PLENIGO_HOSTS):
        return True
    labels = host.split(".")
    return len(labels) >= 2 and labels[-2] in _PLENIGO_DOMAINS


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (hosts are short: the quadratic table is cheap)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def path_company_id(path: str) -> str | None:
    """The last non-empty path segment: where the companyID goes."""
    segments = [s for s in path.split("/") if s]
    return segments[-1] if segments else None


def for_company(endpoint: WebhookEndpoint, company_id: str) -> bool:
    """The endpoint's URL ends in this company's ID (in any case, with or without a trailing slash)."""
    found = path_company_id(UrlParts.of(endpoint.url).path)
    return found is not None and found.lower() == company_id.lower()


def owner(endpoint: WebhookEndpoint, taken: Mapping[str, str]) -> str | None:
    """The other tenant (on the same account) this endpoint belongs to, else None.

    ``taken`` maps each such tenant's exact URL to its company ID. Its exact URL is
    its endpoint (SPEC); so is a near miss that names its companyID, since the
    fix of a near miss rewrites the URL and would move that tenant's deliveries.
    """
    if endpoint.url in taken:
        return taken[endpoint.url]
    found = (path_company_id(UrlParts.of(endpoint.url).path) or "").lower()
    return next((cid for cid in taken.values() if cid.lower() == found), None)


def candidates(endpoints: Iterable[WebhookEndpoint], taken: Mapping[str, str] | None = None) -> list[WebhookEndpoint]:
    """This tenant's candidates: plenigo-looking endpoints that are not another tenant's."""
    return [e for e in endpoints if points_at_plenigo(e) and not (taken and owner(e, taken))]


def taken_by_others(endpoints: Iterable[WebhookEndpoint],
                    taken: Mapping[str, str]) -> list[tuple[WebhookEndpoint, str]]:
    """Endpoints of other tenants on the same Stripe account, each with its tenant: theirs, not a mistake."""
    return [(e, cid) for e in endpoints if points_at_plenigo(e) and (cid := owner(e, taken))]


def choose_endpoint(endpoints: list[WebhookEndpoint], company_id: str, env: Environment,
                    taken: Mapping[str, str] | None = None) -> WebhookEndpoint | None:
    """The exact URL enabled (or one differing only in host case or :443), else exact disabled, else the
    nearest miss (ties: the oldest, then by ID)."""
    found = candidates(endpoints, taken)
    return best_of(found, company_id, env) if found else None


def best_of(found: list[WebhookEndpoint], company_id: str, env: Environment) -> WebhookEndpoint:
    """The best of some candidates (at least one), ranked as :func:`choose_endpoint` ranks them."""
    expected = callback_url(company_id, env)
    return max(found, key=lambda e: (_score(e, expected, company_id, env), -(e.created or 0), e.id))


def _score(endpoint: WebhookEndpoint, expected: str, company_id: str, env: Environment) -> int:
    enabled = endpoint.status == "enabled"
    if endpoint.url == expected:
        return 200 if enabled else 100
    if same_target(endpoint.url, expected):
        return 190 if enabled else 90
    parts = UrlParts.of(endpoint.url)
    score = 0
    score += 8 if path_company_id(parts.path) == company_id else 6 if for_company(endpoint, company_id) else 0
    score += 4 if parts.host == CALLBACK_HOSTS[env] else 0
    score += 2 if enabled else 0
    score += 1 if parts.scheme == "https" else 0
    return score


def same_target(url: str, expected: str) -> bool:
    """The URL reaches the same place as ``expected``: only the host's case or an explicit :443 differ.

    Stripe delivers to such an endpoint exactly as to the exact URL, so when it is enabled it
    outranks a disabled exact twin; otherwise WH005 would fail and WH008 would delete it.
    """
    a, b = UrlParts.of(url), UrlParts.of(expected)
    return (a.scheme, a.host, a.port or 443, a.path, a.query, a.fragment) == \
        (b.scheme, b.host, b.port or 443, b.path, b.query, b.fragment) and a.scheme == "https"


def host_problems(url: str, env: Environment) -> list[str]:
    """How the scheme, host and port differ from the environment's callbacks host (empty when right)."""
    parts = UrlParts.of(url)
    expected_host = CALLBACK_HOSTS[env]
    problems = []
    if parts.scheme != "https":
        problems.append(f"it uses {parts.scheme or 'no scheme'} instead of https")
    if parts.host != expected_host:
        other = next((e for e, h in CALLBACK_HOSTS.items() if h == parts.host), None)
        if other is not None:
            problems.append(f"it points at the {other.value} host {parts.host} on the {env.value} record")
        else:
            problems.append(f"its host is {parts.host or '(none)'} instead of {expected_host}")
    if parts.port not in (None, 443):
        problems.append(f"it names port {parts.port}")
    return problems


def path_problems(url: str, company_id: str, known_company_ids: frozenset[str]) -> list[str]:
    """How the path (and query) differ from /callbacks/v1.0/stripe/<companyID> (empty when right).

    ``known_company_ids`` are the fleet's (this tenant's own may be among them: it is matched first).
    """
    parts = UrlParts.of(url)
    expected = CALLBACK_PATH_PREFIX + company_id
    problems: list[str] = []
    path = parts.path
    if path.endswith("/") and path.rstrip("/") != "":
        problems.append("it has a trailing slash")
        path = path.rstrip("/")
    if parts.query:
        problems.append(f"it has a query string (?{parts.query})")
    if parts.fragment:
        problems.append(f"it has a fragment (#{parts.fragment})")
    if path == expected:
        return problems
    problems.extend(_prefix_problems(path))
    problems.extend(_company_problems(path, company_id, known_company_ids))
    return problems or [f"its path is {parts.path!r} instead of {expected!r}"]


def _prefix_problems(path: str) -> list[str]:
    segments = [s for s in path.split("/") if s]
    head = segments[:-1] if len(segments) >= 4 else segments
    want = [s for s in CALLBACK_PATH_PREFIX.split("/") if s]  # callbacks, v1.0, stripe
    if head == want:
        return []
    if len(head) == 3 and head[0].lower() == "callbacks" and head[2].lower() == "stripe" and head[1] != "v1.0":
        return [f"it has the version {head[1]} instead of v1.0"]
    if [s.lower() for s in head] == want:
        return ["the path /callbacks/v1.0/stripe/ is in a different case"]
    return [f"its path does not start with {CALLBACK_PATH_PREFIX} (found /{'/'.join(head)}/)"]


def _company_problems(path: str, company_id: str, known_company_ids: frozenset[str]) -> list[str]:
    segments = [s for s in path.split("/") if s]
    found = segments[-1] if len(segments) >= 4 else None
    if found is None:
        return [f"the companyID {company_id} is missing at the end of the path"]
    if found == company_id:
        return []
    if found.lower() == company_id.lower():
        return [f"the companyID is {found}, in a different case than {company_id}"]
    if found in known_company_ids:
        return [f"it has the companyID {found} of another tenant instead of {company_id}"]
    return [f"it has the companyID {found} instead of {company_id}"]
