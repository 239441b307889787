"""The in-memory workspace of the fast unit tests keeps azure-ai-ml's method signatures."""

from __future__ import annotations

import inspect

import pytest
from azure.ai.ml import operations as sdk
from fake_workspace import FakeMLClient

GROUPS = {"compute": sdk.ComputeOperations, "environments": sdk.EnvironmentOperations, "data": sdk.DataOperations,
          "models": sdk.ModelOperations, "jobs": sdk.JobOperations, "online_endpoints": sdk.OnlineEndpointOperations,
          "online_deployments": sdk.OnlineDeploymentOperations}


def parameters(function) -> list[tuple[str, object, object]]:
    """Name, kind and default of each parameter: what a caller can pass (annotations aside)."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(inspect.unwrap(function)).parameters.values()]


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_every_fake_method_has_the_signature_of_azure_ai_ml(group):
    fake = type(getattr(FakeMLClient(), group))
    methods = [name for name, _ in inspect.getmembers(fake, inspect.isfunction) if not name.startswith("_")]
    assert methods, group
    for name in methods:
        assert hasattr(GROUPS[group], name), f"{group}.{name} is not an azure-ai-ml method"
        assert parameters(getattr(fake, name)) == parameters(getattr(GROUPS[group], name)), f"{group}.{name}"
