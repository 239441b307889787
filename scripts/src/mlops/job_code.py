"""Stage the code snapshot a training job runs: the training script and the ``local`` folders, nothing else.

The smoke run executes in this snapshot exactly as the Azure job does, so a data file that the
experiment file forgot to list under ``local`` fails on the pull request, not in Azure.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from mlops.project import Project

IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "outputs")


def stage_job_code(project: Project, destination: Path) -> Path:
    """Copy the job's files to a fresh ``destination`` and return the staged training script."""
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    script = project.experiment["train"]["script"]
    items = [script, *project.experiment.get("local", [])]
    for relative in items:
        source, target = project.path(relative), destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=IGNORED, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
    return destination / script
