"""mlops deploy: release this commit's model to the online endpoint, blue/green."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops.azureml.deployment import DeployResult
    from mlops.azureml.release_plan import ReleasePlan

HELP = "deploy this commit's model: new deployment at 0%, smoke test, shift traffic, delete the old one"


def add_arguments(parser) -> None:
    """No options: the rollout steps live under ``deploy:`` in the experiment file."""


def deploy(project_dir: Path, *, log: Callable[[str], None] = print) -> DeployResult:
    """Plan the release, log in and deploy it; a failure before the shift leaves traffic as it was."""
    from mlops.commands import _azure

    plan = _azure.load_plan(project_dir)
    return release(plan, _azure.connect(plan.project), log=log)


def release(plan: ReleasePlan, client: Any, *, log: Callable[[str], None] = print) -> DeployResult:
    """Deploy ``plan``'s model with ``client`` (an ``MLClient``): prepare the release, then roll it out."""
    from mlops.azureml.deployment import prepare_release, roll_out
    from mlops.azureml.retry import RetryPolicy
    from mlops.commands._azure import azure_errors

    policy = RetryPolicy()
    with azure_errors():
        return roll_out(client, prepare_release(client, plan, policy, log), policy, log)


def run(args) -> int:
    """Deploy; any failure before the shift leaves traffic as it was and exits 1 (130 when cancelled)."""
    import os

    from mlops.azureml.release_summary import deployment_markdown, failure_markdown
    from mlops.cancellation import cancellable
    from mlops.commands import _azure
    from mlops.errors import MlopsError
    from mlops.step_summary import append_step_summary

    plan = _azure.load_plan(args.project_dir)
    env = dict(os.environ)
    client = _azure.connect(plan.project)
    try:
        with cancellable("mlops deploy"):  # a cancelled job puts traffic back before it ends
            result = release(plan, client)
    except MlopsError as error:
        append_step_summary(failure_markdown("Deployment to Azure ML", str(error)), env)
        raise
    print(f"\nEndpoint {result.endpoint}: {result.scoring_uri}\n  deployment {result.deployment} serves "
          f"{result.model}\n  traffic: {result.traffic}\n  deployments: {', '.join(result.deployments)}")
    append_step_summary(deployment_markdown(result.endpoint, result.scoring_uri, result.deployment, result.model,
                                            result.traffic, result.removed), env)
    return 0
