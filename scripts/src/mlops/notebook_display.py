"""How ``AzureMLRun`` shows progress in a notebook: each line as it comes, except the status of a
job or a deployment, which keeps one line per name, updated in place (``Queued -> Running -> Completed``,
``Transitioning -> Healthy``) instead of a new line per change."""

from __future__ import annotations

import re
from typing import Any

STATUS_LINE = re.compile(r"^  (?P<name>[\w.-]+): (?P<state>[A-Z][A-Za-z]+)$")


def status_words() -> set[str]:
    """The states a job or a deployment reports, lower-case (what a status line may end with)."""
    from mlops.azureml.deployment_state import STATE_WORDS
    from mlops.azureml.job_watch import FINISHED, WAITING

    return {*WAITING, *FINISHED, "running", "finalizing", "cancelrequested", "transitioning",
            *(word.lower() for word in STATE_WORDS.values())}


class NotebookLog:
    """The default ``log`` of ``AzureMLRun``: prints each line; in a Jupyter kernel, a status line
    updates the cell's one display for that job or deployment instead."""

    def __init__(self) -> None:
        self._shown: dict[tuple[int, str], tuple[Any, list[str]]] = {}
        self._words: set[str] | None = None

    def __call__(self, line: str) -> None:
        """Show ``line``."""
        kernel = _kernel()
        match = STATUS_LINE.match(line) if kernel is not None else None
        if match is None or match["state"].lower() not in self._status_words():
            print(line, flush=True)
            return
        from IPython.display import display

        key = (kernel.execution_count, match["name"])  # a later cell gets its own line
        if key not in self._shown:
            states = [match["state"]]
            self._shown[key] = (display(_text(match["name"], states), raw=True, display_id=True), states)
            return
        handle, states = self._shown[key]
        if states[-1] != match["state"]:
            states.append(match["state"])
        handle.update(_text(match["name"], states), raw=True)

    def _status_words(self) -> set[str]:
        if self._words is None:
            self._words = status_words()
        return self._words


def _kernel() -> Any | None:
    """The running Jupyter kernel's shell, or None (a terminal, a script, IPython without a kernel)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return shell if getattr(shell, "kernel", None) is not None else None


def _text(name: str, states: list[str]) -> dict[str, str]:
    return {"text/plain": f"  {name}: {' -> '.join(states)}"}
