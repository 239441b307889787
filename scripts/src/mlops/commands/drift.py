"""mlops drift: say how far this repo is behind its template (the weekly workflow runs it)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops.drift import Drift

HELP = "check with cruft whether the template has moved on; list what this repo lacks (read-only)"


def add_arguments(parser) -> None:
    """No options: the repo is chosen with ``mlops -C DIR``."""


def drift(project_dir: Path) -> Drift:
    """Whether the repo is behind its template, and the template commits it lacks."""
    from mlops.drift import check_drift

    return check_drift(project_dir)


def run(args) -> int:
    """Print the verdict and the missing commits, write them to the step summary; exit 1 when behind."""
    from mlops.drift import UPDATE_HOW, drift_headline, drift_markdown
    from mlops.step_summary import append_step_summary

    found = drift(args.project_dir)
    print(f"drift: {drift_headline(found)}")
    for commit in found.commits:
        print(f"  {commit.sha} {commit.date} {commit.subject}")
    append_step_summary(drift_markdown(found))
    if found.behind:
        print(f"drift: to update, {UPDATE_HOW}")
        return 1
    return 0
