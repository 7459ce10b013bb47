"""A pydantic validation error in one line a person can act on, without the value found there."""

from __future__ import annotations

from pydantic import ValidationError


def first_problem(exc: ValidationError, more: str = " (and {} more)") -> str:
    """``where: what`` of the first problem, then ``more`` with the count of the others.

    The input is left out: a file that fails validation may hold a secret in the very field.
    """
    error = exc.errors(include_input=False, include_url=False)[0]
    where = ".".join(str(part) for part in error.get("loc", ())) or "the top level"
    others = exc.error_count() - 1
    return f"{where}: {error.get('msg', 'invalid')}{more.format(others) if others else ''}"
