"""``mlops deploy``: blue/green release of the model trained from this commit, never dropping traffic.

The endpoint is created once and kept. Each release is a new deployment named from the commit,
created with 0% of traffic, smoke-tested by invoking it directly, then moved to 100% (directly or
through the configured mirror and canary steps); the previous deployment is deleted last. Anything
failing before the final shift puts traffic back as it was, prints the new deployment's logs and
deletes it; a cancelled job (SIGINT/SIGTERM, see ``mlops.cancellation``) puts traffic back and stops there.
Every step reads the endpoint's state first, so a rerun after a crash converges.

A release is a commit *and* a model version: the deployment ``c<commit>`` serves one model version,
and when it already runs, that version is the release (a re-run never announces a newer version of
the same commit that does not serve). The summary names the model the deployment reports, as
``name:version`` (the SDK rewrites the entity sent into full resource ids, subscription included).
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops.azureml.assets import ensure_environment_asset
from mlops.azureml.deployment_request import score_deployment
from mlops.azureml.deployment_state import StateLine, azure_state, follow_operation
from mlops.azureml.faults import QuotaError, is_name_taken, is_quota_error, message_of, quota_error
from mlops.azureml.model_reference import model_label
from mlops.azureml.names import MAX_DEPLOYMENTS, suggest_endpoint_name
from mlops.azureml.release_plan import ReleasePlan, load_entities, pin_model
from mlops.azureml.retry import DEFAULT_POLICY, RetryPolicy, call, find
from mlops.cancellation import Cancelled
from mlops.errors import MlopsError

LOG_LINES = 100
BAD_STATES = {"failed", "canceled"}
IN_PROGRESS = {"creating", "updating", "deleting", "scaling", "provisioning"}


@dataclass
class DeployResult:
    """Where the endpoint stands after the release."""

    endpoint: str
    scoring_uri: str
    deployment: str
    model: str
    traffic: dict[str, int]
    deployments: list[str]
    removed: list[str] = field(default_factory=list)
    gate: Any = None
    """The quality gate's decision for this release (``gate_release.GateDecision``), set by ``mlops deploy``."""


class DeploymentFailed(MlopsError):
    """The new deployment failed before taking traffic; traffic was left (or put back) as it was."""


class StillInProgress(MlopsError):
    """Azure is still creating the deployment after the timeout: it cannot be deleted until that ends."""


@dataclass
class Release:
    """Everything one release needs, resolved before anything changes in Azure."""

    endpoint: Any
    deployment: Any
    environment: Any
    model: str
    request_file: Path
    rollout: list[dict[str, int]]
    step_seconds: int
    timeout_seconds: int
    workspace_id: str
    region: str

    @property
    def endpoint_name(self) -> str:
        return self.endpoint.name

    @property
    def new(self) -> str:
        return self.deployment.name


def prepare_release(client: Any, plan: ReleasePlan, policy: RetryPolicy, log=print) -> Release:
    """Check the local files, find this commit's model, and load the planned endpoint and deployment."""
    project = plan.project
    settings = project.experiment.deploy
    check_shipped_files(project)
    label = release_model(client, plan, policy, log)
    pin_model(plan, f"azureml:{label}")
    entities = load_entities(plan)
    deployment = entities["deployment.yml"]
    azure = project.azure
    workspace_id = "/".join(str(part) for part in (getattr(client, "subscription_id", "") or "",
                                                   azure.resource_group, azure.workspace_name))
    return Release(entities["endpoint.yml"], deployment, entities["serving-environment.yml"], label,
                   project.path(settings.sample_request),
                   [dict(step) for step in settings.rollout], settings.step_seconds, settings.timeout_minutes * 60,
                   workspace_id, azure.location or "its region")


def check_shipped_files(project: Any) -> None:
    """Refuse a release whose scoring script, shipped code or sample request is missing."""
    settings = project.experiment.deploy
    for relative in [settings.scoring_script, *settings.shipped_code, settings.sample_request]:
        if not project.path(relative).exists():
            raise MlopsError(f"{project.experiment_file.name}: deploy: {relative!r} does not exist: "
                             "create it or fix the path under deploy:")


