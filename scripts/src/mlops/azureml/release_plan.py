"""``mlops plan``: write every Azure ML document of a release to ``build/azureml/`` and load it back.

Offline and without credentials. Each file is CLI v2 YAML with its ``$schema`` and is loaded with
azure-ai-ml's own loader, so a document Azure would refuse fails here, on the pull request. The
loaders let a ``${{inputs.x}}`` that names no input pass, so that is checked separately.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlops.azureml import release_documents as docs
from mlops.azureml.gate_plan import data_inputs, with_gate
from mlops.azureml.names import deployment_name, job_name
from mlops.azureml.provenance import Provenance
from mlops.content_hash import content_digest
from mlops.errors import MlopsError
from mlops.job_code import stage_files, stage_job_code
from mlops.project import Project

BINDING = re.compile(r"\$\{\{\s*inputs\.([A-Za-z0-9_]+)\s*\}\}")
PLACEHOLDER_COMMIT = "0000000"
# Set by `mlops rehearse`: the job trains with the smoke overrides (the release path is rehearsed, not the model).
REHEARSAL = "MLOPS_REHEARSAL"


@dataclass
class ReleasePlan:
    """The written documents (file name -> dict), where they are, and the names they use."""

    project: Project
    provenance: Provenance
    names: docs.Names
    directory: Path
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    champion: Any = None
    """The serving model the gate compares with (an ``azureml.champion.Champion``), when it was read."""

    def path(self, file_name: str) -> Path:
        """Where one of the plan's files is."""
        return self.directory / file_name

    @property
    def data_files(self) -> list[str]:
        """The data asset documents, one per input registered from a local file."""
        return sorted(name for name in self.documents if name.startswith("data-"))


def environment_version(project: Project, packages: tuple[str, ...] = ()) -> str:
    """The hash of the runtime spec, ``packages`` and the base image: a new version exactly when one changes."""
    return project.spec.digest(extra=(*packages, f"image={project.experiment.image}"))


def data_versions(project: Project) -> dict[str, str]:
    """Input name -> the version of the data asset it registers: a hash of the file's (or folder's) content,
    so a changed file is a new version, registered by the next ``mlops train`` and read by that job."""
    versions = {}
    for name, spec in {**project.experiment.inputs, **data_inputs(project)}.items():
        if docs.registered_asset(spec):
            source = project.path(spec.register_from)
            versions[name] = content_digest([source], source.parent)[:16]
    return versions


def serving_packages() -> tuple[str, ...]:
    """What the deployment's environment adds to the runtime spec: Azure ML's inference server."""
    from mlops.serving import INFERENCE_SERVER_PACKAGES

    return INFERENCE_SERVER_PACKAGES


def write_serving_conda(spec_path: Path, target: Path) -> None:
    """The runtime spec with the inference server's packages added to its pip list."""
    conda = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    for item in conda["dependencies"]:
        if isinstance(item, dict) and "pip" in item:
            item["pip"] = [*item["pip"], *serving_packages()]
    target.write_text(yaml.safe_dump(conda, sort_keys=False), encoding="utf-8")


