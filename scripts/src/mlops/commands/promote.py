"""mlops promote: deploy an exact registry version to production, blue/green, without retraining."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops.azureml.promotion import Promotion

HELP = "two stages: deploy registry version N to production blue/green (smoke test; traffic restored on failure)"


def add_arguments(parser) -> None:
    """``--version``: the registry version staging shared (the deploy run's staging job output)."""
    parser.add_argument("--version", required=True, metavar="N",
                        help="the registry version to deploy (a whole number; never latest)")


def promote(project_dir: Path, version: str, *, gate: bool = True, log: Callable[[str], None] = print) -> Promotion:
    """Deploy registry ``version`` of the model, with its scoring environment, to production's endpoint, if
    production's quality gate lets it (``gate=False``: a rollback, not asked)."""
    from dataclasses import replace

    from mlops.azureml.production_gate import check_promotion
    from mlops.azureml.promotion import deploy_shared_version
    from mlops.azureml.registry import exact_version, serving_environment_name, shared_version
    from mlops.azureml.retry import RetryPolicy
    from mlops.commands import _azure
    from mlops.errors import MlopsError
    from mlops.project import load_project
    from mlops.stages import PRODUCTION, is_two_stage, stage_named

    project = load_project(project_dir)  # refusals first: writing the plan imports azure-ai-ml (seconds)
    if not is_two_stage(project):
        raise MlopsError("this repo has one stage: `mlops deploy` releases it; promotion needs azure-stages.json "
                         "(staging, a registry and production)")
    stage = stage_named(project, PRODUCTION)
    version = exact_version(version)
    plan = _azure.plan_project(project)
    policy = RetryPolicy()
    registry = _azure.connect_registry(project)
    shared = shared_version(registry, project.stages.registry.name, project.experiment.model_name,
                            serving_environment_name(project.experiment.environment_name), version, policy, log)
    production = _azure.connect_stage(project, stage)
    decision = check_promotion(production, registry, project, stage.service_name, shared, policy, log) \
        if gate else None
    return replace(deploy_shared_version(production, plan, stage, shared, policy, log), gate=decision)


def report_promotion(promotion: Promotion, *, rollback: bool) -> None:
    """Print where production stands and add it to the job summary."""
    import os

    from mlops.azureml.release_summary import promotion_markdown
    from mlops.gate_report import verdict_markdown
    from mlops.step_summary import append_step_summary

    result, shared = promotion.result, promotion.shared
    print(f"\n{promotion.stage} endpoint {result.endpoint}: {result.scoring_uri}\n  deployment {result.deployment} "
          f"serves {shared.model_uri}\n  traffic: {result.traffic}")
    env = dict(os.environ)
    append_step_summary(promotion_markdown(promotion.stage, shared.model_uri, shared.environment_uri,
                                           result.deployment, result.traffic, rollback=rollback), env)
    if promotion.gate is not None and promotion.gate.record is not None:
        append_step_summary(verdict_markdown(promotion.gate.record, "Production's quality gate",
                                             promotion.gate.model), env)


def run(args) -> int:
    """Promote; a failure before the traffic shift leaves production's traffic as it was and exits 1 (130 when
    cancelled)."""
    import os

    from mlops.azureml.gate_release import GateRefused
    from mlops.azureml.release_summary import failure_markdown
    from mlops.cancellation import cancellable
    from mlops.gate_report import verdict_markdown
    from mlops.step_summary import append_step_summary

    try:
        with cancellable("mlops promote"):  # a cancelled job puts production's traffic back before it ends
            promotion = promote(args.project_dir, args.version)
    except GateRefused as refused:
        env = dict(os.environ)
        append_step_summary(failure_markdown("Promotion to production", str(refused)), env)
        if refused.record is not None:
            append_step_summary(verdict_markdown(refused.record, "Production's quality gate", refused.model), env)
        raise
    report_promotion(promotion, rollback=False)
    return 0
