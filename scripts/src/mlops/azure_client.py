"""The one place an ``MLClient`` is built: the workspace of an :class:`~mlops.config.AzureConfig`, logged in.

Settings live in :mod:`mlops.config`, the choice of login in :mod:`mlops.credentials`; this module
joins the two, so neither imports the other's caller.
"""

from __future__ import annotations

from typing import Any

from mlops.config import AzureConfig
from mlops.credentials import cloud_of, get_credential


def login(config: AzureConfig) -> Any:
    """The credential :func:`mlops.credentials.get_credential` chooses, with ``config``'s .env and environment."""
    return get_credential(config.environ, settings=config)


def ml_client(config: AzureConfig, credential: Any = None) -> Any:
    """An ``MLClient`` for ``config``'s workspace (default credential: :func:`login`); makes no network call."""
    workspace = config.workspace  # a missing subscription fails before any login is attempted
    return _client(config, credential, **workspace)


def other_workspace_client(config: AzureConfig, resource_group: str, workspace_name: str,
                           subscription_id: str | None = None, credential: Any = None) -> Any:
    """An ``MLClient`` for a workspace other than ``config``'s (production's), with ``config``'s login."""
    return _client(config, credential, subscription_id=subscription_id or config.subscription_id,
                   resource_group_name=resource_group, workspace_name=workspace_name)


def registry_client(config: AzureConfig, registry_name: str, credential: Any = None) -> Any:
    """An ``MLClient`` for an Azure ML registry; unlike a workspace client, it asks Azure where the registry is."""
    return _client(config, credential, subscription_id=config.subscription_id,
                   resource_group_name=config.resource_group, registry_name=registry_name)


def _client(config: AzureConfig, credential: Any, **target: Any) -> Any:
    # The cloud ``AZURE_AUTHORITY_HOST`` logs in to (``MLClient`` knows a sovereign cloud's management
    # endpoint only from its ``cloud`` argument), and no SDK telemetry: in a Jupyter kernel azure-ai-ml
    # would set up Azure Monitor for the whole kernel and send every call (docs/decisions.md).
    from azure.ai.ml import MLClient

    cloud = cloud_of(config.environ.get("AZURE_AUTHORITY_HOST"))
    return MLClient(credential if credential is not None else login(config), **target, enable_telemetry=False,
                    **({"cloud": cloud} if cloud else {}))
