"""Share what staging served into an Azure ML registry, and look a shared version up.

A registry version is one model version and the scoring environment it was served with, both under
the same exact version number: the version of the model in staging's workspace. Production deploys
``azureml://registries/<registry>/models/<model>/versions/<version>`` with that environment, so "version
7" names everything production needs besides the scoring code, and a rollback names one number.
Sharing is idempotent: a version already shared from the same commit is reused; one shared from another
commit is refused (the registry never has a version silently replaced).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlops.azureml.model_reference import model_label
from mlops.azureml.release_documents import SERVING_SUFFIX
from mlops.azureml.retry import RetryPolicy, call, find
from mlops.errors import MlopsError


@dataclass(frozen=True)
class RegistryVersion:
    """One version in the registry: the model and the scoring environment shared with it."""

    registry: str
    model: str
    environment: str
    version: str
    commit: str = ""

    @property
    def model_uri(self) -> str:
        """The exact model reference a deployment in any workspace can use."""
        return f"azureml://registries/{self.registry}/models/{self.model}/versions/{self.version}"

    @property
    def environment_uri(self) -> str:
        """The exact scoring environment reference shared with the model."""
        return f"azureml://registries/{self.registry}/environments/{self.environment}/versions/{self.version}"


def serving_environment_name(environment_name: str) -> str:
    """The name of the scoring environment (the runtime spec plus the inference server)."""
    return environment_name + SERVING_SUFFIX


def served_model(client: Any, endpoint: str, deployment: str, policy: RetryPolicy, log=print) -> Any:
    """The workspace model that ``deployment`` serves behind ``endpoint`` with traffic, or an error saying why not.

    Sharing what staging serves (not merely the newest model of the commit) means production can only get a
    version that passed staging's smoke test and took staging's traffic.
    """
    live = find(policy, f"online_endpoints.get {endpoint}", client.online_endpoints.get, endpoint, log=log)
    traffic = {k: int(v) for k, v in ((live.traffic or {}) if live is not None else {}).items()}
    if not traffic.get(deployment):
        raise MlopsError(f"staging's endpoint {endpoint} gives no traffic to {deployment}, this commit's release "
                         f"(traffic: {traffic or 'none'}): `mlops deploy` must succeed in staging before sharing")
    serving = call(policy, f"online_deployments.get {deployment}", client.online_deployments.get, deployment,
                   endpoint, log=log)
    name, _, version = model_label(serving.model).partition(":")
    if not name or not version or "/" in name:
        raise MlopsError(f"deployment {deployment} of {endpoint} names no model version ({serving.model!r})")
    return call(policy, f"models.get {name}:{version}", client.models.get, name, version=version, log=log)


def share_version(workspace: Any, registry: Any, registry_name: str, model: Any, environment: tuple[str, str],
                  policy: RetryPolicy, log=print) -> RegistryVersion:
    """Copy ``model`` (a workspace model) and ``environment`` (``(name, version)`` in the workspace) into the
    registry under the model's version; ``workspace`` and ``registry`` are ``MLClient``\\ s of each."""
    version, commit = str(model.version), (model.tags or {}).get("git_commit", "")
    shared = RegistryVersion(registry_name, model.name, environment[0], version, commit)
    existing = find(policy, f"registry models.get {model.name}:{version}", registry.models.get, model.name,
                    version=version, log=log)
    if existing is not None:
        theirs = (existing.tags or {}).get("git_commit", "")
        if theirs != commit:
            raise MlopsError(f"registry {registry_name} already holds model {model.name} version {version}, trained "
                             f"from commit {theirs[:12] or '(unknown)'}, not {commit[:12] or '(unknown)'}: the staging "
                             "workspace's versions restarted; keep one staging workspace per registry or use another "
                             "registry")
        log(f"  model {model.name}:{version} is already in registry {registry_name} (same commit): reused")
    else:
        log(f"  sharing model {model.name}:{version} into registry {registry_name}")
        call(policy, f"models.share {model.name}:{version}", workspace.models.share, model.name, version,
             share_with_name=model.name, share_with_version=version, registry_name=registry_name, log=log)
    name, workspace_version = environment
    if find(policy, f"registry environments.get {name}:{version}", registry.environments.get, name,
            version=version, log=log) is not None:
        log(f"  environment {name}:{version} is already in registry {registry_name}: reused")
    else:
        log(f"  sharing environment {name}:{workspace_version} into registry {registry_name} as version {version}")
        call(policy, f"environments.share {name}:{workspace_version}", workspace.environments.share, name,
             workspace_version, share_with_name=name, share_with_version=version, registry_name=registry_name,
             log=log)
    return shared


def exact_version(text: str) -> str:
    """``text`` as a registry version: a whole number, never ``latest`` or empty (a job output that went missing)."""
    version = str(text).strip()
    if not version.isdigit():
        raise MlopsError(f"--version {text!r}: name a registry version as a whole number (e.g. 3), never latest: "
                         "production deploys exactly the version it is given")
    return version


def shared_version(registry: Any, registry_name: str, model_name: str, environment_name: str, version: str,
                   policy: RetryPolicy, log=print) -> RegistryVersion:
    """The registry's ``version`` of the model and its scoring environment, or an error listing the versions."""
    version = exact_version(version)
    model = find(policy, f"registry models.get {model_name}:{version}", registry.models.get, model_name,
                 version=version, log=log)
    if model is None:
        known = [str(m.version) for m in call(policy, f"registry models.list {model_name}",
                                              lambda: list(registry.models.list(name=model_name)), log=log)]
        listed = ", ".join(sorted(known, key=lambda v: int(v) if v.isdigit() else 0)) or "none yet"
        raise MlopsError(f"registry {registry_name} has no version {version} of model {model_name} (versions: "
                         f"{listed}): name one staging shared")
    if find(policy, f"registry environments.get {environment_name}:{version}", registry.environments.get,
            environment_name, version=version, log=log) is None:
        raise MlopsError(f"registry {registry_name} has model {model_name}:{version} but not its scoring environment "
                         f"{environment_name}:{version}: rerun the staging job of that version's deploy run")
    return RegistryVersion(registry_name, model_name, environment_name, version,
                           (model.tags or {}).get("git_commit", ""))
