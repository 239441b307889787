"""The plan in words, for someone who has never used Azure ML: what each thing is and what happens to it.

Offline, each line says what ``mlops train`` or ``mlops deploy`` will do depending on what the
workspace holds. With a workspace to compare against (``mlops plan --workspace``), each line says
CREATE, CHANGE or KEEP instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.azureml import release_documents as docs
from mlops.azureml.compute import compare_compute
from mlops.azureml.deployment import release_model
from mlops.azureml.gate_plan import describe_gate
from mlops.azureml.release_plan import ReleasePlan, load_entities, pin_model
from mlops.azureml.retry import DEFAULT_POLICY, RetryPolicy, call, find
from mlops.committed_content import committed_digest, main_ref
from mlops.errors import MlopsError


@dataclass
class Item:
    """One thing in the workspace: what it is, its name, and what will happen to it."""

    what: str
    name: str
    action: str
    detail: str
    command: str = "train"


def describe_plan(plan: ReleasePlan, state: dict[str, str] | None = None) -> list[Item]:
    """Every planned thing, in the order the commands create them; ``state`` maps a file to an action."""
    project, names, d = plan.project, plan.names, plan.documents
    state = state or {}
    compute, job, deployment = d["compute.yml"], d["job.yml"], d["deployment.yml"]
    settings = project.experiment.deploy
    items = [Item(
        "training cluster (machines that run the training job)", compute["name"],
        state.get("compute.yml", "create if missing, else keep"),
        f"{compute['size']} VMs, {compute['min_instances']} to {compute['max_instances']} nodes, back to "
        f"{compute['min_instances']} after {compute['idle_time_before_scale_down']} s idle; an existing cluster "
        "is never shrunk")]
    items.append(Item(
        "software environment (Docker image with the Python packages)",
        f"{d['environment.yml']['name']}:{names.environment_version}",
        state.get("environment.yml", "create if missing, else reuse (no rebuild)"),
        f"{project.experiment.image} + {project.experiment.dependencies}; the version is a hash of that "
        "file, so the image is rebuilt only when the packages change"))
    for name, spec in project.experiment.inputs.items():
        file_name = f"data-{name}.yml"
        reads = names.inputs.get(name, spec.azure)
        registered = ""
        if file_name in d:
            registered = (f"; version {d[file_name]['version']} is the hash of {spec.register_from}'s content: "
                          "a changed file is a new version, registered before the job and read by it")
        items.append(Item(
            f"training input --{name} (a data asset: a named, versioned copy of the data in Azure)", reads,
            state.get(file_name, data_action(project.root, spec.register_from, d[file_name]["version"])
                      if file_name in d else "read only"),
            f"the Azure job reads {reads}, the smoke run reads {spec.sample}{registered}"))
    staged = sorted(p.relative_to(plan.path(docs.CODE_DIR)).as_posix()
                    for p in plan.path(docs.CODE_DIR).rglob("*") if p.is_file())
    items.append(Item(
        "training job (one run of the training script)", job["name"], state.get("job.yml", "submit"),
        f"experiment {job['experiment_name']}, on {compute['name']}: {job['command']} "
        f"(code snapshot: {len(staged)} files from {', '.join(_roots(staged))})"))
    gate = [Item(*row) for row in describe_gate(project, plan.champion, offline=not state)]
    items += [item for item in gate if item.command == "train"]
    items.append(Item(
        "model (the trained files, versioned)", d["model.yml"]["name"], "register a new version",
        "from the job's outputs/ folder, tagged with the git commit, the pull request and the metrics"))
    items += [item for item in gate if item.command == "deploy"]
    endpoint = d["endpoint.yml"]
    target = (f"Kubernetes compute {project.compute.deploy_cluster_name}"
              if project.compute.kubernetes else "Azure-managed machines")
    items.append(Item(
        "online endpoint (the service's stable URL)", endpoint["name"],
        state.get("endpoint.yml", "create if missing, else keep"),
        f"on {target}; requests need its key; the URL never changes between releases", "deploy"))
    serving = d["serving-environment.yml"]
    items.append(Item(
        "scoring environment (the training packages plus Azure ML's inference server)",
        f"{serving['name']}:{serving['version']}",
        state.get("serving-environment.yml", "create if missing, else reuse"),
        "runs the scoring script in Azure as `mlops serve --adapter score` runs it locally", "deploy"))
    if project.compute.kubernetes:
        size = f"{deployment['instance_count']} x ({deployment['resources']['requests']['cpu']} CPU, " \
               f"{deployment['resources']['requests']['memory']} memory)"
    else:
        size = f"{deployment['instance_count']} x {deployment['instance_type']}"
    steps = ", ".join(f"{k} {v}%" for step in settings.rollout for k, v in step.items())
    model = deployment.get("model", "").removeprefix("azureml:") or (
        f"the newest version of {d['model.yml']['name']} tagged git_commit={plan.provenance.commit[:12] or '?'} "
        "(the one `mlops train` registers from this commit), or the version its deployment already serves")
    items.append(Item(
        "online deployment (one release behind the endpoint)", deployment["name"],
        state.get("deployment.yml", "create at 0% traffic, then take over"),
        f"model {model}; {size}, scoring with {settings.scoring_script}; answers {settings.sample_request} before "
        f"it gets any traffic, then {('goes ' + steps + ', then ') if steps else ''}takes 100%; the previous "
        "deployment is deleted", "deploy"))
    return items


def data_action(root: Path, register_from: str, version: str) -> str:
    """What happens to a data asset registered from the repo, judged offline against the main branch."""
    ref = main_ref(root)
    committed = committed_digest(root, ref, register_from) if ref else None
    if committed is None:
        compared = f"not on {ref} yet" if ref else "no main branch here to compare with"
        return f"register this version if the workspace lacks it ({compared})"
    if committed[:16] == version:
        return f"keep: the same content as on {ref}, so its release registered this version already"
    return f"register a NEW version: {register_from} differs from {ref}"


def _roots(paths: list[str]) -> list[str]:
    return sorted({p.split("/")[0] + ("/" if "/" in p else "") for p in paths})


def workspace_state(client: Any, plan: ReleasePlan, policy: RetryPolicy = DEFAULT_POLICY, log=print) -> dict[str, str]:
    """Compare the plan with the workspace using read-only calls: CREATE, CHANGE (what) or KEEP per file."""
    entities = load_entities(plan)
    state: dict[str, str] = {}
    compute = entities["compute.yml"]
    change = compare_compute(find(policy, "compute.get", client.compute.get, compute.name, log=log), compute)
    state["compute.yml"] = {"create": "CREATE", "keep": "KEEP"}.get(
        change.action, f"CHANGE {', '.join(sorted(change.updates))}")
    if change.warnings:
        state["compute.yml"] += " (" + "; ".join(change.warnings) + ")"
    assets = [("environment.yml", client.environments), ("serving-environment.yml", client.environments),
              *((f, client.data) for f in plan.data_files)]
    for file_name, group in assets:
        entity = entities[file_name]
        found = find(policy, f"{file_name} get", group.get, entity.name, version=entity.version, log=log)
        state[file_name] = "KEEP" if found else "CREATE"
    try:
        pin_model(plan, "azureml:" + release_model(client, plan, policy, log))
    except MlopsError as error:  # no model from this commit yet: the offline wording stays
        log(f"  ({error})")
    state["job.yml"] = "KEEP (already submitted)" if find(
        policy, "jobs.get", client.jobs.get, entities["job.yml"].name, log=log) else "CREATE"
    endpoint = find(policy, "online_endpoints.get", client.online_endpoints.get, entities["endpoint.yml"].name, log=log)
    state["endpoint.yml"] = "KEEP" if endpoint else "CREATE"
    if endpoint:
        live = {k: v for k, v in (endpoint.traffic or {}).items() if v}
        deployments = call(policy, "online_deployments.list",
                           lambda: [x.name for x in client.online_deployments.list(endpoint_name=endpoint.name)],
                           log=log)
        new = entities["deployment.yml"].name
        if live.get(new) == 100:
            state["deployment.yml"] = "KEEP (already live)"
        else:
            others = ", ".join(n for n in deployments if n != new) or "none"
            state["deployment.yml"] = f"CREATE, then move traffic {live or '{}'} to it and delete {others}"
    else:
        state["deployment.yml"] = "CREATE (first release)"
    return state