def release_model(client: Any, plan: ReleasePlan, policy: RetryPolicy, log=print) -> str:
    """``name:version`` of the model this commit's release serves.

    The version its deployment already serves when that deployment exists and has not failed (a re-run),
    else the newest version trained from the commit.
    """
    project = plan.project
    model = find_model(client, project.experiment.model_name, plan.provenance.commit, policy, log)
    label = f"{model.name}:{model.version}"
    name, endpoint_name = plan.names.deployment, project.experiment.service_name
    live = find(policy, f"online_deployments.get {name}", client.online_deployments.get, name, endpoint_name,
                log=log) if find(policy, f"online_endpoints.get {endpoint_name}", client.online_endpoints.get,
                                 endpoint_name, log=log) else None
    serving = model_label(getattr(live, "model", None)) if _state(live) not in BAD_STATES else ""
    if serving and serving != label:
        log(f"  {name} already serves {serving}; {label} (also from this commit) is not released: a release is "
            "one model version per commit (push a commit to release another)")
        return serving
    return label


def find_model(client: Any, name: str, commit: str, policy: RetryPolicy, log=print) -> Any:
    """The newest version of ``name`` trained from ``commit`` (``mlops train`` tags it)."""
    versions = call(policy, f"models.list {name}", lambda: list(client.models.list(name=name)), log=log)
    mine = [m for m in versions if (m.tags or {}).get("git_commit") == commit]
    if not mine:
        raise MlopsError(f"no version of model {name!r} was trained from commit {commit[:12] or '(unknown)'}: "
                         "run `mlops train` for this commit first")
    return max(mine, key=lambda m: int(m.version) if str(m.version).isdigit() else 0)


def read_endpoint(client: Any, name: str, policy: RetryPolicy, log=print) -> Any:
    """The endpoint as Azure has it, mirror traffic included.

    The SDK's ``KubernetesOnlineEndpoint`` drops ``mirror_traffic`` when it reads the endpoint (only the
    managed branch of ``OnlineEndpoint._from_rest_object`` keeps it); for those the value is read from
    the REST resource the SDK's own operation returns.
    """
    from azure.ai.ml.entities import KubernetesOnlineEndpoint

    endpoint = call(policy, f"online_endpoints.get {name}", client.online_endpoints.get, name, log=log)
    if isinstance(endpoint, KubernetesOnlineEndpoint):
        operations = client.online_endpoints
        resource = call(policy, f"online_endpoints.get {name} (mirror traffic)", operations._online_operation.get,
                        resource_group_name=client.resource_group_name, workspace_name=client.workspace_name,
                        endpoint_name=name, log=log)
        endpoint.mirror_traffic = dict(resource.properties.mirror_traffic or {})
    return endpoint


def roll_out(client: Any, release: Release, policy: RetryPolicy = DEFAULT_POLICY, log=print,
             sleep: Callable[[float], None] = time.sleep) -> DeployResult:
    """Release ``release.deployment`` behind ``release.endpoint`` blue/green; see the module docstring."""
    name, new = release.endpoint_name, release.new
    log(f"1/5 endpoint {name}")
    endpoint = ensure_endpoint(client, release, policy, log)
    endpoint = read_endpoint(client, name, policy, log)
    traffic = {k: int(v) for k, v in (endpoint.traffic or {}).items()}
    existing = {d.name: d for d in call(policy, f"online_deployments.list {name}",
                                         lambda: list(client.online_deployments.list(endpoint_name=name)), log=log)}
    if traffic.get(new) == 100 and _state(existing.get(new)) not in BAD_STATES and new in existing:
        log(f"  {new} already takes 100% of traffic (a rerun): finishing the clean-up only")
        return _finish(client, release, policy, log)
    baseline = _without(traffic, new)
    log(f"  live traffic now: {_describe(traffic)}")
    if release.environment is not None:  # None: a registry environment, which exists by construction
        ensure_environment_asset(client, release.environment, policy, log)
    _make_room(client, release, existing, traffic, endpoint, policy, log)
    if new in existing and _state(existing[new]) in BAD_STATES:
        log(f"  {new} exists from an earlier attempt in state {state_name(existing[new])}: replacing it")
        if traffic.get(new) or (endpoint.mirror_traffic or {}).get(new):
            _set_traffic(client, name, baseline, {}, policy, log)
        _delete(client, name, new, policy, log)
    try:
        log(f"2/5 deployment {new} (model {release.model}), 0% of traffic")
        if _state(existing.get(new)) in IN_PROGRESS:
            log(f"  {new} is still {state_name(existing[new])} from an earlier attempt: waiting for it")
            _wait_until_settled(client, release, policy, log, sleep)
        else:
            _create_deployment(client, release, policy, log)
        log(f"3/5 smoke test: {release.request_file.name} sent to {new} directly")
        _smoke(client, release, policy, log)
        steps = release.rollout if baseline else []
        log("4/5 rollout: " + (", ".join(f"{k} {v}%" for step in steps for k, v in step.items()) or
                               "straight to 100%" + ("" if baseline or not release.rollout else
                                                     " (first release: no live traffic to mirror or share)")))
        for step in steps:
            _apply_step(client, release, baseline, step, policy, log)
            sleep(release.step_seconds)
            _check_ready(client, release, policy, log)
            _smoke(client, release, policy, log)
        _set_traffic(client, name, {new: 100}, {}, policy, log)
    except Exception as error:  # whatever failed, traffic goes back and the new deployment goes
        raise _roll_back(client, release, baseline, error, policy, log) from None
    return _finish(client, release, policy, log)


