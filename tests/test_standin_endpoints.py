"""Online endpoints through the stand-in: the unmodified SDK creates, invokes, shifts traffic and deletes,
and every deployment fault fails the way Azure fails.

One stand-in and one live deployment (``blue``, 100% of traffic) serve the whole module: starting a
model server is the slow part. Each test leaves the endpoint as it found it.
"""

from __future__ import annotations

import json
import ssl

import httpx
import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError
from standin_serving import deployment, prepare_release, serving_files, set_traffic

from mlops.azureml.faults import is_quota_error

pytest_plugins = ["mlops.standin.fixtures"]
pytestmark = pytest.mark.slow  # real deployments (azmlinfsrv in a built environment)
ENDPOINT = "standin-ep"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return serving_files(tmp_path_factory.mktemp("release"))


@pytest.fixture(scope="module")
def released(module_standin_client, files):
    """An endpoint whose deployment ``blue`` takes all traffic."""
    prepare_release(module_standin_client, files)
    module_standin_client.online_deployments.begin_create_or_update(deployment(files, "blue")).result()
    set_traffic(module_standin_client, ENDPOINT, {"blue": 100})
    return module_standin_client


@pytest.fixture
def client(released, module_standin):
    """The released endpoint's client; afterwards faults are cleared and only ``blue`` is left, at 100%."""
    yield released
    module_standin.clear()
    set_traffic(released, ENDPOINT, {"blue": 100})
    for other in released.online_deployments.list(endpoint_name=ENDPOINT):
        if other.name != "blue":
            released.online_deployments.begin_delete(name=other.name, endpoint_name=ENDPOINT).result()


def invoke(client, files, deployment_name) -> dict:
    return json.loads(client.online_endpoints.invoke(endpoint_name=ENDPOINT, request_file=str(files["request"]),
                                                     deployment_name=deployment_name))


def score(standin, client) -> tuple[int, str, str]:
    """POST to the scoring URI without a deployment header; return (status, model, deployment).

    Not through ``invoke``: it keeps the last deployment header it sent (it mutates the class attribute
    EndpointInvokeFields.DEFAULT_HEADER), so a call without ``deployment_name`` may still name one.
    """
    endpoint = client.online_endpoints.get(ENDPOINT)
    key = client.online_endpoints.get_keys(ENDPOINT).primary_key
    with httpx.Client(proxy=standin.proxy_url, verify=ssl.create_default_context(cafile=standin.ca_bundle)) as http:
        answer = http.post(endpoint.scoring_uri, json={"rows": []}, headers={"Authorization": f"Bearer {key}"})
    body = answer.json() if answer.status_code == 200 else {}
    return answer.status_code, body.get("model", ""), answer.headers.get("azureml-model-deployment", "")


def new_model_version(client, files, version: str, text: str) -> str:
    from azure.ai.ml.entities import Model

    (files["model"] / "model.txt").write_text(text)
    client.models.create_or_update(Model(name="standin-model", version=version, path=str(files["model"]),
                                         type="custom_model"))
    return f"azureml:standin-model:{version}"


def test_a_release_creates_invokes_shifts_traffic_and_cleans_up(client, files, module_standin):
    assert invoke(client, files, "blue") == {"model": "blue-model", "echo": {"rows": [{"x": 1}]}}
    green = deployment(files, "green", model=new_model_version(client, files, "2", "green-model"))
    client.online_deployments.begin_create_or_update(green).result()
    assert score(module_standin, client) == (200, "blue-model", "blue")  # no traffic yet
    assert invoke(client, files, "green")["model"] == "green-model"  # by header, at 0% of traffic
    set_traffic(client, ENDPOINT, {"blue": 100}, {"green": 50})
    set_traffic(client, ENDPOINT, {"blue": 0, "green": 100})
    assert score(module_standin, client) == (200, "green-model", "green")
    with pytest.raises(HttpResponseError, match="has 100% of the endpoint's traffic"):
        client.online_deployments.begin_delete(name="green", endpoint_name=ENDPOINT).result()
    assert "POST /score 200" in client.online_deployments.get_logs("green", ENDPOINT, 50)
    calls = [(r.method, r.path.rsplit("/", 1)[-1]) for r in module_standin.requests()]
    assert {("POST", "listKeys"), ("POST", "score"), ("POST", "getLogs")} <= set(calls)


