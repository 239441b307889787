"""``AzureMLRun``: the original notebook workflow over the same engine as the ``mlops`` commands.

Every method calls a command's function (``mlops.commands.*``); nothing here trains, plans or deploys
by itself. Config changes made through :attr:`AzureMLRun.yaml_config` and
:attr:`AzureMLRun.azure_compute_config` reach those calls through a session folder
(:mod:`mlops.session_config`), so the repo's files change only on ``save()``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops.errors import MlopsError, UsageError
from mlops.layout import BUILD_DIR, COMPUTE_CONFIG, Layout, find_experiment_file
from mlops.notebook_display import NotebookLog
from mlops.session_config import SessionConfig, remove_session_folder, session_folder

if TYPE_CHECKING:
    from mlops.azureml.deployment import DeployResult
    from mlops.azureml.release_plan import ReleasePlan
    from mlops.azureml.training import TrainResult
    from mlops.background_server import BackgroundServer
    from mlops.commands.api_test import AdapterCheck
    from mlops.commands.plan import PlanReport
    from mlops.commands.smoke_train import SmokeTraining
    from mlops.server_process import RunningServer

# The original AzureMLRun's settings that no longer exist here, and what took their place.
REPLACED = {
    "force_restart": "every release is a new deployment beside the live one (blue/green): there is nothing "
                     "to restart; `deploy_model()` replaces a failed earlier attempt by itself",
    "setkeyvalue": "assign to `arun.yaml_config[key]` or `arun.azure_compute_config[key]`, then `save()` to keep it",
    "show_output": "progress is always shown; pass `log=` to send it elsewhere",
    "compute_config": "the compute config is azure-compute-config.json in the experiment folder "
                      "(change it for this session in `arun.azure_compute_config`)",
    "yaml_file": "the experiment file is the one <experiment>.yml in the experiment folder",
}


class NotebookError(MlopsError):
    """A command failed from a notebook; the message is the line ``mlops`` would print after ``error:``."""


class AzureMLRun:
    """Train, plan and deploy an experiment repo from a notebook, with the same code as the ``mlops`` CLI.

    Parameters
    ----------
    folder:
        The experiment repo (default: the current folder or the first parent holding an ``<experiment>.yml``).
    register_model:
        ``"sklearn"`` (default) or ``"spacy"``: the model's framework. It must match ``framework`` in the
        experiment file, which decides how the model is saved and registered.
    plots:
        Show the smoke run's performance plots in the notebook (default ``True``). Whether training
        saves them is the ``#=====save performance plots`` section of train.py (empty: none).
    debug:
        Keep the full traceback (the Azure SDK's included) on errors, like ``mlops --debug``.
    log:
        Where progress lines go (default: printed as they come; in Jupyter, a job's or a deployment's
        status stays on one line, updated in place).

    The original's other settings are refused with what replaced them (``REPLACED`` in this module).
    The pull-request workflow stays the way to production: use this class to explore and rehearse.
    """

    def __init__(self, folder: str | os.PathLike | None = None, *, register_model: str = "sklearn",
                 plots: bool = True, debug: bool = False, log: Callable[[str], None] | None = None,
                 **original: Any) -> None:
        for name in original:
            replacement = REPLACED.get(name, "see `AzureMLRun?` for the parameters that exist")
            raise UsageError(f"AzureMLRun({name}=...) is not a setting any more: {replacement}")
        self.root = _experiment_root(Path(folder) if folder is not None else Path.cwd())
        self.plots = plots
        self.debug = debug
        self.log = log or NotebookLog()
        self.yaml_config = SessionConfig(find_experiment_file(self.root), self._check_session)
        """The experiment file as a dict: changes are checked now and used by this session (``save()`` keeps them)."""
        self.azure_compute_config = SessionConfig(self.root / COMPUTE_CONFIG, self._check_session)
        """azure-compute-config.json as a dict, with the same rules as ``yaml_config``."""
        framework = self.yaml_config.get("framework")
        if register_model != framework:
            raise UsageError(f"AzureMLRun(register_model={register_model!r}) but {self.yaml_config.path.name} "
                             f"says framework: {framework}: pass register_model={framework!r} (the experiment file "
                             "decides how the model is saved and registered)")
        self.register_model = register_model

    def __repr__(self) -> str:
        return f"AzureMLRun({str(self.root)!r}, register_model={self.register_model!r}, plots={self.plots})"

    def smoke_train(self) -> SmokeTraining:
        """``mlops smoke-train``: a quick run on the local samples in the environment Azure will build."""
        from mlops.commands.smoke_train import smoke_train

        training = self._call(smoke_train, log=self.log)
        for name, value in training.result.metrics.items():
            self.log(f"  {name}: {value}")
        if self.plots:
            _show_images(training.result.plots, self.log)
        return training

    def plan(self, *, workspace: bool = False) -> PlanReport:
        """``mlops plan``: write the Azure ML YAML to build/azureml/ and say what train and deploy would do."""
        from mlops.commands.plan import plan

        report = self._call(plan, workspace=workspace)
        for number, item in enumerate(report.items, 1):
            self.log(f"{number}. {item.what}: {item.name} -> {item.action}")
        return report

    def setup_run(self) -> ReleasePlan:
        """What ``mlops train`` ensures before the job: the training cluster, the environment and the data."""
        from mlops.commands.train import setup_training

        return self._call(setup_training, log=self.log)

    def train_model(self) -> TrainResult:
        """``mlops train``: ensure cluster, environment and data, run the job, register its model."""
        from mlops.commands.train import train

        return self._call(train, log=self.log)

    def deploy_model(self, **original: Any) -> DeployResult:
        """``mlops deploy``: a new deployment at 0%, smoke-tested, then the traffic shift (and rollback on failure)."""
        for name in original:
            if name == "debug":
                self.debug = bool(original[name])
                continue
            replacement = REPLACED.get(name, "deploy_model() takes no settings: they live under deploy: in the "
                                             "experiment file")
            raise UsageError(f"deploy_model({name}=...) is not a setting any more: {replacement}")
        from mlops.commands.deploy import deploy

        return self._call(deploy, log=self.log)

    def api_test(self, adapters: Sequence[str] = ("app", "score"), model: Path | None = None) -> list[AdapterCheck]:
        """``mlops api-test``: start each local server, send the good and bad requests, check every answer."""
        from mlops.commands.api_test import api_test

        checks = self._call(api_test, adapters=adapters, model=model, log=self.log)
        failed = sum(check.failed for check in checks)
        if failed:
            raise NotebookError(f"{failed} answer(s) were wrong (see FAIL above): fix serving/ and call "
                                "api_test() again")
        return checks

    def serve(self, adapter: str = "app", *, port: int | None = None, model: Path | None = None) -> BackgroundServer:
        """``mlops serve`` in the background: the started server (``.url``, ``.predict(payload)``, ``.stop()``),
        ready to answer; ``with arun.serve() as server:`` stops it at the end of the block.

        ``adapter`` ``"app"`` (serving/app.py under uvicorn) or ``"score"`` (score.py under azmlinfsrv, as
        Azure runs it); ``port`` defaults to a free one (``server.url`` says which); ``model`` to the last
        smoke run's."""
        from mlops.background_server import BackgroundServer
        from mlops.serving import ADAPTERS

        if adapter not in ADAPTERS:
            raise UsageError(f"serve(adapter={adapter!r}): choose {' or '.join(map(repr, ADAPTERS))}")
        return BackgroundServer(lambda: self._serving(adapter, port, model)).start()

    @contextmanager
    def _serving(self, adapter: str, port: int | None, model: Path | None) -> Iterator[RunningServer]:
        from mlops.commands.serve import prepare_server
        from mlops.server_process import free_port, running_server
        from mlops.serving import ADAPTERS

        with self._session() as folder, self._errors():  # the session folder lives as long as the server
            port = port or free_port("0.0.0.0" if ADAPTERS[adapter].all_interfaces else "127.0.0.1")
            launch = prepare_server(folder, adapter=adapter, port=port, model=model, log=self.log)
            log_file = Layout(self.root, self.yaml_config.path).serve_log(adapter)
            with running_server(launch, log_file, log=self.log) as server:
                model = launch.model.relative_to(folder) if launch.model.is_relative_to(folder) else launch.model
                self.log(f"serving {model} at {server.base_url}{launch.adapter.predict_path} "
                         f"(log: {log_file.relative_to(self.root)})")
                yield server

    def _call(self, function: Callable[..., Any], **options: Any) -> Any:
        with self._session() as folder, self._errors():
            return function(folder, **options)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """A command's error as one NotebookError with the CLI's line (the original with ``debug=True``)."""
        try:
            yield
        except MlopsError as error:
            if self.debug:
                raise
            raise NotebookError(str(error), findings=error.findings) from None

    @contextmanager
    def _session(self) -> Iterator[Path]:
        """The repo itself, or a session folder when a config was changed in this session."""
        replaced = {config.path.name: text for config in (self.yaml_config, self.azure_compute_config)
                    if (text := config.session_text()) is not None}
        if not replaced:
            yield self.root
            return
        layout = Layout(self.root, self.yaml_config.path)
        written = tuple(path.relative_to(self.root).as_posix() for path in (layout.outputs, layout.mlruns))
        folder = session_folder(self.root, replaced, (*written, BUILD_DIR))
        try:
            yield folder
        finally:
            remove_session_folder(folder)

    def _check_session(self) -> None:
        """Validate the repo with this session's changes, as ``mlops validate`` does; raise on an error."""
        from mlops.validation import validate_project

        with self._session() as folder:
            report = validate_project(folder)
        if report.errors:
            raise NotebookError("; ".join(str(finding) for finding in report.errors), findings=report.errors)


def _experiment_root(start: Path) -> Path:
    """``start`` or the nearest parent that holds an experiment file."""
    from mlops.layout import ExperimentFileError

    for folder in [start.resolve(), *start.resolve().parents]:
        try:
            find_experiment_file(folder)
        except ExperimentFileError:
            continue
        if (folder / COMPUTE_CONFIG).is_file():
            return folder
    raise UsageError(f"{start}: no experiment repo here or above (an <experiment>.yml next to {COMPUTE_CONFIG}): "
                     "pass AzureMLRun(folder=...)")


def _show_images(paths: Sequence[Path], log: Callable[[str], None]) -> None:
    """Each plot inline in a notebook; its path elsewhere."""
    try:
        from IPython import get_ipython
        from IPython.display import Image, display
    except ImportError:
        get_ipython = None
    for path in paths:
        log(f"  plot: {path}")
        if get_ipython is not None and get_ipython() is not None:
            display(Image(filename=str(path)))
