"""The one small interface every renderer implements, apart from the registry that finds them.

Renderer modules import :class:`RenderOptions` from here, never from :mod:`auditor.render`: the
registry there imports the renderer modules by name, so a renderer importing the registry's module
would close an import cycle (tests/architecture/test_imports.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # pydantic is imported by whoever renders, not by whoever lists the formats
    from auditor.results import RunResult


@dataclass(frozen=True)
class RenderOptions:
    """What a renderer may need beyond the results."""

    previous: RunResult | None = None  # an earlier run, for the "changes" section
    color: bool = False
    title: str = "plenigo Stripe compliance audit"
    extra: dict[str, Any] = field(default_factory=dict)


class Renderer(Protocol):
    name: str
    filename: str | None  # None: written to standard output

    def render(self, run: RunResult, options: RenderOptions) -> bytes: ...
