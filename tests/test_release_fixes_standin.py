"""The release fixes, driven through the unmodified azure-ai-ml client and the stand-in (127.0.0.1 only).

Each test fails on the toolkit before its fix: the fake of tests/fake_workspace.py could not show
what the SDK really returns (a JobStatus enum member, a 403 body, a retried PUT).
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from azure_fixtures import COMMIT, FAST, make_plan
from standin_helpers import project_files, training_entities
from standin_serving import release_entities, serving_files

from conftest import bake
from mlops.azureml.compute import ensure_compute
from mlops.azureml.deployment import DeploymentFailed, prepare_release, roll_out
from mlops.azureml.faults import explain_refusal, is_name_taken
from mlops.azureml.job_watch import Deadlines, JobStuck, status_of, wait_for_job
from mlops.azureml.retry import call
from mlops.azureml.training import submit_job

pytest_plugins = ["mlops.standin.fixtures"]
pytestmark = pytest.mark.slow  # real jobs and deployments through the stand-in
NEW = f"c{COMMIT[:8]}"


@pytest.fixture
def ml_client(standin_client):
    """The stand-in's MLClient (the fixture is named standin_client in mlops.standin.fixtures)."""
    return standin_client
QUICK = Deadlines(poll_seconds=0.5, first_poll_seconds=0.2)


def prepared_job(client, tmp_path, name: str = "train-1"):
    """The cluster, environment and data in place; the command job, not yet submitted."""
    compute, environment, data, job = training_entities(project_files(tmp_path / "project"), name)
    client.compute.begin_create_or_update(compute).result()
    client.environments.create_or_update(environment)
    client.data.create_or_update(data)
    return job


def test_a_job_is_followed_to_completed_by_polling_its_status(ml_client, tmp_path):
    job = submit_job(ml_client, prepared_job(ml_client, tmp_path), FAST, log=lambda line: None)
    lines = []
    finished = wait_for_job(ml_client, job.name, "cpu-cluster", QUICK, FAST, log=lines.append)
    assert status_of(finished) == "Completed"  # the SDK's status is an enum member: str() says JobStatus.COMPLETED
    assert lines[-1] == "  train-1: Completed"


def test_a_queued_job_that_cannot_start_says_why_and_is_left_in_azure(ml_client, standin, tmp_path):
    standin.inject("job-queued:seconds=60")
    job = submit_job(ml_client, prepared_job(ml_client, tmp_path), FAST, log=lambda line: None)
    deadlines = Deadlines(start_minutes=0.05, poll_seconds=0.5, first_poll_seconds=0.2)
    with pytest.raises(JobStuck, match=r"training job train-1 is still Queued after 0.05 minutes: cluster "
                                       r"'cpu-cluster' \(Standard_DS3_v2, at most 2 nodes\) has not started a node"):
        wait_for_job(ml_client, job.name, "cpu-cluster", deadlines, FAST, log=lambda line: None)
    assert status_of(ml_client.jobs.get("train-1")) == "Queued"


def test_a_lost_answer_to_the_job_submission_is_followed_not_submitted_again(ml_client, standin, tmp_path):
    job = prepared_job(ml_client, tmp_path)
    standin.inject("lost-response")
    lines = []
    submitted = submit_job(ml_client, job, FAST, log=lines.append)
    assert submitted.name == "train-1"
    assert any("the answer was lost" in line and "but Azure did it" in line for line in lines)
    puts = [r for r in standin.requests() if r.method == "PUT" and r.path.endswith("/jobs/train-1")]
    assert len(puts) == 4  # azure-core's own resends only: the toolkit sent nothing more


