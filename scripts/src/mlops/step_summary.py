"""Markdown summaries of a run for GitHub Actions' job page (the file named by ``GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def metrics_table(title: str, metrics: dict[str, Any], notes: list[str] = ()) -> str:
    """A markdown section: a heading, a two-column table of the metrics, then one line per note."""
    lines = [f"### {title}", ""]
    if metrics:
        lines += ["| metric | value |", "|---|---:|"]
        lines += [f"| {table_cell(name)} | {table_cell(_format(value))} |" for name, value in metrics.items()]
    else:
        lines.append("No metrics were written (outputs/metrics.json is missing).")
    lines += ["", *notes] if notes else []
    return "\n".join(lines) + "\n\n"


def append_step_summary(markdown: str, environ: dict[str, str] = os.environ) -> Path | None:
    """Append ``markdown`` to the step summary file when running in GitHub Actions; return the file or None."""
    target = environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(markdown.rstrip() + "\n\n")
    return path


def set_step_output(name: str, value: str, environ: dict[str, str] = os.environ) -> Path | None:
    """Write ``name=value`` to the step's outputs (``GITHUB_OUTPUT``) in GitHub Actions; return the file or None.

    How a job hands a value to the jobs that need it: ``needs.<job>.outputs.<name>``.
    """
    if "\n" in value or "\r" in value:
        raise ValueError(f"step output {name}: a value on one line only")
    target = environ.get("GITHUB_OUTPUT")
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"{name}={value}\n")
    return path


def _format(value: Any) -> str:
    if isinstance(value, float):
        return str(round(value, 4))
    return str(value)


def table_cell(text: str) -> str:
    """``text`` made safe for one cell of a markdown table (no pipe, no line break)."""
    return str(text).replace("|", "\\|").replace("\n", " ")
