"""Load an experiment repo's three config files, validated.

Every command that needs the configs calls :func:`load_project`, which validates first: a command
never acts on a config that ``mlops validate`` would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError
from mlops.validation import validate_project


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


def load_project(root: Path) -> Project:
    """Validate the repo at ``root`` and return its configs, or raise with the first problems found."""
    report = validate_project(root)
    if report.errors:
        shown = "\n".join(str(f) for f in report.errors[:5])
        more = f"\n... and {len(report.errors) - 5} more" if len(report.errors) > 5 else ""
        raise MlopsError(f"the configs are not valid (run `mlops validate`):\n{shown}{more}")
    return Project(root=root.resolve(), experiment_file=report.experiment_file, **report.data)
