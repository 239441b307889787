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
    """``--champion DIR``: judge the smoke model against a locally saved model instead of a copy of itself."""
    from pathlib import Path

    parser.add_argument("--champion", type=Path, default=None, metavar="DIR",
                        help="a folder with a saved model (e.g. a registered model you downloaded) to run the "
                             "quality gate against; default: a copy of the smoke model")


def smoke_train(project_dir: Path, *, champion: Path | None = None,
                log: Callable[[str], None] = print) -> SmokeTraining:
    """Validate the repo, then run its training script with the smoke overrides in the runtime's environment,
    and the quality gate's step against ``champion`` (a folder with a saved model; default: a copy of the smoke
    model). A gate naming a metric the evaluation did not report raises, with each place in the file."""
    from mlops.errors import MlopsError
    from mlops.positioned import load_document
    from mlops.project import load_project
    from mlops.smoke import run_smoke_training
    from mlops.validation.gate_checks import unreported_metrics

    project = load_project(project_dir)
    if champion is not None and not champion.is_dir():
        raise MlopsError(f"--champion {champion}: not a folder: pass the folder a model was saved in")
    result = run_smoke_training(project, log=log, champion=champion)
    if result.gate is not None:
        document = load_document(project.experiment_file)
        problems = unreported_metrics(document.data, project.experiment_file.name, document,
                                      result.gate["challenger"]["metrics"])
        if problems:
            raise MlopsError(findings=problems)
    return SmokeTraining(project, result)


def run(args) -> int:
    """Run the smoke training, print its metrics and plots, and add them to the GitHub step summary."""
    from mlops.gate_report import verdict_markdown
    from mlops.step_summary import append_step_summary, metrics_table

    training = smoke_train(args.project_dir, champion=getattr(args, "champion", None))
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
    if result.gate is not None:
        append_step_summary(verdict_markdown(result.gate, "Quality gate on the smoke run", "smoke model",
                                             ["A smoke model is not a release: this checks the evaluation code."]))
    return 0
