"""``mlops train``: cluster, environment and data in place, then one command job, followed to its end.

Reruns converge: a commit that already has a model (from a clean checkout) is not trained again; the
job name is fixed per workflow run (not per attempt), so a rerun follows the job already submitted,
and only a job that failed or was canceled is submitted again, under the next free name; a model
already registered from the job is not registered again.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops.azureml import release_documents as docs
from mlops.azureml.assets import ensure_data, ensure_environment_asset
from mlops.azureml.compute import ensure_compute
from mlops.azureml.job_watch import Deadlines, status_of, wait_for_job
from mlops.azureml.release_plan import ReleasePlan, load_entities
from mlops.azureml.retry import DEFAULT_POLICY, RetryPolicy, call, find
from mlops.cancellation import Cancelled
from mlops.errors import MlopsError
from mlops.gate_evaluation import GATE_FILE
from mlops.gate_report import is_gate_tag, record_of, registration_marks
from mlops.gate_staging import gate_section
from mlops.metrics import METRICS_FILE, read_metrics

SUCCEEDED = "Completed"
RETRAIN_STATES = {"failed", "canceled"}
PROVENANCE_TAGS = {"git_commit", "pull_request", "workflow_run", "job", "uncommitted_changes"}
LOG_TAIL_LINES = 40
USER_LOG = Path("artifacts") / "user_logs" / "std_log.txt"
METRICS = Path("artifacts") / "outputs" / METRICS_FILE


@dataclass
class TrainResult:
    """What the training run produced (or, for a commit already trained, what it had produced)."""

    job_name: str
    studio_url: str
    metrics: dict[str, Any] = field(default_factory=dict)
    model_name: str = ""
    model_version: str = ""
    gate: dict[str, Any] | None = None
    reused: bool = False


class JobFailed(MlopsError):
    """The job ended in another state than Completed; carries what the person needs to look into it."""

    def __init__(self, job_name: str, status: str, reason: str, log_tail: list[str], studio_url: str):
        super().__init__(f"training job {job_name} ended {status}: {reason} (details: {studio_url or 'no link'})")
        self.job_name, self.status, self.reason = job_name, status, reason
        self.log_tail, self.studio_url = log_tail, studio_url


def run_training_job(client: Any, plan: ReleasePlan, policy: RetryPolicy = DEFAULT_POLICY, log=print,
                     deadlines: Deadlines | None = None) -> TrainResult:
    """Run the planned job in the workspace of ``client`` and register its model.

    ``deadlines`` defaults to the experiment's ``train.start_timeout_minutes`` and ``train.timeout_minutes``.
    """
    settings = plan.project.experiment.train
    deadlines = deadlines or Deadlines(start_minutes=settings.start_timeout_minutes,
                                       finish_minutes=settings.timeout_minutes)
    if warning := plan.provenance.uncommitted_warning():
        log(f"warning: {warning}")
    entities = load_entities(plan)
    model = entities["model.yml"]
    if not plan.provenance.uncommitted and (trained := trained_model(client, model.name, plan.provenance.commit,
                                                                     policy, log)):
        return reuse_trained(client, trained, policy, log)
    prepare_training(client, plan, entities, policy, log)
    log("4/5 training job")
    job = submit_job(client, entities["job.yml"], policy, log)
    studio_url = getattr(job, "studio_url", "") or ""
    log(f"  following {job.name}: {studio_url}")
    compute = str(entities["job.yml"].compute).removeprefix("azureml:")
    job = follow_job(client, job.name, compute, deadlines, policy, log)
    with tempfile.TemporaryDirectory(prefix="mlops-job-") as scratch:
        downloaded = download_artifacts(client, job.name, Path(scratch), policy, log)
        if status_of(job) != SUCCEEDED:
            tail = tail_lines(downloaded / USER_LOG, LOG_TAIL_LINES)
            reason = failure_of(client, job, policy, log)
            raise JobFailed(job.name, status_of(job), reason, tail, studio_url)
        metrics = read_metrics(downloaded / METRICS)
        gate = read_metrics(downloaded / METRICS.parent / GATE_FILE) or None
    log("5/5 model")
    marks = registration_marks(gate, gate_section(plan.project) is not None)
    registered = register_model(client, model, job.name, metrics, policy, log, marks)
    return TrainResult(job.name, studio_url, metrics, registered.name, str(registered.version), gate)


def prepare_training(client: Any, plan: ReleasePlan, entities: dict[str, Any], policy: RetryPolicy = DEFAULT_POLICY,
                     log=print) -> None:
    """Steps 1-3 of a training run: the training cluster, the environment and the data assets, created
    or kept as they are. ``entities`` is the plan's documents loaded (``load_entities``)."""
    region = plan.project.azure.location or "the workspace's region"
    log("1/5 training cluster")
    ensure_compute(client, entities["compute.yml"], region, policy, log)
    log("2/5 environment")
    ensure_environment_asset(client, entities["environment.yml"], policy, log)
    log("3/5 data")
    for file_name in plan.data_files:
        ensure_data(client, entities[file_name], policy, log)


def trained_model(client: Any, name: str, commit: str, policy: RetryPolicy, log=print) -> Any | None:
    """The newest version of ``name`` registered from a clean checkout of ``commit``, if any."""
    versions = call(policy, f"models.list {name}", lambda: list(client.models.list(name=name)), log=log)
    mine = [m for m in versions if (m.tags or {}).get("git_commit") == commit
            and "uncommitted_changes" not in (m.tags or {})]
    return max(mine, key=lambda m: int(m.version) if str(m.version).isdigit() else 0) if mine else None


