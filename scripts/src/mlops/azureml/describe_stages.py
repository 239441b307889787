"""The two-stage part of the plan in words: what ``mlops share`` and ``mlops promote`` will do.

Offline, the registry version is not known yet (it is the staging model's version, printed by the share
step of the deploy run), so production's documents are written with the version ``N`` and the words say
where the number comes from.
"""

from __future__ import annotations

from mlops.azureml.describe import Item
from mlops.azureml.promotion import write_stage_documents
from mlops.azureml.registry import RegistryVersion, serving_environment_name
from mlops.azureml.release_plan import ReleasePlan, load_entity
from mlops.stages import Stage

PLANNED_VERSION = "N"


def planned_version(plan: ReleasePlan) -> RegistryVersion:
    """The registry version a run of this commit shares, with ``N`` for the number staging assigns."""
    project = plan.project
    return RegistryVersion(project.stages.registry.name, project.experiment.model_name,
                           serving_environment_name(project.experiment.environment_name), PLANNED_VERSION,
                           plan.provenance.commit)


def describe_stages(plan: ReleasePlan, staging: Stage, production: Stage) -> list[Item]:
    """Write production's documents (loaded back with the SDK's loaders) and say what share and promote do."""
    shared = planned_version(plan)
    written = write_stage_documents(plan, production, shared)
    for path in written.values():
        load_entity(path)
    same_workspace = production.workspace_key == staging.workspace_key
    where = (f"staging's workspace {production.workspace_name}, on its own endpoint" if same_workspace else
             f"workspace {production.workspace_name} (resource group {production.resource_group}, "
             f"{production.location or 'region not set'})")
    deployment = written["deployment.yml"].parent.name + "/" + written["deployment.yml"].name
    return [
        Item("registry version (the model staging serves and its scoring environment, under one number)",
             f"{shared.registry}: {shared.model} and {shared.environment}, version N",
             "share if missing (shared from this commit already: reuse; from another commit: refuse)",
             f"N is the staging model's version, printed by the share step; production deploys exactly N "
             f"({shared.model_uri}), never latest", "share"),
        Item("production endpoint (production's stable URL)", production.service_name,
             "create if missing, else keep",
             f"in {where}; staging's endpoint {staging.service_name} is never touched by this job", "promote"),
        Item("production deployment (the registry version behind production's endpoint)",
             f"v{PLANNED_VERSION}-c{plan.provenance.commit[:7]}",
             "after approval in the GitHub environment production: create at 0% traffic, then take over",
             f"no training: the model and scoring environment come from the registry ({deployment}); answers the "
             "sample request before any traffic; on failure production's traffic stays as it was; "
             "`mlops rollback --version M` (rollback.yml) serves an earlier M the same way", "promote"),
    ]
