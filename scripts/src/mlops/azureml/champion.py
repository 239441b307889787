"""The champion: the model the endpoint serves now, read from its live traffic.

The deployment holding the most traffic and the model version it runs; not ``@latest``, not the best
model ever registered. A tie in traffic (a 50/50 split) goes to the higher model version, the more
recent release. No endpoint, or an endpoint without traffic, has no champion: a first release.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlops.azureml.model_reference import model_label
from mlops.azureml.retry import RetryPolicy, call, find


@dataclass(frozen=True)
class Champion:
    """The serving deployment, its share of traffic and the model version it runs."""

    endpoint: str
    deployment: str
    traffic: int
    model_name: str
    model_version: str
    reference: str

    @property
    def label(self) -> str:
        """``name:version``, as verdicts and summaries name a model."""
        return f"{self.model_name}:{self.model_version}"

    @property
    def job_input(self) -> str:
        """The reference a job input takes: a workspace model as ``azureml:name:version``, a registry's as is."""
        return self.reference if self.reference.startswith("azureml://registries/") else f"azureml:{self.label}"


def parse_model(reference: str) -> tuple[str, str] | None:
    """(name, version) of a deployment's model: ``azureml:n:v``, an ARM id or a registry URI; else None."""
    name, colon, version = model_label(str(reference or "").strip()).partition(":")
    if not (name and colon and version) or any(sign in name + version for sign in ":@/"):
        return None  # ``name@latest``, a path or a URI that names no model version
    return name, version


def find_champion(client: Any, endpoint_name: str, policy: RetryPolicy, log=print) -> Champion | None:
    """The champion of ``endpoint_name``, or None when nothing serves there yet."""
    endpoint = find(policy, f"online_endpoints.get {endpoint_name}", client.online_endpoints.get, endpoint_name,
                    log=log)
    live = {name: int(share) for name, share in ((endpoint.traffic or {}) if endpoint else {}).items() if share}
    if not live:
        return None
    candidates = []
    for name, share in live.items():
        deployment = call(policy, f"online_deployments.get {name}", client.online_deployments.get, name,
                          endpoint_name, log=log)
        parsed = parse_model(getattr(deployment, "model", "") or "")
        if parsed is None:
            log(f"  deployment {name} takes {share}% of traffic but names no registered model version "
                f"({getattr(deployment, 'model', None)!r}): not a champion")
            continue
        candidates.append(Champion(endpoint_name, name, share, parsed[0], parsed[1], str(deployment.model)))
    if not candidates:
        return None
    return max(candidates, key=lambda c: (c.traffic, _version_key(c.model_version)))


def _version_key(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (-1, version)
