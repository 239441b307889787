"""Stage the code snapshot a training job runs: the assembled training script, the ``local`` folders, the gate.

The smoke run executes in this snapshot exactly as the Azure job does, so a data file that the
experiment file forgot to list under ``local`` fails on the pull request, not in Azure. The training
script is staged assembled (see :mod:`mlops.assembly`): the pull request and Azure run the same bytes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from mlops.assembly import assemble_file
from mlops.frameworks import get_framework
from mlops.gate_staging import stage_gate
from mlops.project import Project

IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "outputs")


def stage_job_code(project: Project, destination: Path, log=print) -> Path:
    """Copy the job's files to a fresh ``destination`` and return the staged, assembled training script.

    ``log`` receives the assembler's warnings (unknown section markers).
    """
    script = project.experiment.train.script
    assembly = assemble_file(project.path(script), get_framework(project.experiment.framework), script)
    for warning in assembly.warnings:
        log(str(warning))
    stage_files(project.root, [script, *project.experiment.local], destination)
    (destination / script).write_text(assembly.text, encoding="utf-8")
    stage_gate(project, destination)
    return destination / script


def stage_files(root: Path, items: list[str], destination: Path) -> None:
    """Copy ``items`` (paths relative to ``root``) into a fresh ``destination``, keeping their layout."""
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    for relative in items:
        source, target = root / relative, destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=IGNORED, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
