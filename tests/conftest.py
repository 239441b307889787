"""Shared helpers: generate projects with the real cookiecutter, run commands, share set-up repos.

The suite is hermetic and parallel: every cache it fills lives under ``build/test-cache`` in this
checkout (never the user's ``~/.cache/mlops`` or ``~/.cookiecutter_replay``), and tests run on
pytest-xdist workers, so anything a session builds once is built behind a file lock.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import timings
from cookiecutter.main import cookiecutter
from filelock import FileLock
from xdist.scheduler import LoadScopeScheduling

TEMPLATE = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TEST_CACHE = TEMPLATE / "build" / "test-cache"
# Generated repos' Makefiles find uv on PATH: use the copy pinned in the template's .venv.
os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
# The toolkit's environments (runtime_env.cache_root) are kept in the checkout, shared by the workers.
os.environ["MLOPS_CACHE_DIR"] = str(TEST_CACHE / "mlops")
# Generated repos' `make setup` and the toolkit's environments skip compiling all their bytecode (9-20 s of
# CPU each): the Pythons the tests start write it for the modules they import, once, instead. This process
# writes none: it imports modules straight from the template, which must not gain __pycache__ folders
# that cookiecutter would copy into generated repos.
os.environ["UV_COMPILE_BYTECODE"] = "0"
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = True


def pytest_configure(config):
    """Give each worker its own cookiecutter config, so replays and clones stay out of ``~``."""
    worker = getattr(config, "workerinput", {}).get("workerid", "main")
    home = TEST_CACHE / "cookiecutter" / worker
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "config.yaml"
    settings.write_text(f'cookiecutters_dir: "{home / "templates"}"\nreplay_dir: "{home / "replay"}"\n',
                        encoding="utf-8")
    os.environ["COOKIECUTTER_CONFIG"] = str(settings)


@pytest.hookimpl(tryfirst=True)  # before ``-m "not slow"`` deselects
def pytest_collection_modifyitems(config, items):
    """Mark slow every test that needs a set-up repo or took seconds last time; start the costliest scopes first.

    A set-up repo means ``make setup`` and environments built from the runtime spec, minutes on a cold
    cache; a test that took ``SLOW_TEST_SECONDS`` or more in the last recorded run is left out of
    ``make test-fast`` too. Whole scopes move, never single tests: the Makefile's ``--dist loadscope``
    keeps a scope (a module, or a test of a module whose tests stand alone) on one worker, so its
    module fixtures are set up once, and ``--no-loadscope-reorder`` hands scopes out in this order,
    longest first, so no long one starts last and holds the run up while the other workers idle.
    Durations are those of the last recorded run (:mod:`timings`)."""
    durations = timings.recorded(TEMPLATE)
    for item in items:
        if ("set_up_repo" in getattr(item, "fixturenames", ())
                or durations.get(item.nodeid, 0) >= timings.SLOW_TEST_SECONDS):
            item.add_marker(pytest.mark.slow)
    slow_scopes = {timings.scope_of(item.nodeid) for item in items if item.get_closest_marker("slow")}
    seconds = timings.scope_seconds(durations, slow_scopes)
    items.sort(key=lambda item: -seconds[timings.scope_of(item.nodeid)])


class SuiteScheduling(LoadScopeScheduling):
    """``--dist loadscope`` with the suite's scopes (:func:`timings.scope_of`), and no scope queued behind a long test.

    A worker starts a test only once it holds the next one (pytest tears fixtures down knowing what comes
    next), so xdist hands a worker its next scope while up to two of its tests are still pending. When
    those are long (a whole ``make check``), the next scope waits behind them on that worker while
    another one may be about to idle: such a worker gets the cheapest scope left instead, and the longest
    go to the workers that are nearly free."""

    def __init__(self, config, log=None):
        super().__init__(config, log)
        self.durations = timings.recorded(TEMPLATE)

    def _split_scope(self, nodeid: str) -> str:
        return timings.scope_of(nodeid)

    def _assign_work_unit(self, node) -> None:
        pending = sum(self.durations.get(nodeid, 0.0) for unit in self.assigned_work.get(node, {}).values()
                      for nodeid, done in unit.items() if not done)
        if pending > timings.LONG_PENDING_SECONDS:
            self.workqueue.move_to_end(next(reversed(self.workqueue)), last=False)
        super()._assign_work_unit(node)


@pytest.hookimpl(optionalhook=True)  # a run without pytest-xdist (``-p no:xdist``) has no such hook
def pytest_xdist_make_scheduler(config, log):
    """Schedule ``--dist loadscope`` runs by the suite's scopes (on the controller, which makes the schedule)."""
    if config.getvalue("dist") == "loadscope":
        return SuiteScheduling(config, log)
    return None


