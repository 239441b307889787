"""The quality gate at release time: ``mlops deploy`` refuses a model the gate refused, before touching the endpoint.

Read-only until it decides: the model's verdict (put on it by ``mlops train``) and the endpoint's
current champion. A refused verdict, a model without a verdict, or a verdict judged against another
champion than the one serving now stops the release with one line. An override with a reason lets
the release go on and records the reason, who and which run on the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlops.azureml.champion import Champion, find_champion, parse_model
from mlops.azureml.provenance import workflow_run_url
from mlops.azureml.retry import RetryPolicy, call
from mlops.errors import MlopsError
from mlops.gate_report import TAG_PREFIX, record_of, verdict_of
from mlops.gate_staging import gate_section
from mlops.project import Project

OVERRIDE_HINT = ("to release it anyway, run the deploy workflow with an override_gate_reason "
                 "(or `mlops deploy --override-gate REASON`)")


class GateRefused(MlopsError):
    """The quality gate stopped the release; nothing in the endpoint was changed. Carries the verdict's record."""

    def __init__(self, message: str, model: str, record: dict[str, Any] | None):
        super().__init__(message)
        self.model, self.record = model, record


@dataclass(frozen=True)
class GateDecision:
    """What the gate decided for one release, for the log and the step summary."""

    model: str
    record: dict[str, Any] | None
    champion: Champion | None
    problem: str | None
    override: str | None = None


def check_release(client: Any, project: Project, model_reference: str, override: str | None,
                  policy: RetryPolicy, environ: dict[str, str], log=print) -> GateDecision | None:
    """Decide whether ``model_reference`` may be released; raise :class:`GateRefused` when it may not."""
    if gate_section(project) is None:
        return None
    name, version = parse_model(model_reference) or (model_reference, "")
    label = f"{name}:{version}"
    model = call(policy, f"models.get {label}", client.models.get, name, version=version, log=log)
    record = record_of(getattr(model, "properties", None), model.tags)
    endpoint = project.experiment.service_name
    champion = find_champion(client, endpoint, policy, log)
    problem = release_problem(record, champion, label)
    if problem is None:
        log(f"  quality gate: {verdict_of(record).reason()}" if record else "  quality gate: passed")
        return GateDecision(label, record, champion, None)
    reason = (override or "").strip()
    if not reason:
        raise GateRefused(f"quality gate refused {label}: {problem}; endpoint {endpoint} untouched (no deployment "
                          f"created); {OVERRIDE_HINT}", label, record)
    log(f"  quality gate would refuse {label} ({problem}); overridden: {reason}")
    record_override(client, model, reason, environ, policy, log)
    return GateDecision(label, record, champion, problem, reason)


def release_problem(record: dict[str, Any] | None, champion: Champion | None, label: str) -> str | None:
    """Why the gate refuses releasing ``label`` (``name:version``) now, or None when it may go out."""
    if champion is not None and champion.label == label:
        return None  # it serves already: a rerun finishing its own release
    if record is None:
        return ("it carries no quality-gate verdict (its training job did not run the gate): train it again "
                "with `mlops train`")
    verdict = verdict_of(record)
    if not verdict.passed:
        return verdict.reason()
    if champion is not None and verdict.champion != champion.label:
        judged = verdict.champion or "no champion (a first release, floors only)"
        return (f"it was judged against {judged} but {champion.label} serves now (deployment "
                f"{champion.deployment}): train again so it is judged against what serves")
    return None


def record_override(client: Any, model: Any, reason: str, environ: dict[str, str], policy: RetryPolicy,
                    log=print) -> None:
    """Put the override's reason, who gave it and the workflow run on the model version's tags."""
    run = workflow_run_url(environ)
    model.tags = {**(model.tags or {}), f"{TAG_PREFIX}_override": reason[:500],
                  f"{TAG_PREFIX}_override_by": environ.get("GITHUB_ACTOR", "") or "local",
                  **({f"{TAG_PREFIX}_override_run": run} if run else {})}
    call(policy, f"models.create_or_update {model.name}:{model.version} (override)", client.models.create_or_update,
         model, log=log)
    log(f"  override recorded on {model.name}:{model.version}: {reason}")


def override_reason(flag: str | None, environ: dict[str, str]) -> str | None:
    """The override's reason from ``--override-gate`` or the workflow's ``MLOPS_OVERRIDE_GATE_REASON``."""
    if flag is None:
        return (environ.get("MLOPS_OVERRIDE_GATE_REASON") or "").strip() or None
    if not flag.strip():
        raise MlopsError("--override-gate needs a reason (why this model may be released although the gate "
                         "refuses it): it is recorded on the model")
    return flag.strip()
