"""mlops share: copy the model staging serves, and its scoring environment, into the registry by exact version."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops.azureml.registry import RegistryVersion

HELP = "two stages: share this commit's staging model and scoring environment into the registry (exact version)"

OUTPUT_NAME = "version"


def add_arguments(parser) -> None:
    """No options: the registry is named in azure-stages.json, the model by this commit."""


def share(project_dir: Path, *, log: Callable[[str], None] = print) -> RegistryVersion:
    """Share the model this commit's staging release serves, under its staging version number."""
    from mlops.azureml.production_gate import warn_if_record_lost
    from mlops.azureml.registry import served_model, serving_environment_name, share_version
    from mlops.azureml.retry import RetryPolicy
    from mlops.commands import _azure
    from mlops.project import load_project
    from mlops.stages import STAGING, stage_named

    project = load_project(project_dir)
    stage_named(project, STAGING)  # a single-stage repo has no registry: say so before writing the plan
    plan = _azure.plan_project(project)
    policy = RetryPolicy()
    workspace = _azure.connect(project)
    model = served_model(workspace, project.experiment.service_name, plan.names.deployment, policy, log)
    environment = (serving_environment_name(project.experiment.environment_name),
                   plan.names.serving_environment_version)
    registry = _azure.connect_registry(project)
    shared = share_version(workspace, registry, project.stages.registry.name, model, environment, policy, log)
    warn_if_record_lost(model, registry, shared, policy, log)
    return shared


def run(args) -> int:
    """Share; print the version and hand it to the next job as the step output ``version``."""
    import os

    from mlops.azureml.release_summary import shared_markdown
    from mlops.step_summary import append_step_summary, set_step_output

    shared = share(args.project_dir)
    env = dict(os.environ)
    print(f"\nShared version {shared.version} into registry {shared.registry}:\n  {shared.model_uri}\n"
          f"  {shared.environment_uri}")
    set_step_output(OUTPUT_NAME, shared.version, env)
    append_step_summary(shared_markdown(shared.registry, shared.model_uri, shared.environment_uri, shared.version),
                        env)
    return 0
