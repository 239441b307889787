"""A deployment's state while Azure works on it, in the words of the studio's "Deployment state"
(Transitioning, Healthy, Unhealthy), as the original notebook workflow showed it: one line per change,
never a line per poll."""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from typing import Any

# Provisioning and operation states that are final; every other one is "Transitioning" in the studio.
STATE_WORDS = {"succeeded": "Healthy", "failed": "Unhealthy", "canceled": "Unhealthy"}
POLL_SECONDS = 10.0


def azure_state(provisioning_state: Any) -> str:
    """The state as Azure names it (``Creating``, ``Succeeded``; ``""`` when unset).

    Takes the poller's status text or a resource's ``provisioning_state``, which the SDK hands back as an
    enum member (its ``str()`` is ``DeploymentProvisioningState.SUCCEEDED``)."""
    return str(getattr(provisioning_state, "value", provisioning_state) or "")


def deployment_state(provisioning_state: Any) -> str:
    """``Healthy`` once Azure succeeded, ``Unhealthy`` when it failed, ``Transitioning`` before (the state as
    :func:`azure_state` takes it)."""
    return STATE_WORDS.get(azure_state(provisioning_state).lower(), "Transitioning")


class StateLine:
    """Logs ``  <name>: <state>`` each time the deployment's state, in the studio's words, changes."""

    def __init__(self, name: str, log: Callable[[str], None]) -> None:
        self.name, self.log, self.last = name, log, ""

    def update(self, provisioning_state: Any) -> None:
        """Log the state if it differs from the last one logged."""
        state = deployment_state(provisioning_state)
        if state != self.last:
            self.log(f"  {self.name}: {state}")
            self.last = state


def follow_operation(poller: Any, name: str, timeout_seconds: float, log: Callable[[str], None],
                     every: float = POLL_SECONDS) -> bool:
    """Wait up to ``timeout_seconds`` for ``poller`` (the SDK's long-running operation on deployment
    ``name``), logging its state as it changes; return whether it ended. A failed operation raises,
    as ``poller.result()`` does, after its Unhealthy line. Returns as soon as the operation ends."""
    _without_dots(poller)
    line = StateLine(name, log)
    try:
        for _ in range(max(1, math.ceil(timeout_seconds / every))):
            line.update(poller.status())
            if poller.done():
                break
            poller.wait(timeout=every)
        if poller.done():
            poller.wait(timeout=0)  # raises what the operation raised, as result() does
    finally:
        line.update(poller.status())
    return poller.done()


def _without_dots(poller: Any) -> None:
    """azure-ai-ml's polling (``AzureMLPolling``) prints a "." on every poll from the poller's thread: a wall
    of dots in a log or a notebook cell. This poller's status updates as in the class it extends, silently;
    its state is logged by change instead. The first poll comes after the poll interval: no dot gets out."""
    method = poller.polling_method() if hasattr(poller, "polling_method") else None
    if type(method).__name__ == "AzureMLPolling":
        method.update_status = types.MethodType(type(method).__mro__[1].update_status, method)
