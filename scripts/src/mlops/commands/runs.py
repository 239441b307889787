"""mlops runs: the local training runs side by side, or the MLflow UI on them."""

from __future__ import annotations

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


def run(args) -> int:
    """Print the table of the last runs, or replace this process with the MLflow UI."""
    from mlops.errors import MlopsError, UsageError
    from mlops.local_runs import read_runs, side_by_side
    from mlops.project import load_project

    if args.last < 1:
        raise UsageError("--last must be at least 1")
    project = load_project(args.project_dir)
    if args.ui:
        return _serve_ui(project, args.port)
    runs = read_runs(project.layout.mlruns)
    if not runs:
        raise MlopsError("no runs in mlruns/ yet: run `make smoke-train` first")
    shown = runs[-args.last:]
    print(f"The last {len(shown)} of {len(runs)} runs in mlruns/ (newest on the right):")
    print("\n".join(side_by_side(shown, project.root)))
    return 0


def _serve_ui(project, port: int) -> int:
    import os

    from mlops.runtime_env import ensure_venv
    from mlops.smoke import isolated_environment

    python = ensure_venv(project.spec, kind="mlflow-ui", extra=(MLFLOW_UI_PACKAGE,))
    store = project.layout.mlruns
    # MLflow 3 serves a file store only when told to: the runs are local files on purpose (decisions.md).
    env = {**isolated_environment(), "MLFLOW_ALLOW_FILE_STORE": "true"}
    command = [str(python), "-m", "mlflow", "ui", "--backend-store-uri", store.as_uri(), "--host", "127.0.0.1",
               "--port", str(port)]
    print(f"MLflow UI on {store} at http://127.0.0.1:{port} (Ctrl-C stops it)")
    os.execve(command[0], command, env)
    return 0
