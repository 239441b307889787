"""mlops api-test: start each server for real, send the sample and the bad requests, check every answer."""

from __future__ import annotations

import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops.api_check import Outcome

LOG_LINES = 15
HELP = "start the FastAPI app and score.py on a free local port, send good and bad requests, check each answer"


def add_arguments(parser) -> None:
    """Which adapters to test and which model to serve."""
    parser.add_argument("--adapter", choices=("app", "score", "all"), default="all",
                        help="which server to test (default: both)")
    parser.add_argument("--model", type=Path, default=None,
                        help="model file or folder to serve (default: the last smoke run's, under outputs/)")


@dataclass(frozen=True)
class AdapterCheck:
    """One server's answers to the good and the bad requests."""

    adapter: str
    outcomes: list[Outcome]

    @property
    def failed(self) -> int:
        """How many answers were wrong."""
        return sum(not outcome.passed for outcome in self.outcomes)


def api_test(project_dir: Path, *, adapters: Sequence[str] = ("app", "score"), model: Path | None = None,
             log: Callable[[str], None] = print) -> list[AdapterCheck]:
    """Start each adapter's server on a free local port, send it every request, stop it (also on failure)."""
    import httpx

    from mlops.api_check import run_checks
    from mlops.api_properties import check_generated, generated_bodies, response_schema, still_ready
    from mlops.project import load_project
    from mlops.server_process import LogFollower, free_port, running_server
    from mlops.serving import ADAPTERS, load_sample_request, plan_launch, resolve_model, serving_python

    # httpx imports parts of itself on a client's first use: do it now, so that a stop request (SIGTERM)
    # never lands inside an import, where Python drops the KeyboardInterrupt it raises.
    httpx.Client().close()
    project = load_project(project_dir)
    served = resolve_model(project, model)
    sample, items = load_sample_request(project)
    bodies = generated_bodies(sample)
    app_answers = None
    checks = []
    for name in adapters:
        adapter = ADAPTERS[name]
        python = serving_python(project, adapter, log=log)
        port = free_port("0.0.0.0" if adapter.all_interfaces else "127.0.0.1")
        launch = plan_launch(project, adapter, python, host="127.0.0.1", port=port, model=served)
        log_file = project.layout.api_test_log(name)
        log(f"api-test {name}: the {adapter.title} (log: {log_file.relative_to(project.root)})")
        with running_server(launch, log_file, log=lambda line: log(f"api-test {line}")) as server:
            log(f"api-test {name}: ready in {server.ready_seconds:.2f} s")
            with httpx.Client(timeout=30.0) as client:
                follower = LogFollower(log_file)
                url = server.base_url + adapter.predict_path
                outcomes = run_checks(client, url, sample, items, launch.limits, server_log=follower.new_text,
                                      alive=lambda: server.process.poll() is None)
                schema = (response_schema(client.get(server.base_url + "/openapi.json").json(), adapter.predict_path)
                          if name == "app" else None)
                generated, answers = check_generated(client, url, bodies, schema=schema, reference=app_answers,
                                                     server_log=follower.new_text)
                outcomes += [*generated, still_ready(client, server.base_url + adapter.health_path)]
                app_answers = answers if name == "app" else app_answers
        check = AdapterCheck(name, outcomes)
        log_outcomes(outcomes, log)
        log(f"api-test {name}: {len(outcomes) - check.failed} of {len(outcomes)} answers right; server stopped")
        checks.append(check)
    return checks


def run(args) -> int:
    """Test each adapter in turn; every server is stopped before the next starts, also on failure."""
    from mlops.errors import MlopsError

    # A stop request (CI cancelling the job, `timeout`) unwinds like Ctrl-C, so each server is still stopped.
    signal.signal(signal.SIGTERM, _stop_requested)
    adapters = ["app", "score"] if args.adapter == "all" else [args.adapter]
    failed = sum(check.failed for check in api_test(args.project_dir, adapters=adapters, model=args.model))
    if failed:
        raise MlopsError(f"{failed} answer(s) were wrong (see FAIL above, with the server's log under each): "
                         "fix serving/ and run `mlops api-test` again")
    return 0


def log_outcomes(outcomes: Sequence[Outcome], log: Callable[[str], None]) -> None:
    """The failures first, each with what the server logged while answering it; then the passed checks."""
    for outcome in [o for o in outcomes if not o.passed]:
        log(f"  FAIL {outcome.status} {outcome.case.name}: {outcome.detail}")
        for line in outcome.server_log.splitlines()[-LOG_LINES:]:
            log(f"       | {line}")
    for outcome in [o for o in outcomes if o.passed]:
        log(f"  ok   {outcome.status} {outcome.case.name}: {outcome.detail}")


def _stop_requested(signum, frame) -> None:
    raise KeyboardInterrupt
