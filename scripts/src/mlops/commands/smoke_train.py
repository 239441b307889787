"""mlops smoke-train: a quick training run in the environment Azure will build, on the local samples."""

from __future__ import annotations

HELP = "train quickly with the smoke overrides, in an environment built from the runtime spec alone"


def add_arguments(parser) -> None:
    """``--champion DIR``: judge the smoke model against a locally saved model instead of a copy of itself."""
    from pathlib import Path

    parser.add_argument("--champion", type=Path, default=None, metavar="DIR",
                        help="a folder with a saved model (e.g. a registered model you downloaded) to run the "
                             "quality gate against; default: a copy of the smoke model")


def run(args) -> int:
    """Run the smoke training, print its metrics and plots, and add them to the GitHub step summary."""
    from mlops.documents import load_document
    from mlops.errors import MlopsError
    from mlops.gate_report import verdict_markdown
    from mlops.gate_smoke import unreported_metrics
    from mlops.project import load_project
    from mlops.smoke import run_smoke_training
    from mlops.summary import append_step_summary, metrics_table

    project = load_project(args.project_dir)
    if args.champion is not None and not args.champion.is_dir():
        raise MlopsError(f"--champion {args.champion}: not a folder: pass the folder a model was saved in")
    result = run_smoke_training(project, champion=args.champion)
    print(f"Smoke training passed in {result.seconds:.1f} s; outputs in {result.outputs}")
    for name, value in result.metrics.items():
        print(f"  {name}: {value}")
    plots = [plot.relative_to(project.root).as_posix() for plot in result.plots]
    for plot in plots:
        print(f"  plot: {plot}")
    title = f"Smoke training of {project.experiment['model_name']} ({result.seconds:.1f} s)"
    notes = [f"Plots (in the smoke run's outputs): {', '.join(f'`{p}`' for p in plots)}"] if plots else []
    append_step_summary(metrics_table(title, result.metrics, notes))
    if result.gate is not None:
        append_step_summary(verdict_markdown(result.gate, "Quality gate on the smoke run", "smoke model",
                                             ["A smoke model is not a release: this checks the evaluation code."]))
        problems = unreported_metrics(project.experiment, project.experiment_file.name,
                                      load_document(project.experiment_file), result.gate["challenger"]["metrics"])
        if problems:
            raise MlopsError("\n".join(str(p) for p in problems))
    return 0
