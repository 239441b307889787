"""An experiment repo as one typed, frozen value: its three configs with their defaults, the runtime spec
and the file layout.

Every command that needs the configs calls :func:`load_project`, which validates first: a command
never acts on a config that ``mlops validate`` would refuse. Each optional setting's default is
written here, once; ``tests/test_schemas.py`` checks that the schemas announce the same defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError
from mlops.gate import DEPLOY, EVALUATION_SCRIPT, RULE_KEYS
from mlops.layout import Layout
from mlops.runtime_spec import RuntimeSpec, load_runtime_spec
from mlops.validation import validate_project


@dataclass(frozen=True)
class WorkspaceSettings:
    """An Azure ML workspace: its resource group and name, and where set its subscription and region."""

    resource_group: str
    workspace_name: str
    subscription_id: str | None = None
    location: str | None = None

    @property
    def workspace_key(self) -> tuple[str, str]:
        """The workspace, compared without case as Azure does."""
        return self.resource_group.lower(), self.workspace_name.lower()

    def workspace_fields(self) -> dict[str, Any]:
        """The workspace's fields alone, to build other settings on the same workspace."""
        return {item.name: getattr(self, item.name) for item in fields(WorkspaceSettings)}


@dataclass(frozen=True)
class AzureSettings(WorkspaceSettings):
    """``azure-config.json``: the workspace (the subscription may come from .env or the environment)."""


@dataclass(frozen=True)
class ComputeSettings:
    """``azure-compute-config.json``: the training cluster and where the online deployment runs."""

    compute_node_name: str
    vm_size: str
    max_nodes: int
    min_nodes: int = 0
    idle_seconds_before_scaledown: int = 600
    deploy_target: str = "managed"
    deploy_instance_type: str = "Standard_DS3_v2"
    deploy_instance_count: int = 1
    deploy_cpu_cores: float | None = None
    deploy_memory_gb: float | None = None
    deploy_cluster_name: str | None = None
    deploy_dns_name: str | None = None

    @property
    def kubernetes(self) -> bool:
        """Whether the deployment runs on an attached Kubernetes compute rather than managed instances."""
        return self.deploy_target == "kubernetes"


@dataclass(frozen=True)
class RegistrySettings:
    """``azure-stages.json`` ``registry``: where staging shares what it served and production deploys from."""

    name: str
    resource_group: str | None = None
    location: str | None = None


@dataclass(frozen=True, kw_only=True)
class ProductionSettings(WorkspaceSettings):
    """``azure-stages.json`` ``production``: production's workspace (its own, or staging's) and endpoint."""

    service_name: str


@dataclass(frozen=True)
class StagesSettings:
    """``azure-stages.json``: the registry and production; staging is azure-config.json's workspace."""

    registry: RegistrySettings
    production: ProductionSettings


@dataclass(frozen=True)
class Input:
    """One named training input: what the Azure job reads, and the sample the smoke run reads."""

    name: str
    type: str
    azure: str
    sample: str
    register_from: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class TrainSettings:
    """``train:``: the training script and the arguments of the full run."""

    script: str
    args: Mapping[str, Any] = field(default_factory=dict)
    start_timeout_minutes: int = 60
    timeout_minutes: int = 600


@dataclass(frozen=True)
class SmokeSettings:
    """``smoke:``: what ``mlops smoke-train`` overrides, and how long it may run."""

    args: Mapping[str, Any] = field(default_factory=dict)
    timeout_seconds: int = 300


@dataclass(frozen=True)
class ServeSettings:
    """``serve:``: the scoring API's request limits."""

    max_rows: int = 1000
    max_body_bytes: int = 1_048_576


@dataclass(frozen=True)
class DeploySettings:
    """``deploy:``: the scoring code, the request that smoke-tests a release, and the rollout steps."""

    scoring_script: str = "serving/score.py"
    code: tuple[str, ...] = ("serving",)
    sample_request: str = "serving/sample-request.json"
    rollout: tuple[Mapping[str, int], ...] = ()
    step_seconds: int = 300
    timeout_minutes: int = 30

    @property
    def shipped_code(self) -> tuple[str, ...]:
        """``code``, with the scoring script added in front when no listed folder holds it."""
        script = self.scoring_script
        if any(script == item or script.startswith(item.rstrip("/") + "/") for item in self.code):
            return self.code
        return (script, *self.code)


@dataclass(frozen=True)
class GateSettings:
    """``gate:``: the quality gate's pinned evaluation data and script, and its rule as written.

    Parts of the rule left out (None) take the framework's defaults: :func:`mlops.gate.rule_from_config`.
    """

    evaluation_data: Input
    evaluation_script: str = EVALUATION_SCRIPT
    primary: Mapping[str, Any] | None = None
    guards: Mapping[str, Any] | None = None
    floors: Mapping[str, Any] | None = None
    tie: str = DEPLOY

    @property
    def rule(self) -> dict[str, Any]:
        """The rule's parts as written (``primary``, ``guards``, ``floors``, ``tie``), without the ones left out."""
        return {key: getattr(self, key) for key in RULE_KEYS if getattr(self, key) is not None}


@dataclass(frozen=True)
class ExperimentSettings:
    """``<experiment>.yml``: names, the runtime spec's path, the job's files and arguments, each stage's settings."""

    experiment_name: str
    model_name: str
    environment_name: str
    image: str
    service_name: str
    framework: str
    dependencies: str
    train: TrainSettings
    description: str = ""
    local: tuple[str, ...] = ()
    inputs: Mapping[str, Input] = field(default_factory=dict)
    smoke: SmokeSettings = field(default_factory=SmokeSettings)
    serve: ServeSettings = field(default_factory=ServeSettings)
    deploy: DeploySettings = field(default_factory=DeploySettings)
    gate: GateSettings | None = None


