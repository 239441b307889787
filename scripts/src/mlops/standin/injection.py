"""Named faults the stand-in injects at the HTTP level, so a rehearsal can fail the way Azure fails.

Each fault is armed with a count (how many times it fires) and optional parameters, from the
command line (``--inject throttle:times=3,status=503``), the Python API (``standin.inject(...)``) or
the control route (``POST /_standin/faults``). See ``FAULTS`` for what each one does.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from mlops.errors import MlopsError

FAULTS = {
    "job-fails": "the next job starts and fails: the runtime raises, std_log.txt ends with the traceback, "
                 "the job ends Failed with a UserError",
    "image-build-fails": "the next job or deployment fails while its environment image is built "
                         "(job: Failed in Preparing; deployment: provisioning Failed), with the build log's tail",
    "never-healthy": "the next deployment's container never passes its readiness probe: its operation stays "
                     "in progress for `seconds` (default 3), then ends Failed (ResourceNotReady)",
    "deployment-500": "the next deployment provisions, but every scoring request it gets answers 500",
    "quota-exceeded": "the next create of a compute, endpoint or deployment is refused: 400 with Azure's "
                      "quota message (family, region, usage/limit)",
    "throttle": "the next `times` (default 2) management requests answer `status` (429, or 503) with "
                "Retry-After and retry-after-ms, then requests succeed again",
    "conflict-in-flight": "the next `times` (default 1) changes to an endpoint or deployment answer 409: "
                          "another operation is in progress on it",
    "lost-response": "the next job submission is applied but its answer is lost (the connection drops), "
                     "`times` (default 4, one more than azure-core retries) submissions in a row",
    "worse-model": "the next job trains on its training inputs with the labels scrambled (a CSV's last column, "
                   "or `column`, shuffled with a fixed seed; a JSON-lines record's entities removed), so its model "
                   "is worse than the one serving; the quality gate's evaluation data and champion are untouched",
    "job-queued": "the next job waits in Queued for `seconds` (default 5) before it starts, as when the "
                  "cluster has no free node",
    "compute-update-forbidden": "the next update of an existing compute answers 403 AuthorizationFailed, as for "
                                "a principal with the AzureML Data Scientist role",
    "killed-mid-rollout": "after the first traffic change that gives a new deployment traffic (or a mirror), "
                          "the caller is treated as killed (StandIn.caller_killed is set, for a harness to kill "
                          "the process for real): that answer and every later management request "
                          "drop the connection until the fault is cleared",
}
DEFAULT_TIMES = {"throttle": 2, "lost-response": 4}


@dataclass
class Fault:
    """An armed fault: how many more times it fires, and its parameters."""

    name: str
    times: int = 1
    params: dict[str, Any] = field(default_factory=dict)


def parse_fault(text: str) -> Fault:
    """``name`` or ``name:key=value,key=value`` (``times`` is the count); a bad name or pair is an error."""
    name, _, rest = text.strip().partition(":")
    if name not in FAULTS:
        raise MlopsError(f"--inject {text}: unknown fault {name!r}: choose one of {', '.join(FAULTS)}")
    params: dict[str, Any] = {}
    for pair in filter(None, rest.split(",")):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise MlopsError(f"--inject {text}: {pair!r} is not key=value (example: throttle:times=3,status=503)")
        params[key.strip()] = int(value) if value.strip().lstrip("-").isdigit() else value.strip()
    times = params.pop("times", DEFAULT_TIMES.get(name, 1))
    if not isinstance(times, int) or times < 1:
        raise MlopsError(f"--inject {text}: times must be a whole number of at least 1")
    return Fault(name, times, params)


class Faults:
    """The armed faults of one stand-in; thread-safe."""

    def __init__(self) -> None:
        self._armed: dict[str, Fault] = {}
        self._lock = threading.Lock()
        self.fired: list[str] = []

    def inject(self, fault: Fault | str) -> Fault:
        """Arm ``fault`` (a :class:`Fault` or its text form), replacing an armed one of the same name."""
        fault = parse_fault(fault) if isinstance(fault, str) else fault
        with self._lock:
            self._armed[fault.name] = fault
        return fault

    def clear(self, name: str | None = None) -> None:
        """Disarm one fault, or all."""
        with self._lock:
            if name is None:
                self._armed.clear()
            else:
                self._armed.pop(name, None)

    def armed(self, name: str) -> Fault | None:
        """The armed fault ``name`` without using it up."""
        with self._lock:
            return self._armed.get(name)

    def take(self, name: str) -> Fault | None:
        """Use one firing of ``name``: the fault when it was armed, else None."""
        with self._lock:
            fault = self._armed.get(name)
            if fault is None:
                return None
            fault.times -= 1
            if fault.times <= 0:
                del self._armed[name]
            self.fired.append(name)
            return fault

    def fire(self, name: str) -> Fault | None:
        """Apply ``name`` without using it up (it stays armed until cleared): the fault when it was armed."""
        with self._lock:
            fault = self._armed.get(name)
            if fault is not None:
                self.fired.append(name)
            return fault

    def describe(self) -> list[dict[str, Any]]:
        """The armed faults as plain data (for the control route)."""
        with self._lock:
            return [{"name": f.name, "times": f.times, **f.params} for f in self._armed.values()]
