"""Get-or-create for versioned assets (environments, data): a version that exists is never touched again."""

from __future__ import annotations

from typing import Any

from mlops.azureml.retry import RetryPolicy, call, find


def ensure_environment_asset(client: Any, environment: Any, policy: RetryPolicy, log=print) -> Any:
    """Reuse the environment version of this spec, or create it (Azure builds its image on first use)."""
    return ensure_asset(client.environments, "environment", environment, policy, log,
                        reused="same spec, reused without a rebuild",
                        creating="creating; its image is built when the first job needs it "
                                 "(the job waits in Preparing, often 10+ minutes)")


def ensure_data(client: Any, data: Any, policy: RetryPolicy, log=print) -> Any:
    """Register the data asset from its local file when the workspace does not have that version."""
    return ensure_asset(client.data, "data", data, policy, log, reused="exists",
                        creating=f"registering from {data.path}")


def ensure_asset(operations: Any, kind: str, asset: Any, policy: RetryPolicy, log, *, reused: str,
                 creating: str) -> Any:
    """The asset's version from the workspace, created from ``asset`` when the workspace lacks it."""
    label = f"{asset.name}:{asset.version}"
    existing = find(policy, f"{kind}.get {label}", operations.get, asset.name, version=asset.version, log=log)
    if existing is not None:
        log(f"  {kind} {label}: {reused}")
        return existing
    log(f"  {kind} {label}: {creating}")
    return call(policy, f"{kind}.create_or_update {label}", operations.create_or_update, asset, log=log)