@dataclass(frozen=True)
class Project:
    """An experiment repo: where its files are, its validated configs, and its parsed runtime spec."""

    layout: Layout
    experiment: ExperimentSettings
    azure: AzureSettings
    compute: ComputeSettings
    spec: RuntimeSpec
    stages: StagesSettings | None = None  # None: one stage, as before

    @property
    def root(self) -> Path:
        """The repo's root folder."""
        return self.layout.root

    @property
    def experiment_file(self) -> Path:
        """The ``<experiment>.yml`` at the root."""
        return self.layout.experiment_file

    def path(self, relative: str) -> Path:
        """A path named in a config, resolved against the repo root."""
        return self.layout.path(relative)

    @property
    def training_script(self) -> Path:
        """The training script named in the experiment file."""
        return self.path(self.experiment.train.script)

    @property
    def job_arguments(self) -> list[str]:
        """The full run's ``--name value`` arguments (the Azure job adds one per input)."""
        return training_arguments(self.experiment.train.args)

    @property
    def smoke_args(self) -> dict[str, Any]:
        """The full-run arguments with the smoke overrides merged over them."""
        return {**self.experiment.train.args, **self.experiment.smoke.args}

    @property
    def smoke_arguments(self) -> list[str]:
        """The smoke arguments on the command line, plus each input's local sample."""
        merged = self.smoke_args
        for name, spec in self.experiment.inputs.items():
            merged[name] = str(self.path(spec.sample))
        return training_arguments(merged)


def training_arguments(args: Mapping[str, Any]) -> list[str]:
    """Turn ``{"n_estimators": 5}`` into ``["--n_estimators", "5"]``, in the given order."""
    rendered: list[str] = []
    for name, value in args.items():
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        rendered += [f"--{name}", text]
    return rendered


def load_project(root: Path) -> Project:
    """Validate the repo at ``root`` and return it, or raise with the first problems found."""
    report = validate_project(root)
    if report.errors:
        shown = "\n".join(str(f) for f in report.errors[:5])
        more = f"\n... and {len(report.errors) - 5} more" if len(report.errors) > 5 else ""
        raise MlopsError(f"the configs are not valid (run `mlops validate`):\n{shown}{more}")
    layout = Layout(root.resolve(), report.experiment_file)
    experiment = experiment_settings(report.data["experiment"])
    return Project(layout=layout, experiment=experiment, azure=_settings(AzureSettings, report.data["azure"]),
                   compute=_settings(ComputeSettings, report.data["compute"]),
                   spec=load_runtime_spec(layout.path(experiment.dependencies), experiment.dependencies),
                   stages=stages_settings(report.data["stages"]) if "stages" in report.data else None)


def load_stages(root: Path) -> StagesSettings | None:
    """``azure-stages.json`` alone, checked against its schema (``None``: a single-stage repo).

    For commands that need the stages but not the experiment (``mlops bootstrap-oidc``).
    """
    from mlops.layout import SCHEMA_FOR, STAGES_CONFIG
    from mlops.positioned import DocumentError, load_document
    from mlops.validation.schemas import check_schema

    path = root / STAGES_CONFIG
    if not path.exists():
        return None
    try:
        document = load_document(path)
    except DocumentError as error:
        raise MlopsError(str(error.finding(STAGES_CONFIG))) from None
    findings = check_schema(document, SCHEMA_FOR[STAGES_CONFIG], STAGES_CONFIG)
    if findings:
        raise MlopsError(str(findings[0]))
    return stages_settings(document.data)


def stages_settings(data: Mapping[str, Any]) -> StagesSettings:
    """``azure-stages.json``'s validated data as settings."""
    return StagesSettings(registry=RegistrySettings(**data["registry"]),
                          production=_settings(ProductionSettings, data["production"]))


def experiment_settings(data: Mapping[str, Any]) -> ExperimentSettings:
    """The experiment file's validated data as settings, each omitted key at its default."""
    sections = {
        "train": TrainSettings(**data["train"]),
        "local": tuple(data.get("local", ())),
        "inputs": {name: Input(name=name, **spec) for name, spec in data.get("inputs", {}).items()},
        "smoke": SmokeSettings(**data.get("smoke", {})),
        "serve": ServeSettings(**data.get("serve", {})),
        "deploy": _deploy_settings(data.get("deploy", {})),
        "gate": _gate_settings(data["gate"]) if "gate" in data else None,
    }
    return ExperimentSettings(**{**{k: v for k, v in data.items() if k not in sections}, **sections})


def _deploy_settings(data: Mapping[str, Any]) -> DeploySettings:
    converted = {**data}
    if "code" in data:
        converted["code"] = tuple(data["code"])
    if "rollout" in data:
        converted["rollout"] = tuple(data["rollout"])
    return DeploySettings(**converted)


def _gate_settings(data: Mapping[str, Any]) -> GateSettings:
    return GateSettings(**{**data, "evaluation_data": Input(name="evaluation_data", **data["evaluation_data"])})


def _settings(kind: type, data: Mapping[str, Any]) -> Any:
    """``kind`` from a JSON config's validated data; ``$schema`` is the editor's, not a setting."""
    return kind(**{key: value for key, value in data.items() if key != "$schema"})
