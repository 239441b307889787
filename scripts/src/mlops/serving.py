"""How to start an experiment repo's model servers: the FastAPI app under uvicorn, score.py under azmlinfsrv.

Both run the repo's ``serving/`` folder (the code that ships to Azure ML with the model), each in
its own cached environment built from the runtime spec plus its server, never in the toolkit's
environment: the runtime lacks the toolkit, and Microsoft's server pins packages (pydantic,
opentelemetry) that conflict with the toolkit's fastapi. The server packages are pinned here, once.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError
from mlops.frameworks import get_framework
from mlops.layout import SAMPLE_REQUEST, SERVING_DIR
from mlops.project import Project
from mlops.runtime_env import ensure_venv
from mlops.smoke import isolated_environment
from mlops.smoke_record import OUTPUTS, require_current_outputs

SCORING_SCRIPT = "score.py"
MODEL_DIRS = "build/azureml-models"

# The server packages, pinned once: added to the runtime spec to build each adapter's environment.
APP_PACKAGES = ("fastapi==0.165.0", "fastapi-offline==1.7.7", "uvicorn==0.54.0", "httptools==0.9.0",
                "uvloop==0.23.0; sys_platform != 'win32'")
INFERENCE_SERVER_PACKAGES = ("azureml-inference-server-http==1.5.1",)

LIMIT_VARIABLES = {"max_rows": "PREDICT_MAX_ROWS", "max_body_bytes": "PREDICT_MAX_BODY_BYTES"}


@dataclass(frozen=True)
class Adapter:
    """One way to serve the predictor: which server, its packages and its routes."""

    name: str
    title: str
    env_kind: str
    packages: tuple[str, ...]
    health_path: str
    predict_path: str
    all_interfaces: bool  # azmlinfsrv always binds 0.0.0.0 and cannot be told otherwise


ADAPTERS = {
    "app": Adapter("app", "FastAPI app (serving/app.py) under uvicorn", "serve", APP_PACKAGES,
                   "/health", "/predict", all_interfaces=False),
    "score": Adapter("score", "Azure ML score.py under azmlinfsrv", "score", INFERENCE_SERVER_PACKAGES,
                     "/", "/score", all_interfaces=True),
}


@dataclass
class Launch:
    """Everything needed to start one server process."""

    adapter: Adapter
    command: list[str]
    cwd: Path
    env: dict[str, str]
    host: str
    port: int
    model: Path  # what is served, as given or found
    model_dir: Path  # where AZUREML_MODEL_DIR points: ``model`` laid out as in Azure
    limits: dict[str, int] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        """Where a client on this machine reaches the server."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"


def serving_limits(project: Project) -> dict[str, int]:
    """The request limits from the experiment file's ``serve:`` section, with defaults for what it omits."""
    serve = project.experiment.serve
    return {name: int(getattr(serve, name)) for name in LIMIT_VARIABLES}


def server_environment(model_dir: Path, limits: dict[str, int]) -> dict[str, str]:
    """The variables both adapters read: the model folder (as Azure ML names it) and the request limits."""
    variables = {"AZUREML_MODEL_DIR": str(model_dir)}
    variables.update({LIMIT_VARIABLES[name]: str(value) for name, value in limits.items()})
    return variables


def resolve_model(project: Project, given: Path | None) -> Path:
    """The model to serve: ``given``, else the last smoke run's ``outputs/`` if the current code trained it."""
    if given is not None:
        path = given if given.is_absolute() else Path.cwd() / given
        if not path.exists():
            raise MlopsError(f"--model {given}: no such file or folder: pass the model file or the folder holding it")
        return path.resolve()
    require_current_outputs(project)
    saved = get_framework(project.experiment.framework).model_output
    if not project.path(saved).exists():
        raise MlopsError(f"{saved} is missing: run `make smoke-train` first, or pass --model PATH")
    return project.path(OUTPUTS)


