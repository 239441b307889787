"""Shared helpers: generate projects with the real cookiecutter, run commands, share set-up repos."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# Generated repos' Makefiles find uv on PATH: use the copy pinned in the template's .venv.
os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"


def bake(output_dir: Path, **answers) -> Path:
    """Generate a project from this template with the real cookiecutter, without prompts."""
    return Path(cookiecutter(str(TEMPLATE), no_input=True, extra_context=answers, output_dir=str(output_dir)))


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


_SET_UP: dict[str, Path] = {}


@pytest.fixture(scope="session")
def set_up_repo(tmp_path_factory):
    """Factory: a generated repo of ``framework`` with its own ``make setup`` done, one per session."""

    def factory(framework: str = "sklearn") -> Path:
        if framework not in _SET_UP:
            repo = bake(tmp_path_factory.mktemp(f"repo-{framework}"), framework=framework)
            run(["make", "setup"], repo)
            _SET_UP[framework] = repo
        return _SET_UP[framework]

    return factory


def editable_copy(source: Path, tmp_path: Path) -> Path:
    """A copy of a set-up repo that a test may edit; its .venv is shared by symlink."""
    copy = tmp_path / source.name
    shutil.copytree(source, copy, symlinks=True, ignore=shutil.ignore_patterns(".venv", "outputs", "build"))
    (copy / ".venv").symlink_to(source / ".venv")
    return copy