def write_plan(project: Project, provenance: Provenance, env: dict[str, str],
               directory: Path | None = None, champion: Any = None) -> ReleasePlan:
    """Stage the code snapshots, write the YAML documents, and check each with the SDK's loader.

    ``champion`` (read from the endpoint) becomes an input of the job for the quality gate.
    """
    directory = directory or project.layout.plan_dir
    notes = []
    if env.get(REHEARSAL) == "1":
        notes.append(f"{REHEARSAL}=1: the job trains with the smoke overrides (a rehearsal)")
    commit = provenance.commit
    if not commit:
        notes.append(f"not a git checkout: names use the commit {PLACEHOLDER_COMMIT}")
        commit = PLACEHOLDER_COMMIT
    versions = data_versions(project)
    data_specs = {**project.experiment.inputs, **data_inputs(project)}
    names = docs.Names(
        job=job_name(project.experiment.experiment_name, env, commit),
        environment_version=environment_version(project),
        serving_environment_version=environment_version(project, serving_packages()),
        deployment=deployment_name(commit, project.experiment.service_name, project.compute.kubernetes),
        inputs={name: f"azureml:{docs.registered_asset(data_specs[name])}:{version}"
                for name, version in versions.items()},
    )
    tags = {**provenance.tags(), "git_commit": commit}
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    stage_job_code(project, directory / docs.CODE_DIR)
    shipped = project.experiment.deploy.shipped_code
    present = [item for item in shipped if project.path(item).exists()]
    stage_files(project.root, present, directory / docs.SCORING_DIR)
    for missing in sorted(set(shipped) - set(present)):
        notes.append(f"{missing} does not exist yet: `mlops deploy` needs it (deploy.code in "
                     f"{project.experiment_file.name})")
    shutil.copy2(project.spec.path, directory / docs.CONDA_FILE)
    write_serving_conda(project.spec.path, directory / docs.SERVING_CONDA_FILE)

    documents = {
        "compute.yml": docs.compute_document(project),
        "environment.yml": docs.environment_document(project, names.environment_version),
        "job.yml": with_gate(project, docs.job_document(project, names, tags, smoke=env.get(REHEARSAL) == "1"),
                             champion, names.inputs),
        "model.yml": docs.model_document(project, names, tags),
        "serving-environment.yml": docs.serving_environment_document(project, names.serving_environment_version),
        "endpoint.yml": docs.endpoint_document(project),
        "deployment.yml": docs.deployment_document(project, names, tags),
    }
    for input_name, version in versions.items():
        data = docs.data_document(data_specs[input_name], version)
        data["path"] = os.path.relpath(project.path(data["path"]), directory)
        documents[f"data-{input_name}.yml"] = data
    for file_name, document in documents.items():
        (directory / file_name).write_text(yaml.safe_dump(document, sort_keys=False, width=1000), encoding="utf-8")
    plan = ReleasePlan(project, provenance, names, directory, documents, notes, champion)
    load_entities(plan)
    check_bindings(documents["job.yml"], f"{directory.name}/job.yml")
    return plan


def pin_model(plan: ReleasePlan, reference: str) -> None:
    """Write the model version the deployment will serve into ``deployment.yml``.

    Offline, the plan cannot know it: ``mlops train`` registers it and ``mlops deploy`` finds it by its
    ``git_commit`` tag. So the offline ``deployment.yml`` names no model (the plan's summary says how it
    is chosen), and ``mlops deploy`` pins the version it found before loading the file.
    """
    plan.documents["deployment.yml"]["model"] = reference
    plan.path("deployment.yml").write_text(
        yaml.safe_dump(plan.documents["deployment.yml"], sort_keys=False, width=1000), encoding="utf-8")


def load_entities(plan: ReleasePlan) -> dict[str, Any]:
    """Each file loaded with its azure-ai-ml loader; a refusal becomes one line naming the file."""
    return {file_name: load_entity(plan.path(file_name)) for file_name in plan.documents}


def load_entity(path: Path) -> Any:
    """One written document loaded with the azure-ai-ml loader its file name calls for."""
    try:
        return loader_of(path.name)(path)
    except Exception as error:  # the SDK raises marshmallow's and its own errors: all mean refused
        detail = " ".join(str(error).split())[:400]
        raise MlopsError(f"{path}: azure-ai-ml refuses it: {detail}") from None


def loader_of(file_name: str) -> Any:
    """The azure-ai-ml loader for one of the plan's files."""
    import azure.ai.ml as sdk

    if file_name.startswith("data-"):
        return sdk.load_data
    return {"compute.yml": sdk.load_compute, "environment.yml": sdk.load_environment, "job.yml": sdk.load_job,
            "serving-environment.yml": sdk.load_environment,
            "model.yml": sdk.load_model, "endpoint.yml": sdk.load_online_endpoint,
            "deployment.yml": sdk.load_online_deployment}[file_name]


def check_bindings(job: dict[str, Any], display: str) -> None:
    """Refuse a ``${{inputs.x}}`` in the command that names no input of the job."""
    declared = set(job.get("inputs", {}))
    for name in BINDING.findall(job["command"]):
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise MlopsError(f"{display}: command: {docs.binding(name)} names no input (inputs: {known}): "
                             "add it under inputs: in the experiment file or remove it from the command")
