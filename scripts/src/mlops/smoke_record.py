"""Which smoke run ``outputs/`` came from, so no check ever passes on a model the current code did not train.

A smoke run empties ``outputs/`` before it starts and, only when it succeeds, writes
``outputs/smoke-run.json`` with the fingerprint of everything that decided the model: the assembled
training script, the ``local`` files shipped with the job, each input's local sample, the runtime
spec and the smoke arguments. ``mlops serve``, ``mlops api-test`` and the repo's tests compare that
record with the fingerprint of the code as it is now and refuse outputs that do not match.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlops.assembly import assemble_file
from mlops.content_hash import content_digest
from mlops.errors import MlopsError
from mlops.frameworks import get_framework
from mlops.project import Project

OUTPUTS = "outputs"
RECORD_FILE = "smoke-run.json"
RERUN = "run `make smoke-train`"


def code_fingerprint(project: Project) -> str:
    """A hash of what a smoke run trains from; it changes when any of it changes."""
    experiment = project.experiment
    arguments = project.smoke_args
    script = experiment.train.script
    digest = hashlib.sha256()
    assembled = assemble_file(project.path(script), get_framework(experiment.framework), script).text
    digest.update(json.dumps({"script": assembled, "arguments": arguments, "framework": experiment.framework},
                             sort_keys=True).encode())
    paths = [experiment.dependencies, *experiment.local]
    paths += [spec.sample for spec in experiment.inputs.values()]
    files = content_digest([project.path(relative) for relative in sorted(set(paths))], project.root)
    digest.update(files.encode())
    return digest.hexdigest()


def write_record(outputs: Path, fingerprint: str, details: dict[str, Any]) -> Path:
    """Mark ``outputs`` as the result of a successful smoke run of the code with ``fingerprint``."""
    record = {"code": fingerprint, "status": "succeeded",
              "finished": datetime.now(UTC).isoformat(timespec="seconds"), **details}
    path = outputs / RECORD_FILE
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


def read_record(outputs: Path) -> dict[str, Any]:
    """The record of the smoke run that wrote ``outputs``; empty when there is none."""
    try:
        record = json.loads((outputs / RECORD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def stale_reason(project: Project) -> str:
    """Why ``outputs/`` cannot be trusted for the current code, or '' when it comes from its last smoke run."""
    record = read_record(project.layout.outputs)
    if record.get("status") != "succeeded":
        return f"{OUTPUTS}/ holds no successful smoke run (the last one failed or never ran): {RERUN}"
    if record.get("code") != code_fingerprint(project):
        return (f"{OUTPUTS}/ comes from a smoke run of other code (the training script, its data, the runtime "
                f"spec or the smoke arguments changed since): {RERUN}")
    return ""


def require_current_outputs(project: Project) -> None:
    """Raise, in one line saying what to run, unless ``outputs/`` is from the last smoke run of the current code."""
    reason = stale_reason(project)
    if reason:
        raise MlopsError(reason)
