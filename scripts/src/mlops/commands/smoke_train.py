"""mlops smoke-train: a quick training run in the environment Azure will build, on the local samples."""

from __future__ import annotations

HELP = "train quickly with the smoke overrides, in an environment built from the runtime spec alone"


def add_arguments(parser) -> None:
    """No options: what to override is declared under ``smoke:`` in the experiment file."""


def run(args) -> int:
    """Run the smoke training and print its metrics."""
    from mlops.project import load_project
    from mlops.smoke import run_smoke_training

    project = load_project(args.project_dir)
    result = run_smoke_training(project)
    print(f"Smoke training passed in {result.seconds:.1f} s; outputs in {result.outputs}")
    for name, value in result.metrics.items():
        print(f"  {name}: {value}")
    return 0
