"""A deployment's create operation followed in the studio's words, through azure-core's own LROPoller."""

from __future__ import annotations

import time

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.polling import LROPoller, PollingMethod

from mlops.azureml.deployment_state import deployment_state, follow_operation


class Operation(PollingMethod):
    """A long-running operation that is Creating for ``seconds``, then ends as ``outcome``."""

    def __init__(self, seconds: float, outcome: str = "Succeeded"):
        self.seconds, self.outcome, self._status = seconds, outcome, "Creating"

    def initialize(self, client, initial_response, deserialization_callback):
        pass

    def run(self):
        time.sleep(self.seconds)
        self._status = self.outcome
        if self.outcome == "Failed":
            raise HttpResponseError("ResourceNotReady: User container has crashed or terminated")

    def status(self):
        return self._status

    def finished(self):
        return self._status != "Creating"

    def resource(self):
        return None


def poller(seconds: float, outcome: str = "Succeeded") -> LROPoller:
    return LROPoller(None, None, lambda response: None, Operation(seconds, outcome))


def test_the_states_are_the_studios_words():
    assert [deployment_state(s) for s in ("Creating", "Updating", "InProgress", None, "Succeeded", "Failed",
                                          "Canceled")] == ["Transitioning"] * 4 + ["Healthy"] + ["Unhealthy"] * 2


def test_the_sdk_s_enum_states_get_the_same_words():
    """online_deployments.get hands back the state as an enum member whose str() is not Azure's word."""
    from azure.ai.ml._restclient.arm_ml_service.models import DeploymentProvisioningState as State

    assert str(State.SUCCEEDED) != "Succeeded"
    assert [deployment_state(s) for s in (State.CREATING, State.SUCCEEDED, State.FAILED)] == [
        "Transitioning", "Healthy", "Unhealthy"]


def test_each_change_is_one_line_and_the_wait_ends_when_the_operation_does():
    lines = []
    started = time.monotonic()
    assert follow_operation(poller(0.5), "c1234abcd", 600, lines.append, every=10)
    assert time.monotonic() - started < 5  # not the next poll 10 s later
    assert lines == ["  c1234abcd: Transitioning", "  c1234abcd: Healthy"]


def test_a_failed_operation_raises_after_its_unhealthy_line():
    lines = []
    with pytest.raises(HttpResponseError, match="User container has crashed"):
        follow_operation(poller(0.2, "Failed"), "c1234abcd", 600, lines.append, every=10)
    assert lines == ["  c1234abcd: Transitioning", "  c1234abcd: Unhealthy"]


def test_an_operation_still_running_at_the_timeout_is_left_running():
    lines = []
    operation = poller(3)
    assert not follow_operation(operation, "c1234abcd", 0.5, lines.append, every=0.25)
    assert lines == ["  c1234abcd: Transitioning"]
    operation.wait()
