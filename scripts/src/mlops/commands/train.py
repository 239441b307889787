"""mlops train: run the training job in Azure ML and register the model it produces."""

from __future__ import annotations

HELP = "train in Azure ML: ensure compute, environment and data, run the job, register the model"


def add_arguments(parser) -> None:
    """No options: everything comes from the configs and the plan."""


def run(args, client=None) -> int:
    """Train; on failure print status, reason, log tail and link, and exit 1."""
    import os

    from mlops.azureml.summary import failure_markdown, training_markdown
    from mlops.azureml.training import JobFailed, train
    from mlops.commands._azure import azure_errors, connect, load_plan
    from mlops.summary import append_step_summary

    plan = load_plan(args.project_dir)
    env = dict(os.environ)
    print(f"Training {plan.names.job} (plan in {plan.directory})")
    try:
        with azure_errors():
            result = train(client or connect(plan.project), plan)
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
    done = "Already trained by" if result.reused else "Trained"
    print(f"\n{done} {result.job_name}: {result.studio_url}\nRegistered model {model}")
    for name, value in result.metrics.items():
        print(f"  {name}: {value}")
    append_step_summary(training_markdown(result.job_name, result.studio_url, result.metrics, model), env)
    return 0
