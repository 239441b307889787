"""mlops train: run the training job in Azure ML and register the model it produces."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops.azureml.release_plan import ReleasePlan
    from mlops.azureml.training import TrainResult

HELP = ("train in Azure ML: ensure compute, environment and data, run the job (training, then the quality gate's "
        "evaluation against the serving model), register the model with the verdict")


def add_arguments(parser) -> None:
    """Everything comes from the configs and the plan; ``--cancel`` is for a workflow step run on cancel."""
    parser.add_argument("--cancel", action="store_true",
                        help="cancel this workflow run's training job in Azure ML if it still runs (deploy.yml "
                        "runs it when the workflow is cancelled)")


def train(project_dir: Path, *, log: Callable[[str], None] = print) -> TrainResult:
    """Plan the release, log in, run the training job and register its model; raise ``JobFailed`` if it fails."""
    from mlops.azureml.gate_plan import read_champion
    from mlops.azureml.retry import RetryPolicy
    from mlops.azureml.training import run_training_job
    from mlops.commands import _azure

    plan = _azure.load_plan(project_dir)
    client = _azure.connect(plan.project)
    champion = read_champion(client, plan.project, RetryPolicy(), log)
    if champion is not None:  # the job scores the new model against it: it becomes an input of the job
        plan = _azure.load_plan(project_dir, champion)
    log(f"Training {plan.names.job} (plan in {plan.directory})")
    with _azure.azure_errors():
        return run_training_job(client, plan, log=log)


def setup_training(project_dir: Path, *, log: Callable[[str], None] = print) -> ReleasePlan:
    """What ``train`` ensures before it submits the job (the cluster, the environment, the data), nothing submitted."""
    from mlops.azureml.release_plan import load_entities
    from mlops.azureml.training import prepare_training
    from mlops.commands import _azure

    plan = _azure.load_plan(project_dir)
    log(f"Setting up {plan.names.job} (plan in {plan.directory})")
    with _azure.azure_errors():
        prepare_training(_azure.connect(plan.project), plan, load_entities(plan), log=log)
    return plan


def cancel_training(project_dir: Path) -> str:
    """Cancel this workflow run's training job (its name is fixed per run) if it still runs; say what happened."""
    from mlops.azureml.training import cancel_job
    from mlops.commands import _azure

    plan = _azure.load_plan(project_dir)
    return cancel_job(_azure.connect(plan.project), plan.names.job)


def run(args) -> int:
    """Train; on failure print status, reason, log tail and link, and exit 1 (130 when cancelled)."""
    import os

    from mlops.azureml.release_summary import failure_markdown, training_markdown
    from mlops.azureml.training import JobFailed
    from mlops.cancellation import cancellable
    from mlops.gate_evaluation import print_record
    from mlops.gate_report import verdict_markdown
    from mlops.step_summary import append_step_summary

    if getattr(args, "cancel", False):
        print(cancel_training(args.project_dir))
        return 0
    env = dict(os.environ)
    try:
        with cancellable("mlops train"):  # a cancelled job cancels the Azure ML job it submitted
            result = train(args.project_dir)
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
    if result.gate is not None:
        print_record(result.gate)
        append_step_summary(verdict_markdown(result.gate, "Quality gate", model), env)
    return 0
