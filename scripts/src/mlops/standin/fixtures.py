"""pytest fixtures for tests that drive the real azure-ai-ml client through the stand-in.

Enable with ``pytest_plugins = ["mlops.standin.fixtures"]`` in a conftest.py or test module.
``standin`` is a fresh stand-in per test (state in the test's tmp_path), ``module_standin`` one per
test module (for tests that share an expensive set-up, such as a running deployment); both set the
client's variables for as long as they live, so every request goes to 127.0.0.1. ``standin_client`` and
``module_standin_client`` are unmodified MLClients on them with a real ``ClientSecretCredential``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from mlops.standin.server import StandIn

RESOURCE_GROUP, WORKSPACE = "rg-standin", "ws-standin"


@contextmanager
def running_standin(state_dir: Path) -> Iterator[StandIn]:
    """A started stand-in with the client's variables set in ``os.environ`` until the block ends."""
    from azure.ai.ml.operations._run_history_constants import RunHistoryConstants

    with StandIn(state_dir) as standin, pytest.MonkeyPatch.context() as patch:
        for key, value in standin.client_environment().items():
            patch.setenv(key, value)
        # read by azure-ai-ml at import time; patched so the import order of tests does not matter
        patch.setattr(RunHistoryConstants, "_WAIT_COMPLETION_POLLING_INTERVAL_MIN", 1)
        patch.setattr(RunHistoryConstants, "_WAIT_COMPLETION_POLLING_INTERVAL_MAX", 1)
        yield standin


@pytest.fixture
def standin(tmp_path) -> Iterator[StandIn]:
    """A running stand-in for one test."""
    with running_standin(tmp_path / "standin") as running:
        yield running


@pytest.fixture
def standin_client(standin):
    """The unmodified MLClient for workspace rg-standin/ws-standin of ``standin``."""
    return standin.ml_client(RESOURCE_GROUP, WORKSPACE)


@pytest.fixture(scope="module")
def module_standin(tmp_path_factory) -> Iterator[StandIn]:
    """A running stand-in shared by the tests of one module (faults are cleared after each test)."""
    with running_standin(tmp_path_factory.mktemp("standin")) as running:
        yield running


@pytest.fixture(scope="module")
def module_standin_client(module_standin):
    """The unmodified MLClient for workspace rg-standin/ws-standin of ``module_standin``."""
    return module_standin.ml_client(RESOURCE_GROUP, WORKSPACE)
