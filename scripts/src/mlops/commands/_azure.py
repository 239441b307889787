"""What the Azure commands share: the project, its plan, and the one place an MLClient is built.

The credential is chosen by ``mlops.credentials.get_credential`` (any azure-identity
TokenCredential: GitHub OIDC in Actions, a service principal, or ``az login``); it is imported here,
lazily, and nowhere in the Azure logic, which receives the client as a parameter.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def load_plan(project_dir: Path) -> Any:
    """Validate the project and write its plan to build/azureml/ (offline)."""
    from mlops.azureml.plan import write_plan
    from mlops.azureml.provenance import read_provenance
    from mlops.project import load_project

    project = load_project(project_dir)
    env = dict(os.environ)
    return write_plan(project, read_provenance(project.root, env), env)


def connect(project: Any) -> Any:
    """The MLClient for the project's workspace, logged in with the credential chooser's choice."""
    from mlops.config import AzureConfig

    config = AzureConfig(project.root)
    config.workspace  # noqa: B018 -- a missing subscription fails before any login is attempted
    return config.ml_client()


@contextmanager
def azure_errors() -> Iterator[None]:
    """Turn Azure's expected refusals (403, 400, the SDK's validation) into one-line errors with the fix."""
    from mlops.azureml.faults import explain

    try:
        yield
    except Exception as error:
        explained = explain(error)
        if explained is None:
            raise
        raise explained from None
