"""mlops api-test: start each server for real, send the sample and the bad requests, check every answer."""

from __future__ import annotations

import signal
from pathlib import Path

LOG_LINES = 15
HELP = "start the FastAPI app and score.py on a free local port, send good and bad requests, check each answer"


def add_arguments(parser) -> None:
    """Which adapters to test and which model to serve."""
    parser.add_argument("--adapter", choices=("app", "score", "all"), default="all",
                        help="which server to test (default: both)")
    parser.add_argument("--model", type=Path, default=None,
                        help="model file or folder to serve (default: the last smoke run's, under outputs/)")


def run(args) -> int:
    """Test each adapter in turn; every server is stopped before the next starts, also on failure."""
    import httpx

    from mlops.api_check import run_checks
    from mlops.errors import MlopsError
    from mlops.project import load_project
    from mlops.server_process import LogFollower, free_port, running_server
    from mlops.serving import ADAPTERS, load_sample_request, plan_launch, resolve_model, serving_python

    # A stop request (CI cancelling the job, `timeout`) unwinds like Ctrl-C, so each server is still stopped.
    signal.signal(signal.SIGTERM, _stop_requested)
    project = load_project(args.project_dir)
    model = resolve_model(project, args.model)
    sample, items = load_sample_request(project)
    names = ["app", "score"] if args.adapter == "all" else [args.adapter]
    failed = 0
    for name in names:
        adapter = ADAPTERS[name]
        python = serving_python(project, adapter)
        port = free_port("0.0.0.0" if adapter.all_interfaces else "127.0.0.1")
        launch = plan_launch(project, adapter, python, host="127.0.0.1", port=port, model=model)
        log_file = project.path(f"build/api-test/{name}.log")
        print(f"api-test {name}: the {adapter.title} (log: {log_file.relative_to(project.root)})")
        with running_server(launch, log_file, log=lambda line: print(f"api-test {line}")) as server:
            print(f"api-test {name}: ready in {server.ready_seconds:.2f} s")
            with httpx.Client(timeout=30.0) as client:
                outcomes = run_checks(client, server.base_url + adapter.predict_path, sample, items, launch.limits,
                                      server_log=LogFollower(log_file).new_text,
                                      alive=lambda: server.process.poll() is None)
        bad = [o for o in outcomes if not o.passed]
        print_outcomes(bad, [o for o in outcomes if o.passed])
        failed += len(bad)
        print(f"api-test {name}: {len(outcomes) - len(bad)} of {len(outcomes)} answers right; server stopped")
    if failed:
        raise MlopsError(f"{failed} answer(s) were wrong (see FAIL above, with the server's log under each): "
                         "fix serving/ and run `mlops api-test` again")
    return 0


def print_outcomes(failed, passed) -> None:
    """The failures first, each with what the server logged while answering it; then the passed checks."""
    for outcome in failed:
        print(f"  FAIL {outcome.status} {outcome.case.name}: {outcome.detail}")
        for line in outcome.server_log.splitlines()[-LOG_LINES:]:
            print(f"       | {line}")
    for outcome in passed:
        print(f"  ok   {outcome.status} {outcome.case.name}: {outcome.detail}")


def _stop_requested(signum, frame) -> None:
    raise KeyboardInterrupt
