"""Where an experiment repo keeps its files: the configs, their schemas, the experiment file, what runs write.

Both validation and the project loader need these; keeping them here keeps the two free of each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlops.errors import MlopsError

AZURE_CONFIG = "azure-config.json"
COMPUTE_CONFIG = "azure-compute-config.json"
# Optional: present only in a two-stage repo (staging and production). Not named azure*config.json, so
# AzureConfig, which reads every such file as staging's settings, never mixes production's in.
STAGES_CONFIG = "azure-stages.json"
EXPERIMENT_SCHEMA = "experiment.schema.json"
SCHEMA_FOR = {AZURE_CONFIG: "azure-config.schema.json", COMPUTE_CONFIG: "azure-compute-config.schema.json",
              STAGES_CONFIG: "azure-stages.schema.json"}
SERVING_DIR = "serving"
SAMPLE_REQUEST = f"{SERVING_DIR}/sample-request.json"
BUILD_DIR = "build"


@dataclass(frozen=True)
class Layout:
    """The files of one experiment repo: where the configs name things, and where runs write."""

    root: Path
    experiment_file: Path

    def path(self, relative: str) -> Path:
        """A path named in a config, resolved against the repo root."""
        return self.root / relative

    @property
    def outputs(self) -> Path:
        """What the last smoke run saved (the model, metrics.json, plots), as the Azure job's outputs/."""
        return self.root / "outputs"

    @property
    def mlruns(self) -> Path:
        """The local MLflow file store of smoke runs."""
        return self.root / "mlruns"

    @property
    def smoke_dir(self) -> Path:
        """Where the smoke run stages the job's code snapshot and runs it."""
        return self.root / BUILD_DIR / "smoke"

    @property
    def plan_dir(self) -> Path:
        """Where ``mlops plan`` writes the Azure ML documents."""
        return self.root / BUILD_DIR / "azureml"

    def api_test_log(self, adapter: str) -> Path:
        """The server log ``mlops api-test`` keeps for ``adapter``."""
        return self.root / BUILD_DIR / "api-test" / f"{adapter}.log"

    def serve_log(self, adapter: str) -> Path:
        """The log of a server started in the background (``AzureMLRun.serve``) for ``adapter``."""
        return self.root / BUILD_DIR / "serve" / f"{adapter}.log"


class ExperimentFileError(MlopsError):
    """No single experiment file at the repo root; ``problem`` says why and what to do."""

    def __init__(self, root: Path, problem: str) -> None:
        super().__init__(f"{root}: {problem}")
        self.root = root
        self.problem = problem


def find_experiment_file(root: Path) -> Path:
    """The ``<experiment>.yml`` at the repo root: the one top-level YAML file with an ``experiment_name``."""
    candidates = sorted(p for p in [*root.glob("*.yml"), *root.glob("*.yaml")] if not p.name.startswith("."))
    named = [p for p in candidates if _mentions_experiment_name(p)]
    if len(named) == 1:
        return named[0]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ExperimentFileError(root, "no <experiment>.yml here: run mlops in the experiment repo or pass -C DIR")
    names = ", ".join(p.name for p in (named or candidates))
    raise ExperimentFileError(root, f"several experiment files ({names}): keep one top-level YAML with "
                                    "experiment_name")


def _mentions_experiment_name(path: Path) -> bool:
    try:
        return any(line.startswith("experiment_name:") for line in path.read_text("utf-8").splitlines())
    except (OSError, UnicodeDecodeError):
        return False
