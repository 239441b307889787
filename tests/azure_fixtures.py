"""Generated repos and plans for the Azure ML tests: real cookiecutter, real azure-ai-ml loaders, fake workspace."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml
from azure.ai.ml.entities import Model
from fake_workspace import SCORES, FakeMLClient, Workspace

from mlops.azureml.champion import find_champion
from mlops.azureml.job_watch import Deadlines
from mlops.azureml.provenance import Provenance
from mlops.azureml.release_plan import ReleasePlan, write_plan
from mlops.azureml.retry import RetryPolicy
from mlops.gate import rule_from_config, rule_to_config
from mlops.gate_evaluation import make_record
from mlops.gate_report import registration_marks
from mlops.project import load_project

COMMIT = "3f9c2a1b7d4e5f60718293a4b5c6d7e8f9a0b1c2"
NEXT_COMMIT = "a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e"
CI_ENV = {"GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "1"}
FAST = RetryPolicy(attempts=4, base_seconds=0.0, sleep=lambda seconds: None)
QUICK = Deadlines(poll_seconds=0, first_poll_seconds=0, sleep=lambda seconds: None)

def edit_yaml(path: Path, change) -> None:
    """Apply ``change(data)`` to a YAML config in place."""
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def edit_json(path: Path, change) -> None:
    """Apply ``change(data)`` to a JSON config in place."""
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


def make_plan(repo: Path, commit: str = COMMIT, env: dict | None = None, pull_request: str = "7") -> ReleasePlan:
    """The plan of ``repo`` for ``commit``, written to a folder of its own."""
    project = load_project(repo)
    directory = repo / "build" / f"azureml-{commit[:7]}"
    if directory.exists():
        shutil.rmtree(directory)
    return write_plan(project, Provenance(commit, pull_request, ""), env or CI_ENV, directory)


def with_model(workspace: Workspace, name: str, commit: str, endpoint: str = "iris-classifier-svc") -> None:
    """A model version registered from ``commit``, as ``mlops train`` leaves it: with a passing gate verdict,
    judged (a tie) against whatever the endpoint serves now."""
    client = FakeMLClient(workspace)
    champion = find_champion(client, endpoint, FAST, log=lambda line: None)
    rule = rule_to_config(rule_from_config(None, "sklearn"))
    settings = {"script": "evaluate.py", "framework": "sklearn", "rule": rule}
    record = make_record(settings, "evaluation_data", SCORES, SCORES if champion else None,
                         champion.label if champion else None)
    tags, properties = registration_marks(record, gated=True)
    client.models.create_or_update(Model(name=name, path="azureml://jobs/x/outputs/artifacts/paths/outputs/",
                                         type="custom_model", properties=properties,
                                         tags={"git_commit": commit, "job": f"job-{commit[:7]}", **tags}))
    workspace.mutations = 0
    workspace.calls.clear()
