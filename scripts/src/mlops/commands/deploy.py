"""mlops deploy: release this commit's model to the online endpoint, blue/green."""

from __future__ import annotations

HELP = "deploy this commit's model: new deployment at 0%, smoke test, shift traffic, delete the old one"


def add_arguments(parser) -> None:
    """No options: the rollout steps live under ``deploy:`` in the experiment file."""


def run(args, client=None) -> int:
    """Deploy; any failure before the shift leaves traffic as it was and exits 1."""
    import os

    from mlops.azureml.deployment import deploy, prepare_release
    from mlops.azureml.retry import RetryPolicy
    from mlops.azureml.summary import deployment_markdown, failure_markdown
    from mlops.commands._azure import azure_errors, connect, load_plan
    from mlops.errors import MlopsError
    from mlops.summary import append_step_summary

    plan = load_plan(args.project_dir)
    env = dict(os.environ)
    client = client or connect(plan.project)
    policy = RetryPolicy()
    try:
        with azure_errors():
            release = prepare_release(client, plan, policy)
            result = deploy(client, release, policy)
    except MlopsError as error:
        append_step_summary(failure_markdown("Deployment to Azure ML", str(error)), env)
        raise
    print(f"\nEndpoint {result.endpoint}: {result.scoring_uri}\n  deployment {result.deployment} serves "
          f"{result.model}\n  traffic: {result.traffic}\n  deployments: {', '.join(result.deployments)}")
    append_step_summary(deployment_markdown(result.endpoint, result.scoring_uri, result.deployment, result.model,
                                            result.traffic, result.removed), env)
    return 0
