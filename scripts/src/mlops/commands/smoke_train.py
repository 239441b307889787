"""mlops smoke-train: a quick training run in the environment Azure will build, on the local samples."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops.project import Project
    from mlops.smoke import SmokeResult

HELP = "train quickly with the smoke overrides, in an environment built from the runtime spec alone"


@dataclass(frozen=True)
class SmokeTraining:
    """The project that was trained and what its smoke run produced."""

    project: Project
    result: SmokeResult


def add_arguments(parser) -> None:
    """No options: what to override is declared under ``smoke:`` in the experiment file."""


def smoke_train(project_dir: Path, *, log: Callable[[str], None] = print) -> SmokeTraining:
    """Validate the repo, then run its training script with the smoke overrides in the runtime's environment."""
    from mlops.project import load_project
    from mlops.smoke import run_smoke_training

    project = load_project(project_dir)
    return SmokeTraining(project, run_smoke_training(project, log=log))


def run(args) -> int:
    """Run the smoke training, print its metrics and plots, and add them to the GitHub step summary."""
    from mlops.step_summary import append_step_summary, metrics_table

    training = smoke_train(args.project_dir)
    project, result = training.project, training.result
    print(f"Smoke training passed in {result.seconds:.1f} s; outputs in {result.outputs}")
    for name, value in result.metrics.items():
        print(f"  {name}: {value}")
    plots = [plot.relative_to(project.root).as_posix() for plot in result.plots]
    for plot in plots:
        print(f"  plot: {plot}")
    title = f"Smoke training of {project.experiment.model_name} ({result.seconds:.1f} s)"
    notes = [f"Plots (in the smoke run's outputs): {', '.join(f'`{p}`' for p in plots)}"] if plots else []
    append_step_summary(metrics_table(title, result.metrics, notes))
    return 0
