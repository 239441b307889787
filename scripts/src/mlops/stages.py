"""The stages a repo releases through: one (as before), or staging then production.

A single-stage repo has one stage, ``production``: azure-config.json's workspace and the experiment
file's ``service_name``, trained and deployed on every merge. A two-stage repo (``azure-stages.json``)
has ``staging`` (that same workspace and endpoint: it trains, gates, deploys and shares into the
registry) and ``production`` (its own endpoint, in its own workspace or staging's), which only
deploys a registry version staging served. Each stage's jobs run in the GitHub environment of the
same name, so each has its own OIDC subject and identity.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlops.errors import MlopsError
from mlops.project import Project

STAGING = "staging"
PRODUCTION = "production"


@dataclass(frozen=True)
class Stage:
    """One stage: the workspace and endpoint it serves from, and the GitHub environment its jobs run in."""

    name: str
    resource_group: str
    workspace_name: str
    service_name: str
    subscription_id: str | None = None
    location: str | None = None
    trains: bool = True

    @property
    def environment(self) -> str:
        """The GitHub environment of the stage's deploy jobs (approvals and the stage's identity live there)."""
        return self.name

    @property
    def workspace_key(self) -> tuple[str, str]:
        """The workspace, compared without case as Azure does."""
        return self.resource_group.lower(), self.workspace_name.lower()


def release_stages(project: Project) -> tuple[Stage, ...]:
    """The project's stages in release order."""
    azure = project.azure
    first = Stage(PRODUCTION if project.stages is None else STAGING, azure.resource_group, azure.workspace_name,
                  project.experiment.service_name, azure.subscription_id, azure.location)
    if project.stages is None:
        return (first,)
    production = project.stages.production
    return first, Stage(PRODUCTION, production.resource_group, production.workspace_name, production.service_name,
                        production.subscription_id, production.location, trains=False)


def stage_named(project: Project, name: str) -> Stage:
    """The stage called ``name``, or an error naming the stages the repo has."""
    stages = release_stages(project)
    for stage in stages:
        if stage.name == name:
            return stage
    known = ", ".join(s.name for s in stages)
    hint = "" if project.stages else " (a single-stage repo: add azure-stages.json for staging and production)"
    raise MlopsError(f"no stage {name!r} in this repo: its stages are {known}{hint}")


def is_two_stage(project: Project) -> bool:
    """Whether the repo releases through staging and a registry to production."""
    return project.stages is not None
