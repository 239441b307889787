"""Jinja extensions this template loads through ``_extensions`` in cookiecutter.json.

cookiecutter and cruft put the template folder on ``sys.path`` while they render, so this module is
found wherever the template is used from (a local path, a git URL, ``cruft create``/``update``).
"""

from __future__ import annotations

import logging

from jinja2.ext import Extension

HOOK_LOGGER = "cookiecutter.hooks"


class _DropHookTraceback(logging.Filter):
    """Log a failed hook as one line: the hook has already said what is wrong and what to do."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and type(record.exc_info[1]).__name__ == "FailedHookException":
            record.exc_info = None
            record.exc_text = None
        return True


def with_suffix(name: str, suffix: str) -> str:
    """``name`` ending in ``suffix`` once: ``churn`` -> ``churn-model``, ``churn-model`` stays as it is."""
    return name if name.endswith(suffix) else f"{name}{suffix}"


class AnswerDefaults(Extension):
    """The ``with_suffix`` filter the derived defaults use, and hook failures without a traceback."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.filters["with_suffix"] = with_suffix
        logger = logging.getLogger(HOOK_LOGGER)
        if not any(isinstance(existing, _DropHookTraceback) for existing in logger.filters):
            logger.addFilter(_DropHookTraceback())
