"""mlops serve: run the model server in the foreground, on this machine only unless told otherwise."""

from __future__ import annotations

from pathlib import Path

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


def run(args) -> int:
    """Build or reuse the adapter's environment, then replace this process with the server."""
    from mlops.errors import UsageError
    from mlops.project import load_project
    from mlops.server_process import port_is_free
    from mlops.serving import ADAPTERS, exec_server, plan_launch, resolve_model, serving_python

    adapter = ADAPTERS[args.adapter]
    if args.reload and adapter.name != "app":
        raise UsageError("--reload works with --adapter app only: azmlinfsrv has no reload")
    if adapter.all_interfaces and args.host != "127.0.0.1":
        raise UsageError("--host does not apply to --adapter score: azmlinfsrv always listens on 0.0.0.0")
    port = args.port or (8000 if adapter.name == "app" else 5001)
    bind_host = "0.0.0.0" if adapter.all_interfaces else args.host
    if not port_is_free(port, bind_host):
        raise UsageError(f"port {port} is in use on {bind_host} (another server?): "
                         f"choose another with `mlops serve --port {port + 1}`")
    project = load_project(args.project_dir)
    model = resolve_model(project, args.model)
    python = serving_python(project, adapter)
    launch = plan_launch(project, adapter, python, host=args.host, port=port, model=model, reload=args.reload)
    print(f"Serving {model} with the {adapter.title} at {launch.base_url}{adapter.predict_path}"
          + (f" (docs: {launch.base_url}/docs)" if adapter.name == "app" else " (listening on all interfaces)"))
    exec_server(launch)
    return 0