def model_directory(project: Project, model: Path, copy_name: str = "local") -> Path:
    """The folder ``AZUREML_MODEL_DIR`` names, laid out as in an Azure ML deployment.

    Azure registers the job's ``outputs/`` folder as the model and a deployment finds it at
    ``$AZUREML_MODEL_DIR/outputs/``; a score.py written for Azure reads the same paths here. A folder
    already in that layout (a downloaded registered model) is used as it is; anything else is copied
    into ``build/azureml-models/<model_name>/<copy_name>/`` (where Azure has the version; one copy per
    adapter, so both can run at once): the model itself to where the framework saves it, any other
    folder as ``outputs/``.
    """
    if model.is_dir() and (model / OUTPUTS).is_dir():
        return model
    framework = get_framework(project.experiment.framework)
    target = project.path(f"{MODEL_DIRS}/{project.experiment.model_name}/{copy_name}")
    if target.exists():
        shutil.rmtree(target)
    is_model_itself = model.is_file() or any((model / name).is_file() for name in framework.model_markers)
    destination = target / (framework.model_output if is_model_itself else OUTPUTS)
    destination.parent.mkdir(parents=True, exist_ok=True)
    if model.is_file():
        shutil.copy2(model, destination)
        for name in framework.model_companions:  # e.g. the request schema saved next to the model
            if (model.parent / name).is_file():
                shutil.copy2(model.parent / name, destination.parent / name)
    else:
        shutil.copytree(model, destination)
    return target


def serving_python(project: Project, adapter: Adapter, log=print) -> Path:
    """The interpreter of ``adapter``'s environment: the runtime spec plus the adapter's server, cached."""
    return ensure_venv(project.spec, kind=adapter.env_kind, extra=adapter.packages, log=log)


def plan_launch(project: Project, adapter: Adapter, python: Path, *, host: str, port: int, model: Path,
                reload: bool = False) -> Launch:
    """The command, folder and environment that start ``adapter`` on ``host:port`` serving ``model``, which
    it finds in the folder ``AZUREML_MODEL_DIR`` names (see :func:`model_directory`)."""
    code = project.path(SERVING_DIR)
    for required in ("app.py" if adapter.name == "app" else SCORING_SCRIPT, "sample-request.json"):
        if not (code / required).is_file():
            raise MlopsError(f"{SERVING_DIR}/{required} is missing: restore it from the template")
    limits = serving_limits(project)
    model_dir = model_directory(project, model, f"local-{adapter.name}")
    env = {**isolated_environment(), **server_environment(model_dir, limits), "PYTHONUNBUFFERED": "1"}
    if adapter.name == "app":
        command = [str(python), "-m", "uvicorn", "app:api", "--app-dir", str(code), "--host", host,
                   "--port", str(port), "--no-access-log", "--timeout-graceful-shutdown", "5"]
        if reload:
            command += ["--reload", "--reload-dir", str(code)]
    else:
        env["AML_APP_ROOT"] = str(code)
        command = score_command(python, SCORING_SCRIPT, model_dir, port)
        host = "0.0.0.0"
    return Launch(adapter=adapter, command=command, cwd=code, env=env, host=host, port=port, model=model,
                  model_dir=model_dir, limits=limits)


def score_command(python: Path, entry_script: str, model: Path, port: int) -> list[str]:
    """Azure ML's inference server running ``entry_script`` (relative to ``$AML_APP_ROOT``) on ``port``."""
    return [str(python), "-m", "azureml_inference_server_http.amlserver", "--entry_script", entry_script,
            "--model_dir", str(model), "--port", str(port)]


def load_sample_request(project: Project) -> tuple[dict[str, Any], str]:
    """The shipped sample request and the name of its one list field (the items to predict)."""
    path = project.path(SAMPLE_REQUEST)
    try:
        sample = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MlopsError(f"{SAMPLE_REQUEST} is missing: add a request body that the model answers") from None
    except json.JSONDecodeError as error:
        raise MlopsError(f"{SAMPLE_REQUEST}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}") from None
    lists = [key for key, value in sample.items() if isinstance(value, list)] if isinstance(sample, dict) else []
    if len(lists) != 1 or not sample[lists[0]]:
        raise MlopsError(f"{SAMPLE_REQUEST}: must be a JSON object with one non-empty list of items, "
                         'e.g. {"rows": [...]}')
    return sample, lists[0]


def exec_server(launch: Launch) -> None:
    """Replace this process with the server (foreground ``mlops serve``), so Ctrl-C reaches it directly."""
    sys.stdout.flush()
    os.chdir(launch.cwd)
    os.execve(launch.command[0], launch.command, launch.env)
