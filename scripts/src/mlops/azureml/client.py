"""Build the one ``MLClient`` a command uses, from azure-config.json and any TokenCredential.

``MLClient(...)`` makes no network call; the first operation does. The subscription comes from
``AZURE_SUBSCRIPTION_ID`` (what the workflows set from a secret) or azure-config.json.
"""

from __future__ import annotations

from typing import Any

from mlops.errors import MlopsError
from mlops.project import Project


def workspace_coordinates(project: Project, env: dict[str, str]) -> dict[str, str]:
    """Subscription, resource group and workspace name of the project's workspace."""
    subscription = env.get("AZURE_SUBSCRIPTION_ID") or project.azure.get("subscription_id")
    if not subscription:
        raise MlopsError("AZURE_SUBSCRIPTION_ID is not set and azure-config.json has no subscription_id: "
                         "export AZURE_SUBSCRIPTION_ID (in GitHub: the secret of the same name)")
    return {"subscription_id": subscription, "resource_group_name": project.azure["resource_group"],
            "workspace_name": project.azure["workspace_name"]}


def build_ml_client(project: Project, credential: Any, env: dict[str, str]) -> Any:
    """An ``azure.ai.ml.MLClient`` for the project's workspace, authenticated with ``credential``."""
    from azure.ai.ml import MLClient

    return MLClient(credential=credential, **workspace_coordinates(project, env))
