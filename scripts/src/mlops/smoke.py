"""Run the training script quickly, with the smoke overrides, in the environment Azure will build.

The run happens in a staged copy of the job's code (see :mod:`mlops.job_code`) with an interpreter
built from the runtime spec alone. Before training starts, every module the script imports is looked
up in that interpreter, so a package missing from the spec fails in seconds with the module's name
and the file to add it to.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.assembly import assemble_file
from mlops.errors import MlopsError
from mlops.frameworks import get_framework
from mlops.gate_smoke import run_gate_step
from mlops.job_code import stage_job_code
from mlops.metrics import METRICS_FILE, read_metrics
from mlops.project import Project
from mlops.runtime_env import ensure_venv
from mlops.smoke_record import OUTPUTS, code_fingerprint, write_record
from mlops.traceback_map import map_traceback

# import name -> pip package, where they differ
DISTRIBUTIONS = {
    "sklearn": "scikit-learn", "yaml": "pyyaml", "cv2": "opencv-python-headless", "PIL": "pillow",
    "bs4": "beautifulsoup4", "skimage": "scikit-image", "dotenv": "python-dotenv", "dateutil": "python-dateutil",
    "mlflow": "mlflow-skinny", "azureml": "azureml-mlflow", "jose": "python-jose", "attr": "attrs",
}
MISSING_MODULE = re.compile(r"ModuleNotFoundError: No module named '([^'.]+)")


@dataclass
class SmokeResult:
    """What a smoke run produced."""

    outputs: Path
    metrics: dict[str, Any]
    seconds: float
    plots: list[Path]
    gate: dict[str, Any] | None = None


def imported_modules(script: Path) -> list[tuple[str, int]]:
    """Top-level modules that ``script`` imports absolutely, with the line of their first import."""
    tree = ast.parse(script.read_text(encoding="utf-8"), filename=str(script))
    found: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            found[top] = min(found.get(top, node.lineno), node.lineno)
    return sorted(found.items(), key=lambda item: item[1])


def missing_modules(python: Path, modules: list[str], code_dir: Path) -> list[str]:
    """The modules among ``modules`` that ``python`` cannot import from ``code_dir``."""
    probe = ("import importlib.util, json, sys\n"
             "print(json.dumps([m for m in sys.argv[1:] if importlib.util.find_spec(m) is None]))")
    result = subprocess.run([str(python), "-c", probe, *modules], cwd=code_dir, capture_output=True,
                            text=True, env=isolated_environment())
    if result.returncode != 0:
        raise MlopsError(f"could not inspect the runtime environment: {result.stderr.strip()[-300:]}")
    return json.loads(result.stdout)


def isolated_environment() -> dict[str, str]:
    """The current environment without anything that would leak the toolkit's packages into the runtime."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    # A Jupyter kernel sets MPLBACKEND=module://matplotlib_inline...: a module of the toolkit's
    # environment that the runtime lacks, so matplotlib in the child would fail to import.
    if env.get("MPLBACKEND", "").startswith("module://"):
        del env["MPLBACKEND"]
    env["PYTHONNOUSERSITE"] = "1"
    return env


def smoke_environment(project: Project) -> dict[str, str]:
    """The isolated environment, with MLflow kept local: the repo's ``mlruns/`` file store, never a service."""
    env = {k: v for k, v in isolated_environment().items() if not k.startswith(("MLFLOW_", "AZUREML_"))}
    env["MLFLOW_TRACKING_URI"] = project.layout.mlruns.as_uri()
    return env


def missing_package_error(module: str, script_name: str, line: int | None, spec_file: str) -> MlopsError:
    """The error for a module the runtime lacks: which module, and the file and package that fix it."""
    package = DISTRIBUTIONS.get(module, module)
    where = f"{script_name}:{line}" if line else script_name
    return MlopsError(f"{where}: imports {module!r}, which {spec_file} does not install: "
                      f"add '{package}' under pip: in {spec_file}")


