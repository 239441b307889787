"""Errors meant for people: one line that says where, what is wrong and what to do."""

from __future__ import annotations


class MlopsError(Exception):
    """A failure the user can fix; the CLI prints its text and exits non-zero, without a traceback."""

    exit_code = 1


class UsageError(MlopsError):
    """The command line itself is wrong."""

    exit_code = 2
