"""mlops runtime-env: the runtime environment at a stable path in the repo, for editors and notebooks."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

HELP = ("build the runtime environment (environment/environment.yml) and link it at .venv-runtime, "
        "for `python train.py`, editors and notebooks")

LINK_NAME = ".venv-runtime"


def add_arguments(parser) -> None:
    """No options: the repo is chosen with ``mlops -C DIR``."""


def link_runtime_env(project_dir: Path, *, log: Callable[[str], object] = print) -> Path:
    """Build (or reuse) the smoke run's environment and point ``<repo>/.venv-runtime`` at it; return the link.

    The environment itself stays in the toolkit's cache, shared by every repo with the same spec, so
    the link is replaced whenever the spec changes and never holds a second copy of the packages.
    """
    from mlops.project import load_project
    from mlops.runtime_env import ensure_venv

    project = load_project(project_dir)
    interpreter = ensure_venv(project.spec, log=log)
    env_dir = interpreter.parent.parent
    link = project.root / LINK_NAME
    _replace_link(link, env_dir)
    return link


def _replace_link(link: Path, target: Path) -> None:
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.is_dir():
        if os.name == "nt" and os.path.isjunction(link):  # a junction unlinks like a folder link
            os.rmdir(link)
        else:
            shutil.rmtree(link)
    try:
        link.symlink_to(target, target_is_directory=True)
    except OSError:
        if os.name != "nt":
            raise
        import _winapi  # Windows without the symlink privilege: a directory junction needs none

        _winapi.CreateJunction(str(target), str(link))


def run(args) -> int:
    """Print which interpreter is which."""
    from mlops.runtime_env import python_path

    link_runtime_env(args.project_dir)
    print(f"runtime-env: {python_path(Path(LINK_NAME))} has the packages of environment/environment.yml "
          "(for `python train.py`, the editor and notebooks); .venv has the toolkit (make targets)")
    return 0