def pytest_runtest_logreport(report):
    """Add each test phase's seconds to its test (on the controller, which sees every worker's)."""
    timings.add(report.nodeid, report.duration)


def pytest_sessionfinish(session):
    """Record the tests' durations for the next run's order and ``make test-fast`` (controller only)."""
    option = session.config.option
    if not hasattr(session.config, "workerinput") and timings.is_full_run(session.config.args, option.keyword,
                                                                                 option.markexpr):
        timings.save(TEMPLATE)


def bake(output_dir: Path, **answers) -> Path:
    """Generate a project from this template with the real cookiecutter, without prompts."""
    return Path(cookiecutter(str(TEMPLATE), no_input=True, extra_context=answers, output_dir=str(output_dir)))


@pytest.fixture(scope="module")
def baked_once(tmp_path_factory):
    """Factory: the project generated with these answers, once per test module (generating takes seconds)."""
    baked: dict[tuple, Path] = {}

    def factory(**answers) -> Path:
        key = tuple(sorted(answers.items()))
        if key not in baked:
            baked[key] = bake(tmp_path_factory.mktemp("baked"), **answers)
        return baked[key]

    return factory


@pytest.fixture
def fresh_repo(baked_once, tmp_path):
    """Factory: a copy of the project generated with these answers (:func:`baked_once`), for one test to change."""
    return lambda **answers: shutil.copytree(baked_once(**answers), tmp_path / "repo", symlinks=True)


def run(command: list[str], cwd: Path, *, check: bool = True, env: dict | None = None,
        timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``command`` and capture its output; on an unexpected exit code, fail showing that output."""
    merged = {**os.environ, **(env or {})}
    result = subprocess.run(command, cwd=cwd, env=merged, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(map(str, command))} exited {result.returncode}\n"
                    f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}")
    return result


def mlops(*args: str, cwd: Path, check: bool = False, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the installed ``mlops`` command in ``cwd``."""
    return run([str(BIN / "mlops"), *args], cwd, check=check, env=env)


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def mlflow_runs(repo: Path) -> list[Path]:
    """The runs a smoke training recorded in the repo's local MLflow file store (``mlruns/``)."""
    return [meta.parent for meta in (repo / "mlruns").glob("*/*/meta.yaml")]


def copy_sharing_venv(source: Path, destination: Path) -> Path:
    """A copy of a set-up repo that a test may change; its ``.venv`` is ``source``'s, by symlink.

    copytree keeps modification times, so ``make`` still finds the copy's setup up to date."""
    shutil.copytree(source, destination, symlinks=True,
                    ignore=shutil.ignore_patterns(".venv", "outputs", "build"))
    (destination / ".venv").symlink_to(source / ".venv")
    return destination


_SET_UP: dict[str, Path] = {}


@pytest.fixture(scope="session")
def set_up_repo(tmp_path_factory, worker_id):
    """Factory: a generated repo of ``framework`` with its own ``make setup`` done, one per worker.

    The repo is generated and set up once per run (the first worker to ask does it, under a lock);
    each worker gets its own copy sharing that ``.venv``, so workers never write into the same repo."""
    run_dir = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        run_dir = run_dir.parent  # the run's folder, which every worker's basetemp sits in

    def factory(framework: str = "sklearn") -> Path:
        if framework not in _SET_UP:
            shared = run_dir / f"set-up-{framework}"
            with FileLock(run_dir / f"set-up-{framework}.lock"):
                if not (shared / "done").is_file():
                    shutil.rmtree(shared, ignore_errors=True)
                    run(["make", "setup"], bake(shared, framework=framework))
                    (shared / "done").touch()
            [source] = [path for path in shared.iterdir() if path.is_dir()]
            _SET_UP[framework] = copy_sharing_venv(source, tmp_path_factory.mktemp(f"repo-{framework}") / source.name)
        return _SET_UP[framework]

    return factory
