"""Rules of a two-stage repo that span files: staging and production never share an endpoint.

Staging is azure-config.json's workspace with the experiment file's ``service_name``; production is
``azure-stages.json``'s. Two forms are supported: production in its own workspace, or in staging's
workspace with its own endpoint. Endpoint names are unique per Azure region, so even two workspaces
cannot use one name when they are in the same region.
"""

from __future__ import annotations

from pathlib import Path

from mlops.findings import Finding
from mlops.layout import STAGES_CONFIG
from mlops.positioned import Document

DEPLOY_WORKFLOW = ".github/workflows/deploy.yml"


def stage_checks(documents: dict[str, Document], root: Path | None = None) -> list[Finding]:
    """Findings about ``documents["stages"]`` against staging's workspace and endpoint, and the deploy workflow."""
    findings = _workflow_promotes(root) if root is not None else []
    return findings + _endpoint_names(documents)


def _workflow_promotes(root: Path) -> list[Finding]:
    """A repo given azure-stages.json by hand keeps its single-stage deploy.yml, which never promotes."""
    workflow = root / DEPLOY_WORKFLOW
    if not workflow.is_file() or "mlops promote" in workflow.read_text(encoding="utf-8", errors="replace"):
        return []
    return [Finding(STAGES_CONFIG, 1, 1, "", f"{DEPLOY_WORKFLOW} runs no `mlops promote`, so production would never "
                    "be deployed: use the two-stage workflows (generate with stages=staging-production and copy "
                    "deploy.yml and rollback.yml), or remove this file for one stage", severity="warning")]


def _endpoint_names(documents: dict[str, Document]) -> list[Finding]:
    stages, azure, experiment = documents["stages"], documents["azure"].data, documents["experiment"].data
    production = stages.data["production"]
    staging_endpoint = experiment["service_name"]
    if production["service_name"].lower() != staging_endpoint.lower():
        return []
    line, col = stages.position(("production", "service_name"))
    same_workspace = (production["resource_group"].lower(), production["workspace_name"].lower()) == \
        (azure["resource_group"].lower(), azure["workspace_name"].lower())
    if same_workspace:
        problem = ("production shares staging's workspace, so it needs its own endpoint: choose a service_name other "
                   f"than staging's {staging_endpoint!r} (the experiment file's)")
        return [Finding(STAGES_CONFIG, line, col, "production.service_name", problem)]
    staging_region, production_region = azure.get("location"), production.get("location")
    if staging_region and production_region and staging_region != production_region:
        return []
    where = f"both in {staging_region}" if staging_region and production_region else "if both are in one region"
    problem = (f"{staging_endpoint!r} is also staging's endpoint ({where}); endpoint names are unique per Azure "
               "region: choose another production service_name")
    severity = "error" if staging_region and production_region else "warning"
    return [Finding(STAGES_CONFIG, line, col, "production.service_name", problem, severity=severity)]
