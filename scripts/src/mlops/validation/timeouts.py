"""The release must fit in its job: a deploy: section whose worst case outlasts deploy.yml's timeout is refused.

When GitHub stops a job at its ``timeout-minutes``, `mlops deploy` gets seconds to put traffic back; a
rollout planned to take longer than the job would be cut short on every slow release. The worst case is
the deployment's creation timeout plus every rollout step (each lasts ``step_seconds``).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from mlops.findings import Finding
from mlops.positioned import Document, DocumentError, load_document

DEPLOY_WORKFLOW = ".github/workflows/deploy.yml"
GITHUB_DEFAULT_TIMEOUT = 360  # minutes, when a job sets no timeout-minutes
_RUNS_DEPLOY = re.compile(r"\bmlops deploy\b")


def deploy_job_timeout(root: Path) -> tuple[str, int] | None:
    """The job in deploy.yml that runs `mlops deploy` and its timeout-minutes; ``None`` without one."""
    path = root / DEPLOY_WORKFLOW
    if not path.is_file():
        return None
    try:
        document = load_document(path)
    except DocumentError:
        return None  # not this check's business: actionlint and `mlops doctor` report it
    for name, job in (document.data.get("jobs") or {}).items():
        if not isinstance(job, dict):
            continue
        runs = " ".join(str(step.get("run", "")) for step in job.get("steps") or [] if isinstance(step, dict))
        if _RUNS_DEPLOY.search(runs):
            timeout = job.get("timeout-minutes", GITHUB_DEFAULT_TIMEOUT)
            return (name, timeout) if isinstance(timeout, int) else None
    return None


def worst_case_minutes(deploy: dict[str, Any]) -> int:
    """Creation timeout plus every rollout step, in whole minutes."""
    return int(deploy["timeout_minutes"]) + math.ceil(len(deploy["rollout"]) * int(deploy["step_seconds"]) / 60)


def rollout_fits(root: Path, file: str, experiment: Document) -> list[Finding]:
    """A finding when the deploy: section's worst case exceeds the deploy job's timeout-minutes."""
    found = deploy_job_timeout(root)
    if found is None:
        return []
    job, limit = found
    deploy = {**_schema_defaults(), **(experiment.data.get("deploy") or {})}
    worst = worst_case_minutes(deploy)
    if worst <= limit:
        return []
    steps = len(deploy["rollout"])
    line, col = experiment.position(("deploy", "timeout_minutes") if "deploy" in experiment.data else ())
    return [Finding(file, line, col, "deploy",
                    f"the release can take {worst} minutes (timeout_minutes {deploy['timeout_minutes']} + "
                    f"{steps} rollout step(s) of {deploy['step_seconds']} s) but job {job} in {DEPLOY_WORKFLOW} "
                    f"stops after timeout-minutes {limit}: lower timeout_minutes, step_seconds or the rollout "
                    "steps, or raise the job's timeout-minutes")]


def _schema_defaults() -> dict[str, Any]:
    """The ``deploy:`` defaults, as the experiment schema states them (the typed Project has the same)."""
    from mlops.layout import EXPERIMENT_SCHEMA
    from mlops.validation.schemas import validator

    properties = validator(EXPERIMENT_SCHEMA).schema["properties"]["deploy"]["properties"]
    return {key: spec["default"] for key, spec in properties.items() if "default" in spec}
