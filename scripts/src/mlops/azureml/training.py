"""``mlops train``: cluster, environment and data in place, then one command job, followed to its end.

Reruns converge: the job name is fixed per workflow run and attempt, so a rerun after a crash
follows the job already submitted instead of starting a second one, and a model already registered
from that job is not registered again.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops.azureml.assets import ensure_data, ensure_environment_asset
from mlops.azureml.compute import ensure_compute
from mlops.azureml.release_plan import ReleasePlan, load_entities
from mlops.azureml.retry import DEFAULT_POLICY, RetryPolicy, call, find
from mlops.errors import MlopsError
from mlops.metrics import METRICS_FILE, read_metrics

SUCCEEDED = "Completed"
LOG_TAIL_LINES = 40
USER_LOG = Path("artifacts") / "user_logs" / "std_log.txt"
METRICS = Path("artifacts") / "outputs" / METRICS_FILE


@dataclass
class TrainResult:
    """What the training run produced."""

    job_name: str
    studio_url: str
    metrics: dict[str, Any] = field(default_factory=dict)
    model_name: str = ""
    model_version: str = ""


class JobFailed(MlopsError):
    """The job ended in another state than Completed; carries what the person needs to look into it."""

    def __init__(self, job_name: str, status: str, reason: str, log_tail: list[str], studio_url: str):
        super().__init__(f"training job {job_name} ended {status}: {reason} (details: {studio_url or 'no link'})")
        self.job_name, self.status, self.reason = job_name, status, reason
        self.log_tail, self.studio_url = log_tail, studio_url


def run_training_job(client: Any, plan: ReleasePlan, policy: RetryPolicy = DEFAULT_POLICY, log=print) -> TrainResult:
    """Run the planned job in the workspace of ``client`` and register its model."""
    entities = prepare_training(client, plan, policy, log)
    log("4/5 training job")
    job = submit_job(client, entities["job.yml"], policy, log)
    studio_url = getattr(job, "studio_url", "") or ""
    log(f"  following {job.name}: {studio_url}")
    reason = follow_job(client, job.name, policy, log)
    job = call(policy, f"jobs.get {job.name}", client.jobs.get, job.name, log=log)
    with tempfile.TemporaryDirectory(prefix="mlops-job-") as scratch:
        downloaded = download_artifacts(client, job.name, Path(scratch), policy, log)
        if job.status != SUCCEEDED:
            tail = tail_lines(downloaded / USER_LOG, LOG_TAIL_LINES)
            reason = reason or f"the job ended {job.status}"
            raise JobFailed(job.name, job.status, reason, tail, studio_url)
        metrics = read_metrics(downloaded / METRICS)
    log("5/5 model")
    model = register_model(client, entities["model.yml"], job.name, metrics, policy, log)
    return TrainResult(job.name, studio_url, metrics, model.name, str(model.version))


def prepare_training(client: Any, plan: ReleasePlan, policy: RetryPolicy = DEFAULT_POLICY, log=print) -> dict[str, Any]:
    """What the job needs, created or kept: the training cluster, the environment and the data assets.

    Returns the plan's documents loaded as azure-ai-ml entities."""
    entities = load_entities(plan)
    region = plan.project.azure.location or "the workspace's region"
    log("1/5 training cluster")
    ensure_compute(client, entities["compute.yml"], region, policy, log)
    log("2/5 environment")
    ensure_environment_asset(client, entities["environment.yml"], policy, log)
    log("3/5 data")
    for file_name in plan.data_files:
        ensure_data(client, entities[file_name], policy, log)
    return entities


def submit_job(client: Any, job: Any, policy: RetryPolicy, log=print) -> Any:
    """Submit the job, or pick up the one this run already submitted (a rerun after a crash)."""
    existing = find(policy, f"jobs.get {job.name}", client.jobs.get, job.name, log=log)
    if existing is not None:
        log(f"  job {job.name}: already submitted by this run, following it instead of submitting again")
        return existing
    log(f"  job {job.name}: submitting to {job.compute}")
    return call(policy, f"jobs.create_or_update {job.name}", client.jobs.create_or_update, job, log=log)


def follow_job(client: Any, name: str, policy: RetryPolicy, log=print) -> str:
    """Stream the job's logs until it ends; return Azure's failure reason, or '' when it did not fail."""
    from azure.ai.ml.exceptions import JobException

    try:
        call(policy, f"jobs.stream {name}", client.jobs.stream, name, log=log)
    except JobException as error:
        return failure_reason(str(error))
    return ""


def failure_reason(text: str) -> str:
    """The ``message`` of the error JSON that ``jobs.stream`` puts in its exception, else the text."""
    start = text.find("{")
    if start >= 0:
        try:
            error = json.loads(text[start:text.rfind("}") + 1])
        except ValueError:
            error = None
        while isinstance(error, dict) and "error" in error:
            error = error["error"]
        if isinstance(error, dict) and error.get("message"):
            return " ".join(str(error["message"]).split())
    return " ".join(text.split())[:500]


def download_artifacts(client: Any, name: str, into: Path, policy: RetryPolicy, log=print) -> Path:
    """The job's default artifacts (``outputs/`` and ``user_logs/``) under ``into/artifacts``."""
    try:
        call(policy, f"jobs.download {name}", client.jobs.download, name, download_path=str(into), log=log)
    except Exception as error:  # logs are a help, not a requirement: the job's status decides
        log(f"  could not download the job's logs and outputs: {error}")
    return into


def tail_lines(path: Path, count: int) -> list[str]:
    """The last ``count`` lines of a text file, or none when it is missing."""
    if not path.is_file():
        return []
    return path.read_text(encoding="utf-8", errors="replace").splitlines()[-count:]


def register_model(client: Any, model: Any, job_name: str, metrics: dict[str, Any], policy: RetryPolicy,
                   log=print) -> Any:
    """Register the job's output as a new model version, unless this job's model already is."""
    versions = call(policy, f"models.list {model.name}", lambda: list(client.models.list(name=model.name)), log=log)
    for existing in versions:
        if (existing.tags or {}).get("job") == job_name:
            log(f"  model {model.name}:{existing.version}: already registered from {job_name}")
            return existing
    scalars = {name: str(value) for name, value in metrics.items() if isinstance(value, (int, float, str, bool))}
    model.tags = {**(model.tags or {}), **scalars}
    registered = call(policy, f"models.create_or_update {model.name}", client.models.create_or_update, model,
                      log=log)
    log(f"  model {registered.name}:{registered.version}: registered from {job_name}")
    return registered
