"""Names Azure ML gives to what a run creates: jobs, deployments, and a free endpoint name to suggest.

Job names must be unique in the workspace. A job is named after its workflow run, not the run's
attempt, so "Re-run jobs" follows the job the first attempt submitted instead of paying for a second
training; deployments are named from the git commit so a release is traceable.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone

from mlops.errors import MlopsError

ENDPOINT_NAME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]*[a-zA-Z0-9]$")
NAME_MIN, NAME_MAX = 3, 32
KUBERNETES_PAIR_MIN, KUBERNETES_PAIR_MAX = 6, 62
MAX_DEPLOYMENTS = 20


def job_name(experiment_name: str, env: dict[str, str], commit: str, now: datetime | None = None) -> str:
    """``<experiment>-<run id>`` in GitHub Actions (every attempt alike), else ``<experiment>-<commit>-<UTC time>``."""
    run_id = env.get("GITHUB_RUN_ID")
    if run_id:
        suffix = run_id
    else:
        moment = now or datetime.now(timezone.utc)  # noqa: UP017 - the toolkit supports Python 3.10
        suffix = f"{commit[:7] or 'local'}-{moment:%Y%m%d%H%M%S}"
    base = re.sub(r"[^a-z0-9_-]+", "-", experiment_name.lower()).strip("-_") or "job"
    return f"{base[: 255 - len(suffix) - 1]}-{suffix}"


def deployment_name(commit: str, endpoint_name: str, kubernetes: bool) -> str:
    """``c<commit>``: starts with a letter whatever the hash; short enough for the Kubernetes pair limit."""
    if not re.fullmatch(r"[0-9a-f]{7,40}", commit):
        raise MlopsError(f"git commit {commit!r} is not a hex hash: run in a git checkout or set GITHUB_SHA")
    length = 8
    if kubernetes:
        length = min(length, KUBERNETES_PAIR_MAX - len(endpoint_name) - 1)
    name = f"c{commit[:length]}"
    check_deployment_name(name, endpoint_name, kubernetes)
    return name


def check_deployment_name(name: str, endpoint_name: str, kubernetes: bool) -> None:
    """Refuse a name Azure would refuse, saying which rule it breaks."""
    if not (NAME_MIN <= len(name) <= NAME_MAX and ENDPOINT_NAME.match(name)):
        raise MlopsError(f"deployment name {name!r}: must be {NAME_MIN}-{NAME_MAX} letters, digits or '-', "
                         "starting with a letter")
    pair = len(endpoint_name) + len(name)
    if kubernetes and not KUBERNETES_PAIR_MIN <= pair <= KUBERNETES_PAIR_MAX:
        raise MlopsError(f"service_name {endpoint_name!r} + deployment {name!r} have {pair} characters; "
                         f"Kubernetes endpoints need {KUBERNETES_PAIR_MIN}-{KUBERNETES_PAIR_MAX}: "
                         "shorten service_name in the experiment file")


def suggest_endpoint_name(name: str, workspace_id: str) -> str:
    """A name derived from ``name`` and this workspace, so another workspace is very unlikely to hold it."""
    suffix = hashlib.sha256(workspace_id.encode()).hexdigest()[:5]
    digit_free = re.sub(r"-?\d+$", "", name)
    stem = digit_free[: NAME_MAX - len(suffix) - 1].rstrip("-")
    return f"{stem}-{suffix}" if stem else f"svc-{suffix}"
