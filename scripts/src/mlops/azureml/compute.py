"""Make sure the training cluster exists, without ever shrinking one that does.

An existing cluster is updated only when the config asks for more nodes than it may have: an update
is a PUT that the role a workflow usually has (AzureML Data Scientist) may not do, so a cluster that
merely idles differently is left as it is, with a warning; a refused update (403) is a warning too,
naming the role that may, and training goes on with the cluster as it is.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from mlops.azureml.faults import COMPUTE_ROLE, is_forbidden, is_quota_error, message_of, quota_error
from mlops.azureml.retry import RetryPolicy, call, find
from mlops.errors import MlopsError


@dataclass
class ComputeChange:
    """What to do with the cluster: ``create``, ``update`` (with ``updates``) or ``keep``; plus warnings."""

    action: str
    updates: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def compare_compute(existing: Any, desired: Any) -> ComputeChange:
    """Grow or retune an existing cluster to the config; never lower its node limit, say so instead."""
    if existing is None:
        return ComputeChange("create")
    name = desired.name
    if getattr(existing, "type", "amlcompute").lower() != "amlcompute":
        raise MlopsError(f"azure-compute-config.json: compute_node_name: {name!r} exists but is a "
                         f"{existing.type}, not a training cluster: choose another name")
    change = ComputeChange("keep")
    if (existing.size or "").lower() != desired.size.lower():
        change.warnings.append(
            f"cluster {name!r} runs {existing.size} VMs, the config asks for {desired.size}: Azure cannot change "
            "the VM size of a cluster; it is kept as is (delete it or rename compute_node_name to switch)")
    if desired.max_instances > existing.max_instances:
        change.updates["max_instances"] = desired.max_instances
    elif desired.max_instances < existing.max_instances:
        change.warnings.append(
            f"cluster {name!r} may scale to {existing.max_instances} nodes, the config says {desired.max_instances}: "
            "mlops never shrinks a cluster (running jobs may need it); lower it in the studio if you mean it")
    for attribute, key in (("min_instances", "min_nodes"), ("idle_time_before_scale_down",
                                                            "idle_seconds_before_scaledown")):
        have, want = getattr(existing, attribute), getattr(desired, attribute)
        if have is not None and want is not None and float(have) != float(want):
            change.warnings.append(
                f"cluster {name!r} has {attribute} {have:g}, the config says {key} {want:g}: left as is (training "
                "does not need it; change it in the studio, or with the AzureML Compute Operator role)")
    if change.updates:
        change.action = "update"
    return change


def as_update(existing: Any, desired: Any, updates: dict[str, Any]) -> Any:
    """The cluster to PUT for an update: the planned entity carrying the existing cluster's settings plus
    ``updates``. Not the entity read back: azure-ai-ml gives a cluster without a subnet a
    ``NetworkSettings(subnet=None)`` when it reads one, and its own PUT then fails on that None
    (``AmlCompute._set_full_subnet_name``)."""
    target = copy.deepcopy(desired)
    for attribute in ("size", "tier", "min_instances", "idle_time_before_scale_down", "max_instances"):
        if getattr(existing, attribute, None) is not None:
            setattr(target, attribute, getattr(existing, attribute))
    for attribute, value in updates.items():
        setattr(target, attribute, value)
    return target


def ensure_compute(client: Any, desired: Any, region: str, policy: RetryPolicy, log=print) -> ComputeChange:
    """Create the cluster when missing, apply the allowed updates when not; log every warning."""
    existing = find(policy, f"compute.get {desired.name}", client.compute.get, desired.name, log=log)
    change = compare_compute(existing, desired)
    for warning in change.warnings:
        log(f"  warning: {warning}")
    if change.action == "keep":
        log(f"  compute {desired.name}: exists, left as is")
        return change
    target = desired if change.action == "create" else as_update(existing, desired, change.updates)
    verb = "creating" if change.action == "create" else f"updating ({', '.join(sorted(change.updates))})"
    log(f"  compute {desired.name}: {verb}")
    try:
        call(policy, f"compute.begin_create_or_update {desired.name}",
             lambda: client.compute.begin_create_or_update(target).result(), log=log)
    except MlopsError:
        raise
    except Exception as error:
        if is_quota_error(error):
            raise quota_error(error, f"compute {desired.name}", region, desired.size) from None
        if is_forbidden(error) and change.action == "update":
            log(f"  warning: compute {desired.name}: Azure refused the update (403): {message_of(error)[:200]}; "
                f"the cluster is left as it is. Updating a cluster needs the {COMPUTE_ROLE} role on the workspace "
                "(`mlops bootstrap-oidc --compute-operator` assigns it)")
            return ComputeChange("keep", warnings=change.warnings)
        if is_forbidden(error):
            raise MlopsError(f"compute {desired.name}: Azure refused to create the cluster (403): creating one "
                             f"needs the {COMPUTE_ROLE} role on the workspace (`mlops bootstrap-oidc "
                             "--compute-operator` assigns it), or create it once in the studio") from None
        raise
    return change
