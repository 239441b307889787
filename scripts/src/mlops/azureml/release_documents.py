"""The Azure ML CLI v2 YAML documents a release consists of, built as plain dicts from the configs.

These dicts are the single description of what ``mlops train`` and ``mlops deploy`` create: ``mlops
plan`` writes them to ``build/azureml/`` and the commands load those same files with azure-ai-ml's
own loaders, so what the plan shows is what gets submitted.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from mlops.project import Input, Project, training_arguments

SCHEMA = "https://azuremlschemas.azureedge.net/latest/{}.schema.json"
CODE_DIR = "code"
SCORING_DIR = "score"
CONDA_FILE = "conda.yaml"
SERVING_CONDA_FILE = "conda-serving.yaml"
SERVING_SUFFIX = "-serving"


@dataclass(frozen=True)
class Names:
    """The run-specific names the documents refer to."""

    job: str
    environment_version: str
    serving_environment_version: str
    deployment: str
    inputs: dict[str, str] = field(default_factory=dict)
    """Input name -> what the job reads, where it differs from the experiment file's ``azure`` (a data
    asset registered from the repo, with its content-hash version)."""


def compute_document(project: Project) -> dict[str, Any]:
    """The training cluster (AmlCompute) from azure-compute-config.json."""
    compute = project.compute
    return {
        "$schema": SCHEMA.format("amlCompute"),
        "type": "amlcompute",
        "name": compute.compute_node_name,
        "size": compute.vm_size,
        "min_instances": compute.min_nodes,
        "max_instances": compute.max_nodes,
        "idle_time_before_scale_down": compute.idle_seconds_before_scaledown,
    }


def environment_document(project: Project, version: str) -> dict[str, Any]:
    """The environment: the base image plus the one runtime spec, versioned by the spec's hash."""
    experiment = project.experiment
    return {
        "$schema": SCHEMA.format("environment"),
        "name": experiment.environment_name,
        "version": version,
        "image": experiment.image,
        "conda_file": CONDA_FILE,
        "description": f"Built from {experiment.dependencies}; the version is a hash of that file's "
                       "Python and pip pins, so an unchanged spec reuses the built image.",
    }


def binding(input_name: str) -> str:
    """The expression Azure ML replaces with the input's path when the job starts."""
    return "${{inputs." + input_name + "}}"


def serving_environment_document(project: Project, version: str) -> dict[str, Any]:
    """The deployment's environment: the runtime spec plus Azure ML's inference server that runs score.py.

    The same packages ``mlops serve --adapter score`` adds locally, so the scoring script meets in Azure
    the environment it was tested in.
    """
    experiment = project.experiment
    return {
        "$schema": SCHEMA.format("environment"),
        "name": experiment.environment_name + SERVING_SUFFIX,
        "version": version,
        "image": experiment.image,
        "conda_file": SERVING_CONDA_FILE,
        "description": f"{experiment.dependencies} plus the inference server that runs the scoring script; "
                       "the version is a hash of both.",
    }


def job_command(project: Project, smoke: bool = False) -> str:
    """``python <script> --<input> ${{inputs.<input>}} ... --<arg> <value> ...``, shell-quoted; ``smoke``
    puts the smoke overrides over the full run's arguments (a rehearsal's job)."""
    parts = ["python", shlex.quote(project.experiment.train.script)]
    for name in project.experiment.inputs:
        parts += [f"--{name}", binding(name)]
    arguments = training_arguments(project.smoke_args) if smoke else project.job_arguments
    parts += [shlex.quote(a) for a in arguments]
    return " ".join(parts)


