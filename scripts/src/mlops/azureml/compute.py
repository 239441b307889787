"""Make sure the training cluster exists, without ever shrinking one that does."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlops.azureml.faults import is_quota_error, quota_error
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
    if desired.min_instances != existing.min_instances:
        change.updates["min_instances"] = desired.min_instances
    if desired.idle_time_before_scale_down != existing.idle_time_before_scale_down:
        change.updates["idle_time_before_scale_down"] = desired.idle_time_before_scale_down
    if change.updates:
        change.action = "update"
    return change


def ensure_compute(client: Any, desired: Any, region: str, policy: RetryPolicy, log=print) -> ComputeChange:
    """Create the cluster when missing, apply the allowed updates when not; log every warning."""
    existing = find(policy, f"compute.get {desired.name}", client.compute.get, desired.name, log=log)
    change = compare_compute(existing, desired)
    for warning in change.warnings:
        log(f"  warning: {warning}")
    if change.action == "keep":
        log(f"  compute {desired.name}: exists, left as is")
        return change
    target = desired if change.action == "create" else existing
    for attribute, value in change.updates.items():
        setattr(target, attribute, value)
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
        raise
    return change
