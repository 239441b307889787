"""mlops plan: write what train and deploy would create, as Azure ML YAML, and say it in words."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops.azureml.describe import Item
    from mlops.azureml.release_plan import ReleasePlan

HELP = "write the Azure ML YAML of the compute, environment, job, model, endpoint and deployment (offline)"


@dataclass(frozen=True)
class PlanReport:
    """The written plan, each planned thing in words, and whether the workspace was compared."""

    plan: ReleasePlan
    items: list[Item]
    compared: bool


def add_arguments(parser) -> None:
    """``--workspace`` compares with the workspace (read-only calls, needs credentials)."""
    parser.add_argument("--workspace", action="store_true",
                        help="also compare with the Azure ML workspace: say CREATE, CHANGE or KEEP for each item")


def plan(project_dir: Path, *, workspace: bool = False) -> PlanReport:
    """Write build/azureml/ and load every file with azure-ai-ml; ``workspace`` also compares (read-only)."""
    from mlops.azureml.describe import describe_plan, workspace_state
    from mlops.azureml.gate_plan import read_champion
    from mlops.azureml.retry import DEFAULT_POLICY
    from mlops.commands import _azure

    written = _azure.load_plan(project_dir)
    state = None
    if workspace:
        with _azure.azure_errors():
            client = _azure.connect(written.project)
            champion = read_champion(client, written.project, DEFAULT_POLICY, log=lambda line: None)
            if champion is not None:  # the job the plan shows then scores the new model against it
                written = _azure.load_plan(project_dir, champion)
            state = workspace_state(client, written)
    items = describe_plan(written, state)
    if written.project.stages is not None:  # two stages: what share and promote add, production's files written
        from mlops.azureml.describe_stages import describe_stages
        from mlops.stages import release_stages

        items += describe_stages(written, *release_stages(written.project))
    return PlanReport(written, items, compared=state is not None)


def run(args) -> int:
    """Write build/azureml/, load every file with azure-ai-ml, print the summary."""
    report = plan(args.project_dir, workspace=args.workspace)
    written = report.plan
    azure = written.project.azure
    print(f"Plan for {written.project.experiment_file.name} in Azure ML workspace {azure.workspace_name} "
          f"(resource group {azure.resource_group}, {azure.location or 'region not set'}).")
    if written.project.stages is not None:
        from mlops.stages import release_stages

        staging, production = release_stages(written.project)
        print(f"Two stages: staging ({staging.workspace_name}, endpoint {staging.service_name}) trains and shares "
              f"into registry {written.project.stages.registry.name}; production ({production.workspace_name}, "
              f"endpoint {production.service_name}) deploys the shared version after approval.")
    print(f"Wrote {len(written.documents)} files to {written.directory}; azure-ai-ml's loaders accept all of them.")
    print("Compared with the workspace (read-only)." if report.compared else
          "Offline: nothing in Azure was read or changed.")
    command = None
    for number, item in enumerate(report.items, 1):
        if item.command != command:
            command = item.command
            print(f"\n`mlops {command}` would:")
        print(f"\n{number}. {item.what}: {item.name}\n   -> {item.action}\n   {item.detail}")
    for note in written.notes:
        print(f"\nnote: {note}")
    return 0

