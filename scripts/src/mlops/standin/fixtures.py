"""pytest fixtures for tests that drive the real azure-ai-ml client through the stand-in.

Enable with ``pytest_plugins = ["mlops.standin.fixtures"]`` in a conftest.py. ``standin`` is a
fresh stand-in (state in the test's tmp_path) whose client variables are set for the test; every
request goes to 127.0.0.1. ``ml_client`` is an unmodified MLClient on it with a real
``ClientSecretCredential``.
"""

from __future__ import annotations

import pytest

from mlops.standin.server import StandIn


@pytest.fixture
def standin(tmp_path, monkeypatch):
    """A running stand-in with the client's variables set (proxy, CA bundle, service principal)."""
    from azure.ai.ml.operations._run_history_constants import RunHistoryConstants

    with StandIn(tmp_path / "standin") as running:
        for key, value in running.client_environment().items():
            monkeypatch.setenv(key, value)
        # read by azure-ai-ml at import time; patched so the import order of tests does not matter
        monkeypatch.setattr(RunHistoryConstants, "_WAIT_COMPLETION_POLLING_INTERVAL_MIN", 1)
        monkeypatch.setattr(RunHistoryConstants, "_WAIT_COMPLETION_POLLING_INTERVAL_MAX", 1)
        yield running


@pytest.fixture
def ml_client(standin):
    """The unmodified MLClient for workspace rg-standin/ws-standin of ``standin``."""
    return standin.ml_client("rg-standin", "ws-standin")