def test_traffic_to_a_deployment_that_does_not_exist_is_refused(client):
    with pytest.raises(HttpResponseError, match="does not exist"):
        set_traffic(client, ENDPOINT, {"blue": 50, "nothing": 50})


def test_deployment_500_fault_makes_the_new_deployment_answer_500(client, files, module_standin):
    module_standin.inject("deployment-500")
    client.online_deployments.begin_create_or_update(deployment(files, "green")).result()
    with pytest.raises(HttpResponseError) as raised:
        invoke(client, files, "green")
    assert raised.value.status_code == 500
    assert score(module_standin, client) == (200, "blue-model", "blue")


def test_never_healthy_fault_fails_the_operation_and_a_delete_meanwhile_is_a_409(client, files, module_standin):
    module_standin.inject("never-healthy:seconds=2")
    poller = client.online_deployments.begin_create_or_update(deployment(files, "green"))
    with pytest.raises(HttpResponseError) as busy:
        client.online_deployments.begin_delete(name="green", endpoint_name=ENDPOINT).result()
    assert busy.value.status_code == 409
    with pytest.raises(HttpResponseError, match="ResourceNotReady"):
        poller.result()
    assert client.online_deployments.get("green", ENDPOINT).provisioning_state == "Failed"


def test_image_build_fails_fault_fails_the_deployment(client, files, module_standin):
    module_standin.inject("image-build-fails")
    with pytest.raises(HttpResponseError, match="ImageBuildFailure"):
        client.online_deployments.begin_create_or_update(deployment(files, "green")).result()


def test_quota_exceeded_fault_refuses_the_create_with_azures_message(client, files, module_standin):
    module_standin.inject("quota-exceeded")
    with pytest.raises(HttpResponseError) as raised:
        client.online_deployments.begin_create_or_update(deployment(files, "green")).result()
    assert raised.value.status_code == 400 and is_quota_error(raised.value)
    assert "usage/limit: 24/24" in str(raised.value)


def test_throttle_fault_answers_503_with_retry_after_then_recovers(client, module_standin):
    module_standin.inject("throttle:times=2,status=503")
    assert client.online_endpoints.get(ENDPOINT).traffic == {"blue": 100}
    statuses = [r.status for r in module_standin.requests() if r.path.endswith(f"/onlineEndpoints/{ENDPOINT}")][-3:]
    assert statuses == [503, 503, 200]


def test_conflict_in_flight_fault_answers_409(client, module_standin):
    module_standin.inject("conflict-in-flight")
    with pytest.raises(HttpResponseError) as raised:
        set_traffic(client, ENDPOINT, {"blue": 100})
    assert raised.value.status_code == 409


def test_killed_mid_rollout_applies_the_change_then_hangs_up_until_cleared(client, files, module_standin):
    client.online_deployments.begin_create_or_update(deployment(files, "green")).result()
    module_standin.inject("killed-mid-rollout")
    with pytest.raises((ServiceRequestError, ServiceResponseError)):
        set_traffic(client, ENDPOINT, {"blue": 90, "green": 10})
    assert module_standin.caller_killed.is_set()  # what a harness waits for before killing the process
    dropped = [r for r in module_standin.requests() if r.fault == "killed-mid-rollout"]
    assert len(dropped) > 1  # the change itself and azure-core's retries: nothing answered once "killed"
    module_standin.clear()
    assert client.online_endpoints.get(ENDPOINT).traffic == {"blue": 90, "green": 10}
    assert not module_standin.caller_killed.is_set()
