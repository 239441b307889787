"""Errors meant for people: one line that says where, what is wrong and what to do."""

from __future__ import annotations

from collections.abc import Sequence

from mlops.findings import Finding


class MlopsError(Exception):
    """A failure the user can fix; the CLI prints its text and exits non-zero, without a traceback.

    ``findings`` carries the located problems behind it, when there are any, so callers read them
    instead of parsing the message.
    """

    exit_code = 1
    findings: tuple[Finding, ...] = ()

    def __init__(self, message: str = "", *, findings: Sequence[Finding] = ()) -> None:
        super().__init__(message or "; ".join(str(f) for f in findings))
        self.findings = tuple(findings)


class UsageError(MlopsError):
    """The command line itself is wrong."""

    exit_code = 2
