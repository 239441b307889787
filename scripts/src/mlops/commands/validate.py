"""mlops validate: check the three config files and the rules across them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops.validation import Report

HELP = "check azure-config.json, azure-compute-config.json and <experiment>.yml"


def add_arguments(parser) -> None:
    """No options: the repo is chosen with ``mlops -C DIR``."""


def validate(project_dir: Path) -> Report:
    """Every finding about the repo's configs; the repo is valid when ``report.errors`` is empty."""
    from mlops.validation import validate_project

    return validate_project(project_dir)


def run(args) -> int:
    """Print one line per finding (plus GitHub annotations in Actions); exit 1 when any is an error."""
    report = validate(args.project_dir)
    in_actions = os.environ.get("GITHUB_ACTIONS") == "true"
    for finding in report.findings:
        print(finding)
        if in_actions:
            print(finding.annotation())
    if report.errors:
        print(f"{len(report.errors)} error(s): fix them and run `mlops validate` again.")
        return 1
    warnings = len(report.findings)
    print(f"valid: {report.experiment_file.name}, azure-config.json, azure-compute-config.json"
          + (f" ({warnings} warning(s))" if warnings else ""))
    return 0
