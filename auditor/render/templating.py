"""One Jinja2 environment over the ``report_templates`` package, with autoescaping on.

Every HTML the auditor writes (the report, the PDF's HTML, later the email and
the checklist) comes from here, so untrusted text (tenant names, and URLs and
descriptions from Stripe) is always escaped and the final text always scrubbed
of secrets. Templates are found through the installed package, never the
current folder.

    from auditor.render.templating import render_template, stylesheet
    html = render_template("email.html.j2", title=..., generated=..., medium="screen",
                           css=stylesheet(), view=build_view(run, previous), ...)

The shared layout is ``base.html.j2`` (blocks ``content``, ``colophon``,
``script``); ``_summary.html.j2`` is the summary (verdict, counts, charts,
changes) and ``_macros.j2`` the badges, matrix cells and findings.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import jinja2

from auditor import __version__
from auditor.redact import mask, scrub
from auditor.render.triage import plural

PACKAGE = "auditor.report_templates"


def _num(value: int | float) -> str:
    """1234 → ``1,234``."""
    return f"{value:,}"


TIME_FORMAT = "%Y-%m-%d %H:%M UTC"  # the one way every output writes a point in time


def when(value: datetime | str | None) -> str:
    """A datetime or ISO text as ``2026-11-22 06:00 UTC`` (naive times are UTC)."""
    if value is None or value == "":
        return "—"
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime(TIME_FORMAT)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The shared environment: package loader, autoescape on, undefined variables are errors."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(PACKAGE, "."),
        autoescape=lambda name: not (name or "").endswith(".txt.j2"),  # plain-text mail is not HTML
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["mask"] = mask
    env.filters["num"] = _num
    env.filters["when"] = when
    env.globals["plural"] = plural
    env.globals["tool_version"] = __version__
    return env


def render_template(name: str, **context: Any) -> str:
    """Render the template ``name`` with ``context``; the result is scrubbed of anything secret."""
    return scrub(environment().get_template(name).render(**context))


def render_bytes(name: str, chunk: int = 1 << 16, **context: Any) -> bytes:
    """:func:`render_template` as UTF-8, streamed: a fleet's report never exists twice in memory as text.

    Scrubbed a block of whole lines at a time (a secret never spans a line break).
    """
    out = io.BytesIO()
    pending: list[str] = []
    size = 0
    for piece in environment().get_template(name).generate(**context):
        pending.append(piece)
        size += len(piece)
        if size >= chunk and "\n" in piece:
            text = "".join(pending)
            cut = text.rindex("\n") + 1
            out.write(scrub(text[:cut]).encode("utf-8"))
            pending, size = [text[cut:]], len(text) - cut
    out.write(scrub("".join(pending)).encode("utf-8"))
    return out.getvalue()


@lru_cache(maxsize=8)
def stylesheet(*names: str) -> str:
    """Stylesheets of the package joined, for inlining (reports carry no external assets).

    ``stylesheet()`` is ``report.css``; the PDF uses ``stylesheet("report.css", "print.css")``.
    """
    env = environment()
    return "\n".join(env.loader.get_source(env, name)[0] for name in (names or ("report.css",)))  # type: ignore[union-attr]
