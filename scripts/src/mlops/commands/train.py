"""mlops train: run the training job in Azure ML and register the model it produces."""

from __future__ import annotations

HELP = ("train in Azure ML: ensure compute, environment and data, run the job (training, then the quality gate's "
        "evaluation against the serving model), register the model with the verdict")


def add_arguments(parser) -> None:
    """No options: everything comes from the configs and the plan."""


def run(args, client=None) -> int:
    """Train; on failure print status, reason, log tail and link, and exit 1."""
    import os

    from mlops.azureml.gate_plan import read_champion
    from mlops.azureml.retry import RetryPolicy
    from mlops.azureml.summary import failure_markdown, training_markdown
    from mlops.azureml.training import JobFailed, train
    from mlops.commands._azure import connect, load_plan
    from mlops.gate_evaluation import print_record
    from mlops.gate_report import verdict_markdown
    from mlops.summary import append_step_summary

    plan = load_plan(args.project_dir)
    env = dict(os.environ)
    client = client or connect(plan.project)
    champion = read_champion(client, plan.project, RetryPolicy())
    if champion is not None:
        plan = load_plan(args.project_dir, champion)
    print(f"Training {plan.names.job} (plan in {plan.directory})")
    try:
        result = train(client, plan)
    except JobFailed as failure:
        print(f"\nThe training job failed.\n  job:    {failure.job_name}\n  status: {failure.status}\n"
              f"  reason: {failure.reason}\n  studio: {failure.studio_url}")
        if failure.log_tail:
            print(f"--- last {len(failure.log_tail)} lines of user_logs/std_log.txt")
            print("\n".join(failure.log_tail))
            print("---")
        append_step_summary(failure_markdown("Training in Azure ML", str(failure), failure.studio_url,
                                             failure.log_tail), env)
        raise
    model = f"{result.model_name}:{result.model_version}"
    print(f"\nTrained {result.job_name}: {result.studio_url}\nRegistered model {model}")
    for name, value in result.metrics.items():
        print(f"  {name}: {value}")
    append_step_summary(training_markdown(result.job_name, result.studio_url, result.metrics, model), env)
    if result.gate is not None:
        print_record(result.gate)
        append_step_summary(verdict_markdown(result.gate, "Quality gate", model), env)
    return 0
