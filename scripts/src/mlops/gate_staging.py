"""The quality gate of an experiment: its rule and evaluation input, and what the training job carries for it.

The job's code snapshot gets a ``mlops_gate/`` package (copies of :mod:`mlops.gate` and
:mod:`mlops.gate_evaluation` with the resolved rule in ``rule.json``) and the author's evaluation
script, so the job judges with the toolkit's own code without the toolkit installed, and the smoke run
executes exactly those files.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import mlops.gate as gate
import mlops.gate_evaluation as gate_evaluation
from mlops.project import GateSettings, Input, Project

PACKAGE = "mlops_gate"
MODULE = f"{PACKAGE}.gate_evaluation"
EVALUATION_INPUT = "evaluation_data"
CHAMPION_INPUT = "champion_model"


def gate_section(project: Project) -> GateSettings | None:
    """The experiment file's ``gate:`` settings, or None when the experiment has no gate."""
    return project.experiment.gate


def project_rule(project: Project) -> gate.Rule:
    """The rule that applies to this experiment: its ``gate:`` section over the framework's defaults."""
    settings = gate_section(project)
    return gate.rule_from_config(settings.rule if settings else None, project.experiment.framework)


def evaluation_input(project: Project) -> Input:
    """The pinned evaluation data, an input like a training input (type, azure, sample, register_from)."""
    return gate_section(project).evaluation_data


def settings(project: Project) -> dict[str, Any]:
    """What the job's ``rule.json`` holds: the evaluation script, the framework and the resolved rule."""
    return {"script": gate_section(project).evaluation_script, "framework": project.experiment.framework,
            "rule": gate.rule_to_config(project_rule(project))}


def stage_gate(project: Project, destination: Path) -> None:
    """Put the gate's package and the evaluation script into the job's staged code at ``destination``."""
    if gate_section(project) is None:
        return
    package = destination / PACKAGE
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text('"""The quality gate, staged by mlops for the training job."""\n',
                                         encoding="utf-8")
    for module in (gate, gate_evaluation):
        shutil.copy2(module.__file__, package / Path(module.__file__).name)
    (package / gate_evaluation.RULE_FILE).write_text(json.dumps(settings(project), indent=2) + "\n",
                                                     encoding="utf-8")
    script = gate_section(project).evaluation_script
    target = destination / script
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(project.path(script), target)


def evaluation_arguments(data: str, label: str, champion_model: str | None = None,
                         champion: str | None = None) -> list[str]:
    """The arguments of the gate's step, for the job's command and for the smoke run."""
    arguments = ["--evaluation_data", data, "--evaluation_label", label]
    if champion_model:
        arguments += ["--champion_model", champion_model, "--champion", champion or "champion"]
    return arguments
