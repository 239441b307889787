"""Production's release: deploy an exact registry version blue/green, never a model trained for it.

The documents are the plan's endpoint and deployment, rewritten for production (its endpoint, the
registry's model and scoring environment by exact version) and written to ``build/azureml/production/``,
then loaded back with azure-ai-ml's loaders: what production gets is a file a reviewer can read.
The rollout is :func:`mlops.azureml.deployment.roll_out`, the path staging takes, so a failure before the
traffic shift puts production's traffic back and deletes the new deployment; staging is never touched
(production's client reaches production's workspace only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlops.azureml import release_documents as docs
from mlops.azureml.deployment import DeployResult, Release, check_shipped_files, roll_out
from mlops.azureml.names import check_deployment_name
from mlops.azureml.registry import RegistryVersion
from mlops.azureml.release_plan import ReleasePlan, load_entity
from mlops.azureml.retry import RetryPolicy
from mlops.errors import MlopsError
from mlops.stages import Stage

PRODUCTION_DIR = "production"


@dataclass(frozen=True)
class Promotion:
    """What production was asked to serve, and where its endpoint stands afterwards."""

    stage: str
    shared: RegistryVersion
    result: DeployResult
    gate: Any = None  # mlops.azureml.production_gate.ProductionVerdict; None: no gate (or a rollback)


def production_deployment_name(version: str, commit: str) -> str:
    """``v<version>-c<commit>``: the registry version served and the commit of the scoring code shipped with it."""
    if not re.fullmatch(r"[0-9a-f]{7,40}", commit):
        raise MlopsError(f"git commit {commit!r} is not a hex hash: run in a git checkout or set GITHUB_SHA")
    return f"v{version}-c{commit[:7]}"


def write_stage_documents(plan: ReleasePlan, stage: Stage, shared: RegistryVersion) -> dict[str, Path]:
    """Production's endpoint and deployment documents, next to the plan's (same scoring code, same settings)."""
    project = plan.project
    name = production_deployment_name(shared.version, plan.provenance.commit)
    check_deployment_name(name, stage.service_name, project.compute.kubernetes)
    tags = {**plan.provenance.tags(), "registry_version": shared.version,
            "trained_from_commit": shared.commit or "unknown"}
    endpoint = {**docs.endpoint_document(project), "name": stage.service_name}
    deployment = {**docs.deployment_document(project, plan.names, tags), "name": name,
                  "endpoint_name": stage.service_name, "model": shared.model_uri,
                  "environment": shared.environment_uri}
    deployment["code_configuration"] = {**deployment["code_configuration"], "code": f"../{docs.SCORING_DIR}"}
    directory = plan.directory / PRODUCTION_DIR
    directory.mkdir(parents=True, exist_ok=True)
    written = {}
    for file_name, document in (("endpoint.yml", endpoint), ("deployment.yml", deployment)):
        path = directory / file_name
        path.write_text(yaml.safe_dump(document, sort_keys=False, width=1000), encoding="utf-8")
        written[file_name] = path
    return written


def stage_release(plan: ReleasePlan, stage: Stage, shared: RegistryVersion, subscription_id: str = "") -> Release:
    """The :class:`Release` that puts ``shared`` behind ``stage``'s endpoint, from its written documents."""
    project = plan.project
    settings = project.experiment.deploy
    check_shipped_files(project)
    entities = {name: load_entity(path) for name, path in write_stage_documents(plan, stage, shared).items()}
    workspace_id = "/".join((subscription_id, stage.resource_group, stage.workspace_name))
    return Release(endpoint=entities["endpoint.yml"], deployment=entities["deployment.yml"], environment=None,
                   model=shared.model_uri,
                   request_file=project.path(settings.sample_request),
                   rollout=[dict(step) for step in settings.rollout], step_seconds=settings.step_seconds,
                   timeout_seconds=settings.timeout_minutes * 60, workspace_id=workspace_id,
                   region=stage.location or "its region")


def deploy_shared_version(client: Any, plan: ReleasePlan, stage: Stage, shared: RegistryVersion,
                          policy: RetryPolicy, log=print) -> Promotion:
    """Roll ``shared`` out to ``stage`` (production) blue/green with ``client``, that stage's workspace client."""
    release = stage_release(plan, stage, shared, str(getattr(client, "subscription_id", "") or ""))
    log(f"{stage.name}: registry version {shared.version} ({shared.model_uri}) to endpoint {stage.service_name}")
    return Promotion(stage.name, shared, roll_out(client, release, policy, log))