def test_a_refused_cluster_update_leaves_the_cluster_and_warns_naming_the_role(ml_client, standin):
    from azure.ai.ml.entities import AmlCompute

    ml_client.compute.begin_create_or_update(AmlCompute(name="cpu-cluster", size="Standard_DS3_v2",
                                                        max_instances=1)).result()
    standin.inject("compute-update-forbidden")
    lines = []
    desired = AmlCompute(name="cpu-cluster", size="Standard_DS3_v2", min_instances=0, max_instances=4,
                         idle_time_before_scale_down=120)
    change = ensure_compute(ml_client, desired, "westeurope", FAST, log=lines.append)
    assert change.action == "keep" and ml_client.compute.get("cpu-cluster").max_instances == 1
    assert any("refused the update (403)" in line and "AzureML Compute Operator" in line for line in lines)
    assert standin.subscription_id not in "\n".join(lines)


def test_a_409_for_an_operation_in_flight_is_retried_and_not_read_as_a_taken_name(ml_client, standin):
    from azure.ai.ml.entities import ManagedOnlineEndpoint
    from azure.core.exceptions import HttpResponseError

    endpoint = ManagedOnlineEndpoint(name="svc-inflight", auth_mode="key")
    standin.inject("conflict-in-flight")
    with pytest.raises(HttpResponseError) as conflict:
        ml_client.online_endpoints.begin_create_or_update(endpoint).result()
    assert conflict.value.status_code == 409 and not is_name_taken(conflict.value)
    standin.inject("conflict-in-flight")
    call(FAST, "online_endpoints.begin_create_or_update",
         lambda: ml_client.online_endpoints.begin_create_or_update(endpoint).result(), log=lambda line: None)
    assert ml_client.online_endpoints.get("svc-inflight").provisioning_state == "Succeeded"


def test_a_403_from_azure_is_one_line_naming_the_role(ml_client, standin):
    from azure.ai.ml.entities import AmlCompute
    from azure.core.exceptions import HttpResponseError

    cluster = AmlCompute(name="cpu-cluster", size="Standard_DS3_v2", max_instances=1)
    ml_client.compute.begin_create_or_update(cluster).result()
    standin.inject("compute-update-forbidden")
    cluster.max_instances = 2
    with pytest.raises(HttpResponseError) as refused:
        ml_client.compute.begin_create_or_update(cluster).result()
    message = str(explain_refusal(refused.value))
    assert message.startswith("Azure refused it (403): (AuthorizationFailed) ") and "\n" not in message
    assert "AzureML Data Scientist" in message and standin.subscription_id not in message


def test_a_cluster_grows_to_the_config_with_a_put_the_sdk_accepts(ml_client, standin):
    from azure.ai.ml.entities import AmlCompute

    ml_client.compute.begin_create_or_update(AmlCompute(name="cpu-cluster", size="Standard_DS3_v2",
                                                        max_instances=1)).result()
    desired = AmlCompute(name="cpu-cluster", size="Standard_DS3_v2", min_instances=0, max_instances=3,
                         idle_time_before_scale_down=600)
    change = ensure_compute(ml_client, desired, "westeurope", FAST, log=lambda line: None)
    assert change.action == "update" and ml_client.compute.get("cpu-cluster").max_instances == 3


