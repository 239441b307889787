"""Which Azure roles each environment's identity gets, and where: one stage, or staging and production.

One stage: the ``production`` identity deploys to the workspace (AzureML Data Scientist there). Two
stages (``azure-stages.json``): the ``staging`` identity deploys to staging's workspace and writes the
registry (it shares what staging served); the ``production`` identity reads the registry and deploys to
production's workspace, nothing else. The train job's identity is the repository's (its own custom
role, :mod:`mlops.bootstrap`). Same-workspace production is one workspace for both: Azure RBAC cannot
tell its two endpoints apart, which the generated README says.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlops.project import StagesSettings

DATA_SCIENTIST = "AzureML Data Scientist"
REGISTRY_USER = "AzureML Registry User"
# Built-in Reader on the registry alone: registries/read and registries/assets/read, so production can
# resolve azureml://registries/... URIs and deploy them, and cannot share, change or delete anything there.
REGISTRY_READER = "Reader"
REGISTRIES = "Microsoft.MachineLearningServices/registries"


@dataclass(frozen=True)
class Grant:
    """One role assignment: ``role`` on ``scope``, and why (the script's comment says it)."""

    role: str
    scope: str
    why: str


@dataclass(frozen=True)
class Registry:
    """The registry two stages share, as bootstrap looks it up before any change."""

    name: str
    resource_group: str
    scope: str


def workspace_scope(subscription: str, resource_group: str, workspace: str) -> str:
    """The Azure resource ID of the workspace: the narrowest scope a role can have here."""
    return (f"/subscriptions/{subscription}/resourceGroups/{resource_group}"
            f"/providers/Microsoft.MachineLearningServices/workspaces/{workspace}")


def registry_of(stages: StagesSettings | None, subscription: str, resource_group: str) -> Registry | None:
    """The registry of a two-stage repo (in staging's resource group unless azure-stages.json names one)."""
    if stages is None:
        return None
    group = stages.registry.resource_group or resource_group
    return Registry(stages.registry.name, group,
                    f"/subscriptions/{subscription}/resourceGroups/{group}/providers/{REGISTRIES}/{stages.registry.name}")


def environment_grants(stages: StagesSettings | None, subscription: str, resource_group: str,
                       workspace: str) -> dict[str, list[Grant]]:
    """Each stage's roles by environment; one stage names none (each environment gets :func:`default_grants`)."""
    if stages is None:
        return {}
    staging_workspace = workspace_scope(subscription, resource_group, workspace)
    deploys = "it creates and changes the endpoint"
    registry = registry_of(stages, subscription, resource_group)
    production = stages.production
    production_workspace = workspace_scope(production.subscription_id or subscription, production.resource_group,
                                           production.workspace_name)
    return {
        "staging": [Grant(DATA_SCIENTIST, staging_workspace, f"on staging's workspace only ({deploys})"),
                    Grant(REGISTRY_USER, registry.scope,
                          f"on the registry {registry.name} only: `mlops share` writes the model staging served")],
        "production": [Grant(DATA_SCIENTIST, production_workspace,
                             f"on production's workspace only ({deploys}); no role on staging's"
                             + (" (the same workspace here: see the README)"
                                if production_workspace.lower() == staging_workspace.lower() else "")),
                       Grant(REGISTRY_READER, registry.scope,
                             f"on the registry {registry.name} only: read, to deploy the version staging shared")],
    }


def default_grants(workspace: str) -> list[Grant]:
    """The roles of an environment the stages do not name: Data Scientist on the workspace, as before stages."""
    return [Grant(DATA_SCIENTIST, workspace, "on the workspace only (it creates and changes the endpoint)")]
