"""Which webhook endpoints point at plenigo, which one is "the" endpoint, and how its URL is wrong.

The webhook rules (WH003–WH009) all judge one endpoint: the exact match if
there is one, else the closest near miss, so that the findings describe the
endpoint the merchant actually meant to create.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from auditor.config import Environment
from auditor.evidence import WebhookEndpoint
from rules.guide import CALLBACK_HOSTS, CALLBACK_PATH_PREFIX, callback_url

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
    def of(cls, url: str) -> "UrlParts":
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            return cls("", "", None, url, "", "")
        return cls(parts.scheme.lower(), (parts.hostname or "").lower(), port, parts.path, parts.query, parts.fragment)


def points_at_plenigo(endpoint: WebhookEndpoint) -> bool:
    """True for an endpoint at a plenigo callbacks host, or a URL that mentions plenigo at all (a misspelt host)."""
    return UrlParts.of(endpoint.url).host in PLENIGO_HOSTS or "plenigo" in endpoint.url.lower()


def path_company_id(path: str) -> str | None:
    """The last non-empty path segment: where the companyID goes."""
    segments = [s for s in path.split("/") if s]
    return segments[-1] if segments else None


def for_company(endpoint: WebhookEndpoint, company_id: str) -> bool:
    """The endpoint's URL ends in this company's ID (in any case, with or without a trailing slash)."""
    found = path_company_id(UrlParts.of(endpoint.url).path)
    return found is not None and found.lower() == company_id.lower()


def choose_endpoint(endpoints: list[WebhookEndpoint], company_id: str, env: Environment) -> WebhookEndpoint | None:
    """The exact match, else the closest plenigo endpoint (deterministic: ties go to the oldest, then by ID)."""
    candidates = [e for e in endpoints if points_at_plenigo(e)]
    if not candidates:
        return None
    expected = callback_url(company_id, env)
    return max(candidates, key=lambda e: (_score(e, expected, company_id, env), -(e.created or 0), e.id))


def _score(endpoint: WebhookEndpoint, expected: str, company_id: str, env: Environment) -> int:
    if endpoint.url == expected:
        return 100
    parts = UrlParts.of(endpoint.url)
    score = 0
    score += 8 if path_company_id(parts.path) == company_id else 6 if for_company(endpoint, company_id) else 0
    score += 4 if parts.host == CALLBACK_HOSTS[env] else 0
    score += 2 if endpoint.status == "enabled" else 0
    score += 1 if parts.scheme == "https" else 0
    return score


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
    """How the path (and query) differ from /callbacks/v1.0/stripe/<companyID> (empty when right)."""
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