def test_a_deployment_still_being_created_at_the_timeout_is_not_deleted_and_a_rerun_follows_it(ml_client, standin,
                                                                                               tmp_path):
    """``LROPoller.result(timeout)`` returns while Azure still creates the deployment: deleting it then is a 409."""
    from azure.ai.ml.entities import Model

    repo = bake(tmp_path / "repo")
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model.pkl").write_bytes(b"not a real model: this deployment never starts")
    ml_client.models.create_or_update(Model(name="iris-classifier-model", path=str(tmp_path / "model"),
                                            type="custom_model", tags={"git_commit": COMMIT, "job": "job-1"}))
    standin.inject("never-healthy:seconds=120")  # its container never gets ready: Creating for 2 minutes
    release = replace(prepare_release(ml_client, make_plan(repo, COMMIT), FAST, log=lambda line: None),
                      timeout_seconds=3)
    lines = []
    with pytest.raises(DeploymentFailed, match=f"{NEW} was still Creating after 0 minutes.*traffic left as it was "
                                               f"\\(no traffic \\(first release\\)\\); {NEW} is left in place: "
                                               "Azure refuses to delete"):
        roll_out(ml_client, release, FAST, log=lines.append, sleep=lambda seconds: None)
    deployment = f"/onlineEndpoints/iris-classifier-svc/deployments/{NEW}"
    assert not [r for r in standin.requests() if r.method == "DELETE" and r.path.endswith(deployment)]
    assert ml_client.online_deployments.get(NEW, "iris-classifier-svc").provisioning_state == "Creating"
    lines.clear()
    with pytest.raises(DeploymentFailed, match=f"{NEW} was still Creating"):  # the rerun follows it, no new PUT
        roll_out(ml_client, release, FAST, log=lines.append, sleep=lambda seconds: time.sleep(0.5))
    assert any(f"{NEW} is still Creating from an earlier attempt: waiting for it" in line for line in lines)
    puts = [r for r in standin.requests() if r.method == "PUT" and r.path.endswith(deployment)]
    assert len(puts) == 1


def test_a_kubernetes_rollback_after_a_mirror_step_clears_the_mirror(ml_client, standin, tmp_path):
    """The SDK's ``KubernetesOnlineEndpoint`` drops ``mirror_traffic`` when it reads the endpoint: without reading
    it from the REST resource, a rollback after the mirror step left the mirror on (and Azure refuses to delete
    a deployment that gets mirrored traffic)."""
    from azure.ai.ml.entities import (
        CodeConfiguration,
        KubernetesOnlineDeployment,
        KubernetesOnlineEndpoint,
        ResourceRequirementsSettings,
        ResourceSettings,
    )

    from mlops.azureml.deployment import Release, read_endpoint

    files = serving_files(tmp_path)
    environment, model, _ = release_entities(files)
    ml_client.models.create_or_update(model)

    def release(name: str, rollout: list) -> Release:
        endpoint = KubernetesOnlineEndpoint(name="k8s-ep", compute="aks-prod", auth_mode="key")
        deployment = KubernetesOnlineDeployment(
            name=name, endpoint_name="k8s-ep", model="azureml:standin-model:1", environment="azureml:serving-env:1",
            instance_count=1, code_configuration=CodeConfiguration(code=str(files["code"]), scoring_script="score.py"),
            resources=ResourceRequirementsSettings(requests=ResourceSettings(cpu="0.5", memory="1Gi")))
        return Release(endpoint, deployment, environment, "standin-model:1", files["request"], rollout, 0, 300,
                       "", "westeurope")

    roll_out(ml_client, release("blue", []), FAST, log=lambda line: None)

    def green_breaks(seconds):  # once the mirror is on, Azure reports the new deployment Failed
        store = standin.ctx.store
        with store.lock:
            rid, green = next((k, v) for k, v in store.items("resources") if k.lower().endswith("/deployments/green"))
            green["properties"]["provisioningState"] = "Failed"
            store.put("resources", rid, green)

    lines = []
    with pytest.raises(DeploymentFailed, match="green is Failed, not ready; traffic left as it was \\(blue 100%\\); "
                                               "green deleted$"):
        roll_out(ml_client, release("green", [{"mirror": 20}]), FAST, log=lines.append, sleep=green_breaks)
    assert any("mirrored: green 20%" in line for line in lines)
    assert ml_client.online_endpoints.get("k8s-ep").mirror_traffic == {}  # what the SDK shows, either way
    endpoint = read_endpoint(ml_client, "k8s-ep", FAST, log=lambda line: None)
    assert endpoint.mirror_traffic == {} and endpoint.traffic == {"blue": 100}
    assert [d.name for d in ml_client.online_deployments.list(endpoint_name="k8s-ep")] == ["blue"]
