"""mlops drift: say how far this repo is behind its template (the weekly workflow runs it)."""

from __future__ import annotations

HELP = "check with cruft whether the template has moved on; list what this repo lacks (read-only)"


def add_arguments(parser) -> None:
    """No options: the repo is chosen with ``mlops -C DIR``."""


def run(args) -> int:
    """Print the verdict and the missing commits, write them to the step summary; exit 1 when behind."""
    from mlops.drift import UPDATE_HOW, check_drift, drift_headline, drift_markdown
    from mlops.step_summary import append_step_summary

    drift = check_drift(args.project_dir)
    print(f"drift: {drift_headline(drift)}")
    for commit in drift.commits:
        print(f"  {commit.sha} {commit.date} {commit.subject}")
    append_step_summary(drift_markdown(drift))
    if drift.behind:
        print(f"drift: to update, {UPDATE_HOW}")
        return 1
    return 0
