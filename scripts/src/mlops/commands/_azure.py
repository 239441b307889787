"""What the Azure commands share: the project, its plan, and the client for its workspace.

The client is built by :func:`mlops.azure_client.ml_client`, with the credential chooser's choice
(GitHub OIDC in Actions, a service principal, or ``az login``). The Azure logic never builds one: it
receives the client as a parameter. Tests replace :func:`connect` to hand the commands a client of
their own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def load_plan(project_dir: Path, champion: Any = None) -> Any:
    """Validate the project and write its plan to build/azureml/ (offline); ``champion`` goes to the gate."""
    from mlops.project import load_project

    return plan_project(load_project(project_dir), champion)


def plan_project(project: Any, champion: Any = None) -> Any:
    """Write a validated project's plan to build/azureml/ (offline; azure-ai-ml loads every file)."""
    from mlops.azureml.provenance import read_provenance
    from mlops.azureml.release_plan import write_plan

    env = dict(os.environ)
    return write_plan(project, read_provenance(project.root, env), env, champion=champion)


def connect(project: Any) -> Any:
    """The MLClient for the project's workspace, logged in with the credential chooser's choice."""
    from mlops.azure_client import ml_client
    from mlops.config import AzureConfig

    return ml_client(AzureConfig(project.root))


def connect_stage(project: Any, stage: Any) -> Any:
    """The MLClient for a stage's workspace (``mlops.stages.Stage``), logged in as the job's identity."""
    from mlops.azure_client import other_workspace_client
    from mlops.config import AzureConfig

    return other_workspace_client(AzureConfig(project.root), stage.resource_group, stage.workspace_name,
                                  stage.subscription_id)


def connect_registry(project: Any) -> Any:
    """The MLClient for the project's registry (``azure-stages.json``)."""
    from mlops.azure_client import registry_client
    from mlops.config import AzureConfig

    return registry_client(AzureConfig(project.root), project.stages.registry.name)


@contextmanager
def azure_errors() -> Iterator[None]:
    """Turn Azure's expected refusals (403, 400, the SDK's validation) into one-line errors with the fix."""
    from mlops.azureml.faults import explain_refusal

    try:
        yield
    except Exception as error:
        explained = explain_refusal(error)
        if explained is None:
            raise
        raise explained from None