def ensure_endpoint(client: Any, release: Release, policy: RetryPolicy, log=print) -> Any:
    """The endpoint, created on the first release; a name held elsewhere in the region gets a suggestion."""
    name = release.endpoint_name
    endpoint = find(policy, f"online_endpoints.get {name}", client.online_endpoints.get, name, log=log)
    if endpoint is not None and _state(endpoint) not in BAD_STATES:
        log(f"  exists, kept: {endpoint.scoring_uri}")
        return endpoint
    log("  creating it (first release)" if endpoint is None else "  earlier creation failed: creating it again")
    try:
        call(policy, f"online_endpoints.begin_create_or_update {name}",
             lambda: client.online_endpoints.begin_create_or_update(release.endpoint).result(), log=log)
    except Exception as error:
        if is_name_taken(error):
            suggestion = suggest_endpoint_name(name, release.workspace_id)
            raise MlopsError(
                f"service_name {name!r} is taken in {release.region} by another workspace (endpoint names are "
                f"unique per region): set service_name: {suggestion} in the experiment file "
                f"(Azure said: {message_of(error)[:200]})") from None
        if is_quota_error(error):
            raise quota_error(error, f"endpoint {name}", release.region, "the endpoint") from None
        raise
    return call(policy, f"online_endpoints.get {name}", client.online_endpoints.get, name, log=log)


def _create_deployment(client: Any, release: Release, policy: RetryPolicy, log) -> None:
    name, new = release.endpoint_name, release.new

    def create():
        # the SDK rewrites the entity's model, code and environment into resource ids: it gets a copy
        poller = client.online_deployments.begin_create_or_update(copy.deepcopy(release.deployment))
        return follow_operation(poller, new, release.timeout_seconds, log)  # False: still running at the timeout

    try:
        done = call(policy, f"online_deployments.begin_create_or_update {new}", create, log=log)
    except Exception as error:
        if is_quota_error(error):
            size = getattr(release.deployment, "instance_type", None) or "the deployment's size"
            raise quota_error(error, f"deployment {new}", release.region, size) from None
        raise
    if not done:
        _raise_if_in_progress(client, release, policy, log)
        raise MlopsError(f"deployment {new} was not ready after {release.timeout_seconds // 60} minutes "
                         "(deploy.timeout_minutes)")
    _check_ready(client, release, policy, log)
    log(f"  {new} is ready on endpoint {name}")


def _raise_if_in_progress(client: Any, release: Release, policy: RetryPolicy, log) -> None:
    current = find(policy, f"online_deployments.get {release.new}", client.online_deployments.get, release.new,
                   release.endpoint_name, log=log)
    if _state(current) in IN_PROGRESS:
        raise StillInProgress(
            f"deployment {release.new} was still {state_name(current)} after "
            f"{release.timeout_seconds // 60} minutes (deploy.timeout_minutes)")


