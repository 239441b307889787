"""Production's quality gate: the registry version to promote, judged against the version production serves.

Production never scores a model. Each version carries the gate record its training job wrote (the
rule, its metrics on the pinned evaluation data, staging's verdict), and ``mlops share`` copies it into
the registry with the model. Promoting version N judges N's recorded metrics against those of
production's champion (the version taking most of production's traffic) with
:func:`mlops.gate.judge_challenger` and the repo's current rule, so production gets the same gate as
staging, against its own champion.
Metrics only compare when both were scored on the same evaluation data: two records naming different
data refuse. Read-only: nothing in production changes before the verdict. ``mlops rollback`` skips it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlops.azureml.champion import Champion, find_champion
from mlops.azureml.gate_release import GateRefused
from mlops.azureml.registry import RegistryVersion
from mlops.azureml.retry import RetryPolicy, call
from mlops.gate import Rule, judge_challenger
from mlops.gate_report import record_of
from mlops.gate_staging import gate_section, project_rule
from mlops.project import Project

REGISTRY_PREFIX = "azureml://registries/"
BYPASS = "`mlops rollback --version N` deploys a version without the gate"


@dataclass(frozen=True)
class ProductionVerdict:
    """What production's gate decided: the problem (None: it may go out) and a record the summary shows."""

    model: str
    champion: str | None
    problem: str | None
    record: dict[str, Any] | None  # {"verdict": ..., "evaluation_data": ...}, as mlops.gate_report reads it


def judge_promotion(rule: Rule, model: str, record: dict[str, Any] | None, champion: str | None,
                    champion_record: dict[str, Any] | None) -> ProductionVerdict:
    """The verdict on promoting ``model`` (``name:version``, its gate ``record``) where ``champion`` serves.

    Pure: the records as the models carry them. ``champion`` None is production's first release (floors only);
    ``champion == model`` is a rerun finishing its own promotion.
    """
    if champion == model:
        return ProductionVerdict(model, champion, None, None)
    if record is None:
        return ProductionVerdict(model, champion, f"{model} carries no quality-gate record (it was trained without "
                                 "the gate, or the registry copy lost it), so production cannot judge it", None)
    data = record.get("evaluation_data")
    metrics = (record.get("challenger") or {}).get("metrics") or {}
    if champion is None:
        verdict = judge_challenger(rule, metrics, None)
        return _outcome(model, None, verdict, data)
    if champion_record is None:
        return ProductionVerdict(model, champion, f"production's champion {champion} carries no quality-gate record, "
                                 f"so {model} cannot be compared with it", None)
    theirs = champion_record.get("evaluation_data")
    if theirs != data:
        return ProductionVerdict(model, champion, f"{model} was scored on {data!r} but production's champion "
                                 f"{champion} on {theirs!r}: metrics on different evaluation data do not compare",
                                 None)
    champion_metrics = (champion_record.get("challenger") or {}).get("metrics") or {}
    return _outcome(model, champion, judge_challenger(rule, metrics, champion_metrics, champion), data)


def check_promotion(production: Any, registry: Any, project: Project, endpoint: str, shared: RegistryVersion,
                    policy: RetryPolicy, log=print) -> ProductionVerdict | None:
    """Judge ``shared`` against what ``endpoint`` (production's) serves; raise :class:`GateRefused` if refused.

    ``production`` and ``registry`` are the ``MLClient``\\ s of production's workspace and of the registry.
    None when the experiment has no gate.
    """
    if gate_section(project) is None:
        return None
    model = f"{shared.model}:{shared.version}"
    record = _record(registry, shared.model, shared.version, policy, log)
    champion = find_champion(production, endpoint, policy, log)
    champion_record = None
    if champion is not None and champion.label != model:
        source = registry if champion.reference.startswith(REGISTRY_PREFIX) else production
        champion_record = _record(source, champion.model_name, champion.model_version, policy, log)
    decision = judge_promotion(project_rule(project), model, record, champion.label if champion else None,
                               champion_record)
    if decision.problem is not None:
        raise GateRefused(f"production's quality gate refused {model}: {decision.problem}; production's endpoint "
                          f"{endpoint} untouched (no deployment created); {BYPASS}", model, decision.record)
    log(f"  production's quality gate: {_said(decision, champion)}")
    return decision


def warn_if_record_lost(model: Any, registry: Any, shared: RegistryVersion, policy: RetryPolicy, log=print) -> bool:
    """After ``mlops share``: whether the registry copy carries ``model``'s gate record; says so when it does not."""
    if record_of(getattr(model, "properties", None), getattr(model, "tags", None)) is None:
        return True  # nothing to carry: the model was trained without the gate
    if _record(registry, shared.model, shared.version, policy, log) is not None:
        return True
    log(f"warning: registry {shared.registry}'s copy of {shared.model}:{shared.version} carries no quality-gate "
        f"record although staging's model does: production's gate will refuse it; {BYPASS}")
    return False


def _outcome(model: str, champion: str | None, verdict: Any, data: str | None) -> ProductionVerdict:
    record = {"verdict": verdict.to_dict(), "evaluation_data": data}
    return ProductionVerdict(model, champion, None if verdict.passed else verdict.reason(), record)


def _record(client: Any, name: str, version: str, policy: RetryPolicy, log) -> dict[str, Any] | None:
    model = call(policy, f"models.get {name}:{version}", client.models.get, name, version=version, log=log)
    return record_of(getattr(model, "properties", None), getattr(model, "tags", None))


def _said(decision: ProductionVerdict, champion: Champion | None) -> str:
    if decision.record is None:
        return f"{decision.model} serves already (a rerun)"
    against = f"against production's champion {champion.label}" if champion else "first release (floors only)"
    return f"passed {against}"
