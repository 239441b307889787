"""Follow a submitted job by polling its status, with a deadline to start and a deadline to finish.

``jobs.stream`` waits without a deadline while a job is Queued or Preparing (a cluster that cannot
get a node, an image that does not build) and turns Ctrl-C into a ``JobException``. Polling
``jobs.get`` instead lets a job that cannot start say why after ``start_minutes``, and leaves Ctrl-C
a Ctrl-C: the job keeps running in Azure and a rerun of ``mlops train`` follows it.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlops.azureml.retry import RetryPolicy, call, find
from mlops.errors import MlopsError

# azure-ai-ml's own setting for the longest wait between two reads of a run in jobs.stream
# (RunHistoryConstants); the stand-in's client environment sets it to 1 s, its jobs take seconds.
POLL_VARIABLE = "AZUREML_RUN_POLLING_INTERVAL_MAX"
LONGEST_POLL_SECONDS = 15.0
WAITING = {"notstarted", "queued", "preparing", "provisioning", "starting"}
FINISHED = {"completed", "failed", "canceled", "notresponding", "paused"}


def longest_poll_seconds(environ: dict[str, str] = os.environ) -> float:
    """The longest wait between two status reads: ``AZUREML_RUN_POLLING_INTERVAL_MAX`` when it is a positive
    number (the setting azure-ai-ml reads for the same purpose), else 15 s."""
    try:
        seconds = float(environ.get(POLL_VARIABLE, ""))
    except ValueError:
        return LONGEST_POLL_SECONDS
    return seconds if seconds > 0 else LONGEST_POLL_SECONDS


@dataclass(frozen=True)
class Deadlines:
    """How long a job may wait to start and to finish, and how often its status is read (from every
    ``first_poll_seconds``, doubling up to every ``poll_seconds``)."""

    start_minutes: float = 60
    finish_minutes: float = 600
    poll_seconds: float = field(default_factory=longest_poll_seconds)
    first_poll_seconds: float = 1
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)


def status_of(job: Any) -> str:
    """The job's status as Azure names it (``Completed``); the SDK hands back a ``JobStatus`` enum member,
    whose ``str()`` is ``JobStatus.COMPLETED``."""
    status = getattr(job, "status", None)
    return str(getattr(status, "value", status) or "Unknown")


class JobStuck(MlopsError):
    """The job did not start, or did not finish, before its deadline; it is left running in Azure."""


def wait_for_job(client: Any, name: str, compute: str, deadlines: Deadlines, policy: RetryPolicy,
                 log=print) -> Any:
    """Poll the job until it finishes; raise :class:`JobStuck` (saying why) when a deadline passes."""
    started_at = deadlines.clock()
    last = ""
    try:
        for poll in itertools.count():
            job = call(policy, f"jobs.get {name}", client.jobs.get, name, log=log)
            status = status_of(job)
            if status != last:
                log(f"  {name}: {status}")
                last = status
            if status.lower() in FINISHED:
                return job
            waited = (deadlines.clock() - started_at) / 60
            if status.lower() in WAITING and waited >= deadlines.start_minutes:
                why = why_not_started(client, status, compute, policy, log)
                raise JobStuck(f"training job {name} is still {status} after {deadlines.start_minutes:g} minutes: "
                               f"{why}. It stays queued in Azure: rerun `mlops train` to keep following it, or "
                               f"cancel it (az ml job cancel -n {name})")
            if waited >= deadlines.finish_minutes:
                raise JobStuck(f"training job {name} is still {status} after {deadlines.finish_minutes:g} minutes; "
                               f"it keeps running in Azure: rerun `mlops train` to keep following it, or cancel it "
                               f"(az ml job cancel -n {name})")
            deadlines.sleep(min(deadlines.poll_seconds, deadlines.first_poll_seconds * 2 ** poll))
    except KeyboardInterrupt:
        log(f"\n  stopped following {name}; the job keeps running in Azure: rerun `mlops train` to follow it, "
            f"or cancel it (az ml job cancel -n {name})")
        raise


def why_not_started(client: Any, status: str, compute: str, policy: RetryPolicy, log=print) -> str:
    """What keeps a job waiting, from its status and its cluster's state."""
    if status.lower() == "preparing":
        return ("Azure ML is still building the environment's image (a changed runtime spec rebuilds it); "
                "the build log is under the job's Outputs + logs in the studio")
    cluster = find(policy, f"compute.get {compute}", client.compute.get, compute, log=log)
    if cluster is None:
        return f"its cluster {compute!r} does not exist"
    if getattr(cluster, "provisioning_errors", None):
        return f"cluster {compute!r} reports {cluster.provisioning_errors}"
    if not getattr(cluster, "max_instances", 1):
        return f"cluster {compute!r} may scale to 0 nodes: raise max_nodes in azure-compute-config.json"
    return (f"cluster {compute!r} ({cluster.size}, at most {cluster.max_instances} nodes) has not started a node "
            f"for it: other jobs hold the nodes, or the subscription's vCPU quota for {cluster.size} in this "
            "region is used up (Subscription > Usage + quotas)")
