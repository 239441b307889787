"""mlops serve: run the model server in the foreground, on this machine only unless told otherwise."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops.serving import Launch

HELP = "serve the model: the FastAPI app under uvicorn, or score.py under azmlinfsrv (--adapter score)"


def add_arguments(parser) -> None:
    """Options as in the original uvicorn workflow: --host, --port, --reload; plus the model and the adapter."""
    parser.add_argument("--adapter", choices=("app", "score"), default="app",
                        help="app: serving/app.py under uvicorn (default); score: serving/score.py under Azure ML's "
                             "azmlinfsrv, as the online endpoint runs it")
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to listen on (default 127.0.0.1; 0.0.0.0 exposes it to the network). "
                             "azmlinfsrv always listens on all interfaces")
    parser.add_argument("--port", type=int, default=None, help="port (default 8000 for app, 5001 for score)")
    parser.add_argument("--reload", action="store_true",
                        help="restart on changes under serving/ (app only; never in production)")
    parser.add_argument("--model", type=Path, default=None,
                        help="model file or folder to serve (default: the last smoke run's, under outputs/)")


def prepare_server(project_dir: Path, *, adapter: str = "app", host: str = "127.0.0.1", port: int | None = None,
                   reload: bool = False, model: Path | None = None,
                   log: Callable[[str], None] = print) -> Launch:
    """Build or reuse ``adapter``'s environment and return how to start its server (``mlops.serving.exec_server``
    runs it in the foreground, ``mlops.server_process.running_server`` in the background)."""
    from mlops.errors import UsageError
    from mlops.project import load_project
    from mlops.server_process import port_is_free
    from mlops.serving import ADAPTERS, plan_launch, resolve_model, serving_python

    chosen = ADAPTERS[adapter]
    if reload and chosen.name != "app":
        raise UsageError("--reload works with --adapter app only: azmlinfsrv has no reload")
    if chosen.all_interfaces and host != "127.0.0.1":
        raise UsageError("--host does not apply to --adapter score: azmlinfsrv always listens on 0.0.0.0")
    port = port or (8000 if chosen.name == "app" else 5001)
    bind_host = "0.0.0.0" if chosen.all_interfaces else host
    if not port_is_free(port, bind_host):
        raise UsageError(f"port {port} is in use on {bind_host} (another server?): "
                         f"choose another with `mlops serve --port {port + 1}`")
    project = load_project(project_dir)
    served = resolve_model(project, model)
    python = serving_python(project, chosen, log=log)
    return plan_launch(project, chosen, python, host=host, port=port, model=served, reload=reload)


def run(args) -> int:
    """Build or reuse the adapter's environment, then replace this process with the server."""
    from mlops.serving import exec_server

    launch = prepare_server(args.project_dir, adapter=args.adapter, host=args.host, port=args.port,
                            reload=args.reload, model=args.model)
    adapter = launch.adapter
    print(f"Serving {launch.model} with the {adapter.title} at {launch.base_url}{adapter.predict_path}"
          + (f" (docs: {launch.base_url}/docs)" if adapter.name == "app" else " (listening on all interfaces)"))
    exec_server(launch)
    return 0
