"""What can stop a use case before it has done anything, as plain exceptions with their exit codes.

The command line maps them to click (auditor/commands/common.py); their text
is what the user reads on standard error.
"""

from __future__ import annotations

from auditor.redact import scrub

USAGE = 2  # ExitCode.USAGE, without importing pydantic for it
NOT_AUDITED = 3  # ExitCode.NOT_AUDITED


class AppError(Exception):
    """A stop with a message and an exit code; nothing was audited or written."""

    exit_code = USAGE
    holds_user_text = False  # True: the text may quote a file's bytes, so control characters are shown escaped

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def text(self) -> str:
        """What standard error shows."""
        return self.message


class UsageProblem(AppError):
    """Options that do not fit together or name what does not exist (click's usage error)."""

    def __init__(self, message: str, option: str | None = None) -> None:
        super().__init__(message)
        self.option = option  # the option to blame ("--format"), or None for the command line as a whole


class ConfigurationProblem(AppError):
    """A tenant or waiver file that cannot be used: the message names file, tenant and field."""

    holds_user_text = True

    def text(self) -> str:
        return f"configuration error: {self.message}\nnothing was audited and no report was written"


class NothingToAudit(AppError):
    """The selection matches no record: a usage error that says why."""

    def text(self) -> str:
        return f"nothing to audit: {self.message}\nnothing was audited and no report was written"


class StripeUnreachable(AppError):
    """Stripe cannot be reached at all: one message before the fleet, exit 3."""

    exit_code = NOT_AUDITED


class ResultsFileProblem(AppError):
    """A results file that cannot be read or is not this tool's."""

    holds_user_text = True

    def text(self) -> str:
        return scrub(f"error: {self.message}\nno report was written")  # a secrets file given by mistake
