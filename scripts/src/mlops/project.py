"""Find and load an experiment repo's three config files.

Every command that needs the configs calls :func:`load_project`, which validates first: a command
never acts on a config that ``mlops validate`` would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError

AZURE_CONFIG = "azure-config.json"
COMPUTE_CONFIG = "azure-compute-config.json"
EXPERIMENT_SCHEMA = "experiment.schema.json"
SCHEMA_FOR = {AZURE_CONFIG: "azure-config.schema.json", COMPUTE_CONFIG: "azure-compute-config.schema.json"}


@dataclass
class Project:
    """An experiment repo: its root folder and its parsed, validated configs."""

    root: Path
    experiment_file: Path
    experiment: dict[str, Any]
    azure: dict[str, Any]
    compute: dict[str, Any]

    def path(self, relative: str) -> Path:
        """A path named in a config, resolved against the repo root."""
        return self.root / relative

    @property
    def training_script(self) -> Path:
        """The training script named in the experiment file."""
        return self.path(self.experiment["train"]["script"])


def find_experiment_file(root: Path) -> Path:
    """The ``<experiment>.yml`` at the repo root: the one top-level YAML file with an ``experiment_name``."""
    candidates = sorted(p for p in [*root.glob("*.yml"), *root.glob("*.yaml")] if not p.name.startswith("."))
    named = [p for p in candidates if _mentions_experiment_name(p)]
    if len(named) == 1:
        return named[0]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise MlopsError(f"{root}: no <experiment>.yml here: run mlops in the experiment repo or pass -C DIR")
    names = ", ".join(p.name for p in (named or candidates))
    raise MlopsError(f"{root}: several experiment files ({names}): keep one top-level YAML with experiment_name")


def _mentions_experiment_name(path: Path) -> bool:
    try:
        return any(line.startswith("experiment_name:") for line in path.read_text("utf-8").splitlines())
    except (OSError, UnicodeDecodeError):
        return False


def load_project(root: Path) -> Project:
    """Validate the repo at ``root`` and return its configs, or raise with the first problems found."""
    from mlops.validation import validate_project

    report = validate_project(root)
    if report.errors:
        shown = "\n".join(str(f) for f in report.errors[:5])
        more = f"\n... and {len(report.errors) - 5} more" if len(report.errors) > 5 else ""
        raise MlopsError(f"the configs are not valid (run `mlops validate`):\n{shown}{more}")
    return Project(root=root.resolve(), experiment_file=report.experiment_file, **report.data)
