"""Where a use case's messages go: the command line passes one in, a test may pass its own."""

from __future__ import annotations

from typing import Protocol


class Output(Protocol):
    """Standard output for reports that go there, standard error for what a person should notice."""

    def report(self, text: str) -> None:
        """Write ``text`` to standard output as it is (no newline added)."""

    def note(self, line: str) -> None:
        """Write one line to standard error ("wrote report.html", "sent 2 of 2 email(s) ...")."""
