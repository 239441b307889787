"""mlops runs: the local training runs side by side, or the MLflow UI on them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops.local_runs import Run

HELP = "show the local MLflow runs (mlruns/) side by side: status, parameters, metrics, plots; --ui opens MLflow's UI"

# The full MLflow (for its UI), pinned to the mlflow-skinny the runtime spec pins: installed on demand.
MLFLOW_UI_PACKAGE = "mlflow==3.15.0"


def add_arguments(parser) -> None:
    """How many runs, and whether to open the UI instead."""
    parser.add_argument("--last", type=int, default=5, metavar="N", help="show the last N runs (default 5)")
    parser.add_argument("--ui", action="store_true",
                        help=f"serve MLflow's UI on mlruns/ at http://127.0.0.1:5000 (installs {MLFLOW_UI_PACKAGE} "
                             "into a cached environment the first time)")
    parser.add_argument("--port", type=int, default=5000, help="port of the UI (default 5000)")


def local_runs(project_dir: Path) -> tuple[Path, list[Run]]:
    """The repo's root and every run in its ``mlruns/``, oldest first."""
    from mlops.local_runs import read_runs
    from mlops.project import load_project

    project = load_project(project_dir)
    return project.root, read_runs(project.layout.mlruns)


def mlflow_ui_command(project_dir: Path, port: int) -> tuple[list[str], dict[str, str]]:
    """The command and environment of MLflow's UI on ``mlruns/``; builds its cached environment the first time."""
    from dataclasses import replace

    from mlops.project import load_project
    from mlops.runtime_env import ensure_venv
    from mlops.smoke import isolated_environment

    project = load_project(project_dir)
    # The UI only reads the store: the runtime's Python with MLflow alone (full MLflow pins pandas<3, which the
    # runtime need not agree with).
    python = ensure_venv(replace(project.spec, requirements=()), kind="mlflow-ui", extra=(MLFLOW_UI_PACKAGE,))
    # MLflow 3 serves a file store only when told to: the runs are local files on purpose (decisions.md).
    env = {**isolated_environment(), "MLFLOW_ALLOW_FILE_STORE": "true"}
    return [str(python), "-m", "mlflow", "ui", "--backend-store-uri", project.layout.mlruns.as_uri(),
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1"], env


def run(args) -> int:
    """Print the table of the last runs, or replace this process with the MLflow UI."""
    import os

    from mlops.errors import MlopsError, UsageError
    from mlops.local_runs import side_by_side

    if args.last < 1:
        raise UsageError("--last must be at least 1")
    if args.ui:
        command, env = mlflow_ui_command(args.project_dir, args.port)
        print(f"MLflow UI at http://127.0.0.1:{args.port} (Ctrl-C stops it)", flush=True)
        os.execve(command[0], command, env)
    root, runs = local_runs(args.project_dir)
    if not runs:
        raise MlopsError("no runs in mlruns/ yet: run `make smoke-train` first")
    shown = runs[-args.last:]
    print(f"The last {len(shown)} of {len(runs)} runs in mlruns/ (newest on the right):")
    print("\n".join(side_by_side(shown, root)))
    return 0