def run_smoke_training(project: Project, log=print, champion: Path | None = None) -> SmokeResult:
    """Stage the job, check its imports, run it with the smoke overrides (and the gate's step against
    ``champion``, a locally saved model) and collect its outputs."""
    spec_file = project.experiment.dependencies
    # What this run rewrites goes first: a run that fails leaves no older model for later checks to pass on.
    outputs = clear_outputs(project.layout.outputs)
    fingerprint = code_fingerprint(project)
    python = ensure_venv(project.spec, log=log)
    script = stage_job_code(project, project.layout.smoke_dir, log=log)
    check_imports(project, python, script, spec_file)
    seconds = _run_training(project, python, script, spec_file, log)
    gate = run_gate_step(project, python, script.parent, smoke_environment(project), champion, log)
    _collect_outputs(script.parent / OUTPUTS, outputs)
    write_record(outputs, fingerprint, {"seconds": round(seconds, 1)})
    return SmokeResult(outputs=outputs, metrics=read_metrics(outputs / METRICS_FILE), seconds=seconds,
                       plots=sorted(outputs.glob("*.png")), gate=gate)


def check_imports(project: Project, python: Path, script: Path, spec_file: str) -> None:
    """Raise, naming module, line and spec file, for the first module the staged script imports that
    ``python`` lacks: a missing package fails here, in seconds, instead of after training started."""
    script_name = project.experiment.train.script
    code_dir = script.parent
    local = {p.stem for p in code_dir.iterdir()}
    wanted = [m for m in dict(imported_modules(script)) if m not in local and m not in sys.stdlib_module_names]
    written = dict(imported_modules(project.training_script))  # lines in the base file, not the assembled one
    for module in missing_modules(python, wanted, code_dir):
        where = script_name if module in written else f"{script_name} (a section `mlops assemble` fills in)"
        raise missing_package_error(module, where, written.get(module), spec_file)


def _run_training(project: Project, python: Path, script: Path, spec_file: str, log) -> float:
    """Run the staged script with the smoke arguments; return its seconds or raise with what went wrong."""
    script_name = project.experiment.train.script
    timeout = project.experiment.smoke.timeout_seconds
    command = [str(python), script.name, *project.smoke_arguments]
    log(f"Smoke training: {script_name} {' '.join(command[2:])}")
    started = time.monotonic()
    result = run_streamed(command, script.parent, smoke_environment(project), timeout, log)
    if result is None:
        raise MlopsError(f"{script_name} ran longer than smoke.timeout_seconds ({timeout} s): "
                         "make the smoke overrides smaller")
    if result.stderr:
        framework = get_framework(project.experiment.framework)
        sys.stderr.write(map_traceback(result.stderr, script, script_name,
                                       assemble_file(project.training_script, framework, script_name)))
    if result.returncode != 0:
        missing = MISSING_MODULE.search(result.stderr or "")
        if missing:
            raise missing_package_error(missing.group(1), script_name, None, spec_file)
        raise MlopsError(f"{script_name} failed with exit code {result.returncode} (its output is above)")
    return time.monotonic() - started


def run_streamed(command: list[str], cwd: Path, env: dict[str, str], timeout: float,
            log) -> subprocess.CompletedProcess | None:
    """Run ``command``, each line it prints passed to ``log`` as it comes (a notebook cell shows it too);
    return its exit code and stderr, or None when it ran past ``timeout`` seconds and was killed."""
    timed_out = threading.Event()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as stderr, subprocess.Popen(
            command, cwd=cwd, env={**env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE, stderr=stderr,
            text=True, encoding="utf-8", errors="replace") as process:
        timer = threading.Timer(timeout, lambda: (timed_out.set(), process.kill()))
        timer.start()
        try:
            for line in process.stdout:
                log(line.rstrip("\n"))
            returncode = process.wait()
        finally:
            timer.cancel()
        stderr.seek(0)
        result = subprocess.CompletedProcess(command, returncode, stderr=stderr.read())
    return None if timed_out.is_set() else result


def clear_outputs(outputs: Path) -> Path:
    """Empty ``outputs`` (the smoke run's results, never tracked by git) and return it."""
    if outputs.exists():
        shutil.rmtree(outputs)
    outputs.mkdir(parents=True)
    return outputs


def _collect_outputs(staged: Path, outputs: Path) -> None:
    """Copy what the run left in ``staged`` (the job's outputs folder) into the emptied ``outputs``."""
    if staged.is_dir():
        shutil.copytree(staged, outputs, dirs_exist_ok=True)