def _wait_until_settled(client: Any, release: Release, policy: RetryPolicy, log,
                        sleep: Callable[[float], None], poll_seconds: float = 15) -> None:
    """Follow a deployment an earlier attempt left being created, up to the timeout, then check it."""
    deadline = time.monotonic() + release.timeout_seconds
    line = StateLine(release.new, log)
    while time.monotonic() < deadline:
        current = call(policy, f"online_deployments.get {release.new}", client.online_deployments.get,
                       release.new, release.endpoint_name, log=log)
        line.update(current.provisioning_state)
        if _state(current) not in IN_PROGRESS:
            _check_ready(client, release, policy, log)
            return
        sleep(poll_seconds)
    _raise_if_in_progress(client, release, policy, log)


def _check_ready(client: Any, release: Release, policy: RetryPolicy, log) -> None:
    current = call(policy, f"online_deployments.get {release.new}", client.online_deployments.get,
                   release.new, release.endpoint_name, log=log)
    state = state_name(current) or "unknown"
    if state.lower() != "succeeded":
        raise MlopsError(f"deployment {release.new} is {state}, not ready")


def _smoke(client: Any, release: Release, policy: RetryPolicy, log) -> None:
    answer = score_deployment(client, release.endpoint_name, release.new, release.request_file, policy, log)
    try:
        json.loads(answer)
    except (TypeError, ValueError):
        raise MlopsError(f"deployment {release.new} answered the sample request with something that is not "
                         f"JSON: {str(answer)[:200]!r}") from None
    log(f"  {release.new} answered: {str(answer)[:200]}")


def _apply_step(client: Any, release: Release, baseline: dict[str, int], step: dict[str, int],
                policy: RetryPolicy, log) -> None:
    (kind, percent), = step.items()
    if kind == "mirror":
        _set_traffic(client, release.endpoint_name, baseline, {release.new: percent}, policy, log)
    else:
        _set_traffic(client, release.endpoint_name, _split(baseline, release.new, percent), {}, policy, log)


