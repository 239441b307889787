"""Build, cache and find the isolated virtual environments that run training and scoring locally.

An environment is built with uv from the runtime spec alone (plus any named extras, such as an
inference server), never from the toolkit's own environment, so a package the spec forgot is
missing here exactly as it would be in Azure. Environments are cached by the spec's hash, built in a
scratch folder and renamed into place, so an interrupted build never leaves a half environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from filelock import FileLock

from mlops.errors import MlopsError
from mlops.runtime_spec import RuntimeSpec
from mlops.standin.client_variables import outside_environment


def cache_root() -> Path:
    """Where environments live: ``$MLOPS_CACHE_DIR``, else ``$XDG_CACHE_HOME/mlops``, else ``~/.cache/mlops``."""
    if os.environ.get("MLOPS_CACHE_DIR"):
        return Path(os.environ["MLOPS_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mlops"


def uv_binary() -> str:
    """The uv executable shipped with the toolkit, else the one on PATH."""
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if not found:
            raise MlopsError("uv is not installed: run `make setup` (it installs uv with the toolkit)") from None
        return found


def python_path(env_dir: Path) -> Path:
    """The interpreter inside a virtual environment."""
    return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv(spec: RuntimeSpec, *, kind: str = "runtime", extra: tuple[str, ...] = (),
                       log=print) -> Path:
    """Return the interpreter of the cached environment for ``spec`` + ``extra``, building it if missing."""
    envs = cache_root() / "envs"
    envs.mkdir(parents=True, exist_ok=True)
    target = envs / f"{kind}-{spec.digest(extra)}"
    if python_path(target).exists():
        return python_path(target)
    with FileLock(envs / f"{target.name}.lock"):
        if python_path(target).exists():
            return python_path(target)
        log(f"Building the {kind} environment from {spec.path.name} (python {spec.python}, "
            f"{len(spec.requirements) + len(extra)} packages); later runs reuse it.")
        scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=envs))
        try:
            _build(scratch, spec, extra)
            scratch.rename(target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return python_path(target)


def _build(env_dir: Path, spec: RuntimeSpec, extra: tuple[str, ...]) -> None:
    uv = uv_binary()
    _run([uv, "venv", "--quiet", "--relocatable", "--python", spec.python, str(env_dir)],
         f"could not create a Python {spec.python} environment (is Python {spec.python} installed? "
         f"`uv python install {spec.python}` installs it)")
    requirements = env_dir / "requirements.txt"
    requirements.write_text("\n".join((*spec.requirements, *extra)) + "\n", encoding="utf-8")
    _run([uv, "pip", "install", "--quiet", "--python", str(python_path(env_dir)), "-r", str(requirements)],
         f"could not install the packages of {spec.path.name}: fix the pip list there (uv's message is above)")


def _run(command: list[str], failure: str) -> None:
    # Without a stand-in's proxy and CA (a notebook kernel or a rehearsed command has them): the package
    # index is reached as it would be without the stand-in, which refuses every host it does not play.
    # Bytecode is compiled at install (a machine with PYTHONDONTWRITEBYTECODE would otherwise compile every
    # run's imports again); UV_COMPILE_BYTECODE=0 in the environment opts out, as uv itself reads it.
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={"UV_COMPILE_BYTECODE": "1", **outside_environment()})
    if result.returncode != 0:
        print(result.stdout.rstrip())
        raise MlopsError(failure)
