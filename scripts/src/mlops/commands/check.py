"""mlops check: what `make check` runs, for a machine without `make` (Windows) or a notebook."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HELP = "run every check of a pull request (what `make check` runs), in order, stopping at the first failure"

# step -> the command after `python -m`; the step names and their order are `make check`'s prerequisites
# (tests/test_first_hour.py keeps the two equal).
STEPS: dict[str, tuple[str, ...]] = {
    "validate": ("mlops", "validate"),
    "lint": ("ruff", "check", "."),
    "smoke-train": ("mlops", "smoke-train"),
    "plan": ("mlops", "plan"),
    "test": ("pytest", "-q", "tests"),
    "api-test": ("mlops", "api-test"),
    "rehearse": ("mlops", "rehearse"),
}


@dataclass
class CheckRun:
    """The steps that ran, each with its exit code and seconds; ``failed`` names the first that failed."""

    steps: list[tuple[str, int, float]] = field(default_factory=list)

    @property
    def failed(self) -> str | None:
        """The step that stopped the run, or None when every step passed."""
        return next((name for name, code, _ in self.steps if code != 0), None)


def add_arguments(parser) -> None:
    """No options: the repo is chosen with ``mlops -C DIR``."""


def check(project_dir: Path, *, log: Callable[[str], object] = print) -> CheckRun:
    """Run each step of :data:`STEPS` with this interpreter in ``project_dir``; stop at the first failure."""
    run = CheckRun()
    for name, command in STEPS.items():
        log(f"check: {name}")
        started = time.monotonic()
        code = subprocess.call([sys.executable, "-m", *command], cwd=project_dir)
        run.steps.append((name, code, time.monotonic() - started))
        if code != 0:
            break
    return run


def run(args) -> int:
    """Print a banner per step and the outcome; exit 1 when a step failed."""
    result = check(args.project_dir)
    if result.failed:
        print(f"check: {result.failed} failed: fix what it printed above, then run `mlops check` again",
              file=sys.stderr)
        return 1
    print(f"check: all passed ({', '.join(f'{name} {seconds:.0f} s' for name, _, seconds in result.steps)})")
    return 0