def _split(baseline: dict[str, int], new: str, percent: int) -> dict[str, int]:
    """``percent`` to ``new``, the rest shared by the live deployments in proportion to their share."""
    live = {k: v for k, v in baseline.items() if v > 0}
    if not live:
        return {new: 100}
    total, rest = sum(live.values()), 100 - percent
    shares = {k: rest * v // total for k, v in live.items()}
    largest = max(live, key=live.get)
    shares[largest] += rest - sum(shares.values())
    return {**shares, new: percent}


def _set_traffic(client: Any, name: str, traffic: dict[str, int], mirror: dict[str, int],
                 policy: RetryPolicy, log) -> None:
    def update():
        endpoint = client.online_endpoints.get(name)
        endpoint.traffic = dict(traffic)
        endpoint.mirror_traffic = dict(mirror)
        client.online_endpoints.begin_create_or_update(endpoint).result()

    call(policy, f"online_endpoints.begin_create_or_update {name} (traffic)", update, log=log)
    log(f"  traffic: {_describe(traffic)}" + (f"; mirrored: {_describe(mirror)}" if mirror else ""))


def _roll_back(client: Any, release: Release, baseline: dict[str, int], error: Exception,
               policy: RetryPolicy, log) -> MlopsError:
    """Put traffic back, print the new deployment's logs, delete it; return the error to raise."""
    name, new = release.endpoint_name, release.new
    reason = str(error) if isinstance(error, MlopsError) else f"{type(error).__name__}: {message_of(error)[:300]}"
    log(f"  failed: {reason}")
    problems = []
    try:
        endpoint = read_endpoint(client, name, policy, log)
        if (endpoint.traffic or {}).get(new) or (endpoint.mirror_traffic or {}).get(new):
            _set_traffic(client, name, baseline, {}, policy, log)
    except Exception as problem:  # clean-up is best effort; the original error is reported
        problems.append(f"could not restore traffic ({message_of(problem)[:200]})")
    kept = _describe(baseline) if baseline else "no traffic (first release)"
    if isinstance(error, Cancelled):  # the runner kills the process seconds after cancelling: no more calls
        return Cancelled(f"{error}; traffic put back as it was ({kept}); {new} left without traffic, the next "
                         "`mlops deploy` removes it" + "".join(f"; {p}" for p in problems))
    try:
        logs = call(policy, f"online_deployments.get_logs {new}", client.online_deployments.get_logs,
                    new, name, LOG_LINES, log=log)
        log(f"--- last {LOG_LINES} log lines of {new}\n{logs.rstrip()}\n---")
    except Exception as problem:  # logs are a help; their absence must not hide the error
        log(f"  (no logs from {new}: {message_of(problem)[:200]})")
    if isinstance(error, StillInProgress):
        problems.append(f"{new} is left in place: Azure refuses to delete a deployment while it is being created "
                        "(409); rerun `mlops deploy` to follow it, or delete it once it has settled")
    else:
        try:
            _delete(client, name, new, policy, log)
        except Exception as problem:  # clean-up is best effort; the original error is reported
            problems.append(f"could not delete {new} ({message_of(problem)[:200]}): rerun `mlops deploy` or "
                            "delete it")
    if isinstance(error, QuotaError):
        message = str(error)
    else:
        message = f"deployment {new} failed before taking traffic: {reason}"
    deleted = "" if isinstance(error, StillInProgress) else f"; {new} deleted"
    return DeploymentFailed(f"{message}; traffic left as it was ({kept}){deleted}"
                            + "".join(f"; {p}" for p in problems))


def _make_room(client: Any, release: Release, existing: dict[str, Any], traffic: dict[str, int],
               endpoint: Any, policy: RetryPolicy, log) -> None:
    """Stay under Azure's 20 deployments per endpoint by removing ones that serve nothing."""
    if release.new in existing or len(existing) < MAX_DEPLOYMENTS:
        return
    mirror = endpoint.mirror_traffic or {}
    idle = [n for n in existing if not traffic.get(n) and not mirror.get(n)]
    for stale in idle[: len(existing) - MAX_DEPLOYMENTS + 1]:
        log(f"  endpoint holds {len(existing)} deployments (Azure allows {MAX_DEPLOYMENTS}): removing idle {stale}")
        _delete(client, release.endpoint_name, stale, policy, log)
    if len(existing) - len(idle) >= MAX_DEPLOYMENTS:
        raise MlopsError(f"endpoint {release.endpoint_name} has {MAX_DEPLOYMENTS} deployments that all take "
                         "traffic: Azure allows no more; remove one in the studio")


def _finish(client: Any, release: Release, policy: RetryPolicy, log) -> DeployResult:
    """Delete every deployment but the new one (all idle now) and report where the endpoint stands."""
    name, new = release.endpoint_name, release.new
    log("5/5 clean-up")
    removed, left, served = [], [], release.model
    for deployment in call(policy, f"online_deployments.list {name}",
                           lambda: list(client.online_deployments.list(endpoint_name=name)), log=log):
        if deployment.name == new:
            left.append(new)
            served = model_label(deployment.model) or served
        else:
            _delete(client, name, deployment.name, policy, log)
            removed.append(deployment.name)
    endpoint = call(policy, f"online_endpoints.get {name}", client.online_endpoints.get, name, log=log)
    return DeployResult(name, endpoint.scoring_uri or "", new, served,
                        {k: int(v) for k, v in (endpoint.traffic or {}).items()}, left, removed)


def _delete(client: Any, endpoint_name: str, deployment_name: str, policy: RetryPolicy, log) -> None:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        call(policy, f"online_deployments.begin_delete {deployment_name}",
             lambda: client.online_deployments.begin_delete(name=deployment_name,
                                                            endpoint_name=endpoint_name).result(), log=log)
    except ResourceNotFoundError:
        return
    log(f"  deleted deployment {deployment_name}")


def state_name(resource: Any) -> str:
    """``resource``'s provisioning state as Azure names it (``Creating``; ``""`` when it has none)."""
    return azure_state(getattr(resource, "provisioning_state", None))


def _state(resource: Any) -> str:
    return state_name(resource).lower()


def _without(traffic: dict[str, int], new: str) -> dict[str, int]:
    """Traffic as it should be without ``new``: its share (after a crash mid-rollout) goes to the largest."""
    rest = {k: v for k, v in traffic.items() if k != new}
    share = traffic.get(new, 0)
    if share and rest:
        largest = max(rest, key=rest.get)
        rest[largest] += share
    return rest if sum(rest.values()) else {}


def _describe(traffic: dict[str, int]) -> str:
    shown = {k: v for k, v in traffic.items() if v}
    return ", ".join(f"{k} {v}%" for k, v in shown.items()) or "none"
