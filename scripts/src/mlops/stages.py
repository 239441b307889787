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
from mlops.project import Project, WorkspaceSettings

STAGING = "staging"
PRODUCTION = "production"


@dataclass(frozen=True, kw_only=True)
class Stage(WorkspaceSettings):
    """One stage: the workspace and endpoint it serves from, and the GitHub environment its jobs run in."""

    name: str
    service_name: str
    trains: bool = True

    @property
    def environment(self) -> str:
        """The GitHub environment of the stage's deploy jobs (approvals and the stage's identity live there)."""
        return self.name


def release_stages(project: Project) -> tuple[Stage, ...]:
    """The project's stages in release order."""
    first = Stage(name=PRODUCTION if project.stages is None else STAGING,
                  service_name=project.experiment.service_name, **project.azure.workspace_fields())
    if project.stages is None:
        return (first,)
    production = project.stages.production
    return first, Stage(name=PRODUCTION, service_name=production.service_name, trains=False,
                        **production.workspace_fields())


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