def job_document(project: Project, names: Names, tags: dict[str, str], smoke: bool = False) -> dict[str, Any]:
    """The command job: the staged code snapshot, the Azure side of each input, the full-run arguments."""
    experiment = project.experiment
    inputs = {name: {"type": spec.type, "path": names.inputs.get(name, spec.azure)}
              for name, spec in experiment.inputs.items()}
    document = {
        "$schema": SCHEMA.format("commandJob"),
        "type": "command",
        "name": names.job,
        "display_name": f"train {experiment.model_name}",
        "experiment_name": experiment.experiment_name,
        "description": experiment.description,
        "tags": tags,
        "code": CODE_DIR,
        "command": job_command(project, smoke),
        "environment": f"azureml:{experiment.environment_name}:{names.environment_version}",
        "compute": f"azureml:{project.compute.compute_node_name}",
    }
    if inputs:
        document["inputs"] = inputs
    return document


def model_path(job: str) -> str:
    """The job's ``outputs/`` folder, which Azure ML keeps with every job."""
    return f"azureml://jobs/{job}/outputs/artifacts/paths/outputs/"


def model_document(project: Project, names: Names, tags: dict[str, str]) -> dict[str, Any]:
    """The model registered from the job's ``outputs/`` folder (the version is assigned by Azure)."""
    return {
        "$schema": SCHEMA.format("model"),
        "name": project.experiment.model_name,
        "type": "custom_model",
        "path": model_path(names.job),
        "description": f"{project.experiment.framework} model trained by job {names.job}",
        "tags": {**tags, "job": names.job},
    }


def registered_asset(spec: Input) -> str | None:
    """The data asset name an input registers from a repo file (``azure: azureml:<name>`` + ``register_from``)."""
    reference = spec.azure
    if spec.register_from is None or not reference.startswith("azureml:") or reference.startswith("azureml://"):
        return None
    return reference[len("azureml:"):]


def data_document(spec: Input, version: str) -> dict[str, Any]:
    """The data asset registered from ``register_from``, at ``version`` (the hash of its content)."""
    return {
        "$schema": SCHEMA.format("data"),
        "type": spec.type,
        "name": registered_asset(spec),
        "version": version,
        "path": spec.register_from,
        "description": (spec.description if spec.description is not None
                        else f"Registered by mlops train for input {spec.name}"),
    }


def endpoint_document(project: Project) -> dict[str, Any]:
    """The online endpoint: the service's stable URL, created once and kept across releases."""
    kubernetes = project.compute.kubernetes
    document = {
        "$schema": SCHEMA.format("kubernetesOnlineEndpoint" if kubernetes else "managedOnlineEndpoint"),
        "name": project.experiment.service_name,
        "auth_mode": "key",
        "description": f"Serves {project.experiment.model_name}",
    }
    if kubernetes:
        document["compute"] = f"azureml:{project.compute.deploy_cluster_name}"
    return document


def limit_variables(project: Project) -> dict[str, str]:
    """The request limits of the ``serve:`` section, as the variables the scoring script reads."""
    from mlops.serving import LIMIT_VARIABLES, serving_limits

    return {LIMIT_VARIABLES[name]: str(value) for name, value in serving_limits(project).items()}


def deployment_document(project: Project, names: Names, tags: dict[str, str]) -> dict[str, Any]:
    """One release of the model behind the endpoint: managed instances or Kubernetes requests."""
    experiment, compute = project.experiment, project.compute
    settings = experiment.deploy
    kubernetes = compute.kubernetes
    document: dict[str, Any] = {
        "$schema": SCHEMA.format("kubernetesOnlineDeployment" if kubernetes else "managedOnlineDeployment"),
        "type": "kubernetes" if kubernetes else "managed",
        "name": names.deployment,
        "endpoint_name": experiment.service_name,
        "tags": tags,
        "environment": f"azureml:{experiment.environment_name}{SERVING_SUFFIX}:{names.serving_environment_version}",
        "code_configuration": {"code": SCORING_DIR, "scoring_script": settings.scoring_script},
        "environment_variables": limit_variables(project),
        "instance_count": compute.deploy_instance_count,
    }
    if kubernetes:
        document["resources"] = {"requests": {"cpu": str(compute.deploy_cpu_cores),
                                              "memory": f"{compute.deploy_memory_gb}Gi"}}
    else:
        document["instance_type"] = compute.deploy_instance_type
    return document
