"""The quality gate in the release's Azure ML documents and in the plan's words.

The training job's command gains the gate's step (``&& python -m mlops_gate.gate_evaluation ...``),
in the same job, environment and compute as the training, and its inputs gain the pinned evaluation
data and, when a model serves, the champion as a ``custom_model`` input. The champion is read from
the endpoint when ``mlops train`` (or ``mlops plan --workspace``) runs; the offline plan has none.
"""

from __future__ import annotations

import shlex
from typing import Any

from mlops.azureml.champion import Champion, find_champion
from mlops.azureml.release_documents import binding
from mlops.azureml.retry import RetryPolicy
from mlops.gate_staging import (
    CHAMPION_INPUT,
    EVALUATION_INPUT,
    MODULE,
    evaluation_arguments,
    evaluation_input,
    gate_section,
    project_rule,
)
from mlops.project import Input, Project

DATA_KEY = "gate-evaluation"


def read_champion(client: Any, project: Project, policy: RetryPolicy, log=print) -> Champion | None:
    """The champion the gate compares with, read from the endpoint; None without a gate or a serving model."""
    if gate_section(project) is None:
        return None
    champion = find_champion(client, project.experiment.service_name, policy, log)
    log(f"Quality gate: champion {champion.label} (deployment {champion.deployment}, {champion.traffic}% of traffic)"
        if champion else "Quality gate: nothing serves yet, a first release: only the floors apply")
    return champion


def data_inputs(project: Project) -> dict[str, Input]:
    """The gate's evaluation data as one more input to register (under the key ``gate-evaluation``)."""
    return {DATA_KEY: evaluation_input(project)} if gate_section(project) is not None else {}


def with_gate(project: Project, job: dict[str, Any], champion: Champion | None,
              registered: dict[str, str]) -> dict[str, Any]:
    """The job document with the gate's step appended to its command and the gate's inputs added.

    ``registered`` maps an input to the data asset version the plan registers for it (a content hash).
    """
    if gate_section(project) is None:
        return job
    spec = evaluation_input(project)
    reference = registered.get(DATA_KEY, spec.azure)
    inputs = {**job.get("inputs", {}), EVALUATION_INPUT: {"type": spec.type, "path": reference}}
    if champion is not None:
        inputs[CHAMPION_INPUT] = {"type": "custom_model", "path": champion.job_input}
    # Bindings stay bare (Azure replaces them before the shell runs); names are quoted, a URI may hold '&'.
    arguments = evaluation_arguments(binding(EVALUATION_INPUT), shlex.quote(reference),
                                     champion and binding(CHAMPION_INPUT), champion and shlex.quote(champion.label))
    command = f"{job['command']} && python -m {MODULE} {' '.join(arguments)}"
    return {**job, "inputs": inputs, "command": command}


def describe_gate(project: Project, champion: Champion | None, offline: bool) -> list[tuple[str, str, str, str, str]]:
    """(what, name, action, detail, command) of the gate's items in the plan, for ``describe_plan``."""
    if gate_section(project) is None:
        return [("quality gate", "none", "no gate: `mlops deploy` releases any model that answers the sample request",
                 f"add a gate: section to {project.experiment_file.name} to compare each model with the one "
                 "serving", "deploy")]
    spec = evaluation_input(project)
    if champion is not None:
        against = (f"champion {champion.label} (deployment {champion.deployment}, {champion.traffic}% of "
                   f"{champion.endpoint}'s traffic)")
    elif offline:
        against = ("the champion read from the endpoint when `mlops train` runs (the model of the deployment "
                   "with the most traffic); none yet means a first release, floors only")
    else:
        against = "no champion (nothing serves yet): a first release, only the floors apply"
    rule = "; ".join(project_rule(project).words())
    return [
        ("quality gate evaluation (in the training job, same environment and compute)",
         f"{spec.azure} with {gate_section(project).evaluation_script}", "run after training, in the same job",
         f"scores the new model and {against}, on the same pinned data with the same code; the verdict goes to "
         "outputs/gate.json and onto the registered model", "train"),
        ("quality gate (release decision)", project.experiment.model_name,
         "refuse the release before any deployment is created if the rule fails",
         f"rule: {rule}; override: `mlops deploy --override-gate REASON` (the reason is recorded on the model)",
         "deploy"),
    ]