def reuse_trained(client: Any, model: Any, policy: RetryPolicy, log=print) -> TrainResult:
    """The result of the training that produced ``model``: nothing is submitted or registered."""
    tags = model.tags or {}
    job_name = tags.get("job", "")
    log(f"model {model.name}:{model.version} was already trained from commit {tags.get('git_commit', '')[:12]} by "
        f"job {job_name or '(unknown)'}: nothing to train (push a new commit to train again)")
    job = find(policy, f"jobs.get {job_name}", client.jobs.get, job_name, log=log) if job_name else None
    metrics = {}
    for key, value in tags.items():
        if key in PROVENANCE_TAGS or is_gate_tag(key):  # the gate's marks are its verdict, not the job's metrics
            continue
        try:
            metrics[key] = int(value) if value.lstrip("-").isdigit() else float(value)
        except ValueError:
            continue
    return TrainResult(job_name, getattr(job, "studio_url", "") or "", metrics, model.name, str(model.version),
                       record_of(getattr(model, "properties", None), tags), reused=True)


def submit_job(client: Any, job: Any, policy: RetryPolicy, log=print) -> Any:
    """Follow the job this workflow run already submitted, or submit it.

    A job that failed or was canceled is not followed: a rerun is meant to train again, so the job is
    submitted as ``<name>-2`` (then ``-3``, ...).
    """
    base, number = job.name, 1
    while (existing := find(policy, f"jobs.get {job.name}", client.jobs.get, job.name, log=log)) is not None:
        if status_of(existing).lower() not in RETRAIN_STATES:
            log(f"  job {job.name}: already submitted by this workflow run ({status_of(existing)}), following it")
            return existing
        number += 1
        log(f"  job {job.name} ended {status_of(existing)}: submitting it again as {base}-{number}")
        job.name = f"{base}-{number}"
    log(f"  job {job.name}: submitting to {job.compute}")

    def submitted() -> Any | None:  # a lost answer: the job may exist although the call failed
        return find(policy, f"jobs.get {job.name}", client.jobs.get, job.name, log=log)

    return call(policy, f"jobs.create_or_update {job.name}", client.jobs.create_or_update, job, log=log,
                recover=submitted)


def failure_of(client: Any, job: Any, policy: RetryPolicy, log=print) -> str:
    """Azure's reason for a job that did not complete.

    ``jobs.stream`` of a finished job returns at once and puts the run's error in its exception, which is
    the one public call that exposes it.
    """
    from azure.ai.ml.exceptions import JobException

    try:
        call(policy, f"jobs.stream {job.name}", client.jobs.stream, job.name, log=lambda line: None)
    except JobException as error:
        return failure_reason(str(error))
    except Exception as error:  # the reason is a help; the status already says it failed
        log(f"  could not read the job's error: {type(error).__name__}")
    return f"the job ended {status_of(job)}"


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
                   log=print, marks: tuple[dict[str, str], dict[str, str]] = ({}, {})) -> Any:
    """Register the job's output as a new model version, unless this job's model already is.

    ``marks`` are the quality gate's (tags, properties): its verdict travels with the model.
    """
    versions = call(policy, f"models.list {model.name}", lambda: list(client.models.list(name=model.name)), log=log)
    for existing in versions:
        if (existing.tags or {}).get("job") == job_name:
            log(f"  model {model.name}:{existing.version}: already registered from {job_name}")
            return existing
    scalars = {name: str(value) for name, value in metrics.items() if isinstance(value, (int, float, str, bool))}
    model.tags = {**(model.tags or {}), **scalars, "job": job_name, **marks[0]}
    model.properties = {**(model.properties or {}), **marks[1]}
    model.path = docs.model_path(job_name)  # the job may have been resubmitted under another name

    def registered_from_job() -> Any | None:  # a lost answer must not register a second version
        versions = call(policy, f"models.list {model.name}", lambda: list(client.models.list(name=model.name)),
                        log=log)
        return next((m for m in versions if (m.tags or {}).get("job") == job_name), None)

    registered = call(policy, f"models.create_or_update {model.name}", client.models.create_or_update, model,
                      log=log, recover=registered_from_job)
    log(f"  model {registered.name}:{registered.version}: registered from {job_name}")
    return registered


TERMINAL = {"Completed", "Failed", "Canceled", "CancelRequested", "NotResponding", "Paused"}


def follow_job(client: Any, name: str, compute: str, deadlines: Deadlines, policy: RetryPolicy, log=print) -> Any:
    """Wait for job ``name`` to finish; when the command is cancelled meanwhile, cancel the job in Azure ML too.

    GitHub cancels a workflow job with SIGINT then SIGTERM (see :mod:`mlops.cancellation`): a training job
    left running would hold its cluster's nodes and be followed by nobody.
    """
    try:
        return wait_for_job(client, name, compute, deadlines, policy, log)
    except Cancelled as cancelled:
        raise Cancelled(f"{cancelled}; {cancel_job(client, name, log)}") from None


def cancel_job(client: Any, name: str, log=print) -> str:
    """Ask Azure ML to cancel job ``name`` when it is still running; say what happened, in one phrase.

    ``mlops train --cancel`` calls it in deploy.yml's ``if: cancelled()`` step: only the request is sent
    (the run is ending), and nothing is retried.
    """
    from azure.core.exceptions import ResourceNotFoundError

    try:
        job = client.jobs.get(name)
        if status_of(job) in TERMINAL:
            return f"training job {name} had already ended {status_of(job)}"
        client.jobs.begin_cancel(name)
    except ResourceNotFoundError:
        return f"training job {name} was never submitted"
    except Exception as error:  # the run is ending anyway: say how to finish by hand
        return f"could not cancel training job {name} ({type(error).__name__}): cancel it in Azure ML studio"
    log(f"  asked Azure ML to cancel {name}")
    return f"training job {name} cancelled in Azure ML"
