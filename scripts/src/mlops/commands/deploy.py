"""mlops deploy: release this commit's model to the online endpoint, blue/green, if the quality gate lets it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops.azureml.deployment import DeployResult
    from mlops.azureml.release_plan import ReleasePlan

HELP = ("deploy this commit's model if the quality gate passed: new deployment at 0%, smoke test, shift traffic, "
        "delete the old one")


def add_arguments(parser) -> None:
    """``--override-gate REASON``; the rollout steps live under ``deploy:`` in the experiment file."""
    parser.add_argument("--override-gate", metavar="REASON", default=None,
                        help="release although the quality gate refuses the model (a deliberate metric change, a "
                             "new evaluation set); the reason is recorded on the model and in the summary. The "
                             "workflow passes it as MLOPS_OVERRIDE_GATE_REASON")


def deploy(project_dir: Path, *, override: str | None = None, log: Callable[[str], None] = print) -> DeployResult:
    """Plan the release, log in and deploy it if the quality gate lets it (or ``override`` gives a reason)."""
    from mlops.commands import _azure

    plan = _azure.load_plan(project_dir)
    return release(plan, _azure.connect(plan.project), override=override, log=log)


def release(plan: ReleasePlan, client: Any, *, override: str | None = None,
            log: Callable[[str], None] = print) -> DeployResult:
    """Deploy ``plan``'s model with ``client`` (an ``MLClient``): prepare the release, check the quality gate
    (read-only; :class:`GateRefused` before anything changes), then roll it out. ``result.gate`` says how it went."""
    import os

    from mlops.azureml.deployment import prepare_release, roll_out
    from mlops.azureml.gate_release import check_release
    from mlops.azureml.retry import RetryPolicy
    from mlops.commands._azure import azure_errors

    policy = RetryPolicy()
    with azure_errors():
        prepared = prepare_release(client, plan, policy, log)
        decision = check_release(client, plan.project, prepared.deployment.model, override, policy, dict(os.environ),
                                 log)
        result = roll_out(client, prepared, policy, log)
    result.gate = decision
    return result


def run(args) -> int:
    """Deploy; a refused gate exits 1 before any change; any failure before the shift leaves traffic as it was
    (130 when cancelled)."""
    import os

    from mlops.azureml.gate_release import GateRefused, override_reason
    from mlops.azureml.release_summary import deployment_markdown, failure_markdown
    from mlops.cancellation import cancellable
    from mlops.commands import _azure
    from mlops.errors import MlopsError
    from mlops.gate_report import verdict_markdown
    from mlops.step_summary import append_step_summary

    plan = _azure.load_plan(args.project_dir)
    env = dict(os.environ)
    override = override_reason(getattr(args, "override_gate", None), env)
    client = _azure.connect(plan.project)
    try:
        with cancellable("mlops deploy"):  # a cancelled job puts traffic back before it ends
            result = release(plan, client, override=override)
    except MlopsError as error:
        append_step_summary(failure_markdown("Deployment to Azure ML", str(error)), env)
        if isinstance(error, GateRefused) and error.record is not None:
            append_step_summary(verdict_markdown(error.record, "Quality gate", error.model), env)
        raise
    print(f"\nEndpoint {result.endpoint}: {result.scoring_uri}\n  deployment {result.deployment} serves "
          f"{result.model}\n  traffic: {result.traffic}\n  deployments: {', '.join(result.deployments)}")
    append_step_summary(deployment_markdown(result.endpoint, result.scoring_uri, result.deployment, result.model,
                                            result.traffic, result.removed), env)
    decision = result.gate
    if decision is not None and decision.record is not None:
        notes = [f"**Gate overridden:** {decision.override} (would have refused: {decision.problem})"] \
            if decision.override else []
        append_step_summary(verdict_markdown(decision.record, "Quality gate", decision.model, notes), env)
    return 0
