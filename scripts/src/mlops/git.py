"""Run git in an experiment repo and read the states an update cares about."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from mlops.errors import MlopsError


def git(root: Path, *args: str, input_text: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``git ARGS`` in ``root``; with ``check``, a failure is an error quoting git's own message."""
    if shutil.which("git") is None:
        raise MlopsError("git is not installed: install git and run the command again")
    result = subprocess.run(["git", *args], cwd=root, input=input_text, capture_output=True, text=True,
                            check=False)
    if check and result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        raise MlopsError(f"`git {' '.join(args)}` failed in {root}: {message[-1] if message else 'no message'}")
    return result


def is_work_tree(root: Path) -> bool:
    """True when ``root`` is inside a git work tree."""
    result = git(root, "rev-parse", "--is-inside-work-tree", check=False)
    return result.returncode == 0 and result.stdout.strip() == "true"


def changed_files(root: Path) -> list[str]:
    """Tracked files that differ from the last commit (staged or not); untracked files are not listed."""
    lines = git(root, "status", "--porcelain", "--untracked-files=no").stdout.splitlines()
    return [line[3:] for line in lines if line.strip()]


def unmerged_files(root: Path) -> list[str]:
    """Files whose merge conflict is not resolved yet (``git add`` marks one resolved)."""
    return sorted(set(git(root, "diff", "--name-only", "--diff-filter=U").stdout.split()))


def untracked_files(root: Path, pattern: str = "*") -> list[str]:
    """Untracked, not ignored files matching ``pattern``."""
    return git(root, "ls-files", "--others", "--exclude-standard", "--", pattern).stdout.split()
