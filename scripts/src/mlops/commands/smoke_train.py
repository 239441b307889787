"""mlops smoke-train: a quick training run in the environment Azure will build, on the local samples."""

from __future__ import annotations

HELP = "train quickly with the smoke overrides, in an environment built from the runtime spec alone"


def add_arguments(parser) -> None:
    """No options: what to override is declared under ``smoke:`` in the experiment file."""


def run(args) -> int:
    """Run the smoke training, print its metrics and plots, and add them to the GitHub step summary."""
    from mlops.project import load_project
    from mlops.smoke import run_smoke_training
    from mlops.summary import append_step_summary, metrics_table

    project = load_project(args.project_dir)
    result = run_smoke_training(project)
    print(f"Smoke training passed in {result.seconds:.1f} s; outputs in {result.outputs}")
    for name, value in result.metrics.items():
        print(f"  {name}: {value}")
    plots = [plot.relative_to(project.root).as_posix() for plot in result.plots]
    for plot in plots:
        print(f"  plot: {plot}")
    title = f"Smoke training of {project.experiment['model_name']} ({result.seconds:.1f} s)"
    notes = [f"Plots (in the smoke run's outputs): {', '.join(f'`{p}`' for p in plots)}"] if plots else []
    append_step_summary(metrics_table(title, result.metrics, notes))
    return 0
