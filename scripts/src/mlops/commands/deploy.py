"""mlops deploy: release this commit's model to the online endpoint, blue/green, if the quality gate lets it."""

from __future__ import annotations

HELP = ("deploy this commit's model if the quality gate passed: new deployment at 0%, smoke test, shift traffic, "
        "delete the old one")


def add_arguments(parser) -> None:
    """``--override-gate REASON``; the rollout steps live under ``deploy:`` in the experiment file."""
    parser.add_argument("--override-gate", metavar="REASON", default=None,
                        help="release although the quality gate refuses the model (a deliberate metric change, a "
                             "new evaluation set); the reason is recorded on the model and in the summary. The "
                             "workflow passes it as MLOPS_OVERRIDE_GATE_REASON")


def run(args, client=None) -> int:
    """Deploy; a refused gate exits 1 before any change; any failure before the shift leaves traffic as it was."""
    import os

    from mlops.azureml.deployment import deploy, prepare_release
    from mlops.azureml.gate_release import GateRefused, check_release, override_reason
    from mlops.azureml.retry import RetryPolicy
    from mlops.azureml.summary import deployment_markdown, failure_markdown
    from mlops.commands._azure import connect, load_plan
    from mlops.errors import MlopsError
    from mlops.gate_report import verdict_markdown
    from mlops.summary import append_step_summary

    plan = load_plan(args.project_dir)
    env = dict(os.environ)
    override = override_reason(getattr(args, "override_gate", None), env)
    client = client or connect(plan.project)
    policy = RetryPolicy()
    try:
        release = prepare_release(client, plan, policy)
        decision = check_release(client, plan.project, release.deployment.model, override, policy, env)
        result = deploy(client, release, policy)
    except MlopsError as error:
        append_step_summary(failure_markdown("Deployment to Azure ML", str(error)), env)
        if isinstance(error, GateRefused) and error.record is not None:
            append_step_summary(verdict_markdown(error.record, "Quality gate", error.model), env)
        raise
    print(f"\nEndpoint {result.endpoint}: {result.scoring_uri}\n  deployment {result.deployment} serves "
          f"{result.model}\n  traffic: {result.traffic}\n  deployments: {', '.join(result.deployments)}")
    append_step_summary(deployment_markdown(result.endpoint, result.scoring_uri, result.deployment, result.model,
                                            result.traffic, result.removed), env)
    if decision is not None and decision.record is not None:
        notes = [f"**Gate overridden:** {decision.override} (would have refused: {decision.problem})"] \
            if decision.override else []
        append_step_summary(verdict_markdown(decision.record, "Quality gate", decision.model, notes), env)
    return 0
