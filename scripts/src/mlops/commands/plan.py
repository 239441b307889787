"""mlops plan: write what train and deploy would create, as Azure ML YAML, and say it in words."""

from __future__ import annotations

HELP = "write the Azure ML YAML of the compute, environment, job, model, endpoint and deployment (offline)"


def add_arguments(parser) -> None:
    """``--workspace`` compares with the workspace (read-only calls, needs credentials)."""
    parser.add_argument("--workspace", action="store_true",
                        help="also compare with the Azure ML workspace: say CREATE, CHANGE or KEEP for each item")


def run(args, client=None) -> int:
    """Write build/azureml/, load every file with azure-ai-ml, print the summary."""
    from mlops.azureml.describe import describe_plan, workspace_state
    from mlops.commands._azure import azure_errors, connect, load_plan

    plan = load_plan(args.project_dir)
    state = None
    if args.workspace:
        with azure_errors():
            state = workspace_state(client or connect(plan.project), plan)
    azure = plan.project.azure
    print(f"Plan for {plan.project.experiment_file.name} in Azure ML workspace {azure['workspace_name']} "
          f"(resource group {azure['resource_group']}, {azure.get('location', 'region not set')}).")
    print(f"Wrote {len(plan.documents)} files to {plan.directory}; azure-ai-ml's loaders accept all of them.")
    print("Offline: nothing in Azure was read or changed." if state is None else
          "Compared with the workspace (read-only).")
    command = None
    for number, item in enumerate(describe_plan(plan, state), 1):
        if item.command != command:
            command = item.command
            print(f"\n`mlops {command}` would:")
        print(f"\n{number}. {item.what}: {item.name}\n   -> {item.action}\n   {item.detail}")
    for note in plan.notes:
        print(f"\nnote: {note}")
    return 0
