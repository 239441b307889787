"""The stand-in of Azure ML, driven by the unmodified azure-ai-ml client and a real azure-identity credential.

Every request goes through the stand-in's proxy to 127.0.0.1; the request log proves which REST
calls the SDK made.
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import threading

import httpx
import psutil
import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from standin_helpers import project_files, submit_training

from mlops.standin import StandIn

pytest_plugins = ["mlops.standin.fixtures"]


def paths(standin: StandIn, method: str | None = None) -> list[str]:
    """The logged paths (host + path), optionally of one method."""
    return [f"{r.host}{r.path}" for r in standin.requests() if method in (None, r.method)]


def test_sign_in_with_a_client_secret_reaches_only_the_standin(standin):
    token = standin.credential().get_token("https://management.azure.com/.default")
    assert token.token.count(".") == 2
    logged = [(r.method, r.host) for r in standin.requests()]
    assert ("POST", "login.microsoftonline.com") in logged


def test_a_wrong_secret_is_refused_with_the_aadsts_code(standin):
    from azure.identity import ClientSecretCredential

    wrong = ClientSecretCredential(standin.ctx.identity.tenant_id, standin.ctx.identity.client_id, "not-the-secret")
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        wrong.get_token("https://management.azure.com/.default")


def test_a_client_assertion_signs_in_like_github_oidc(standin):
    from azure.identity import ClientAssertionCredential

    credential = ClientAssertionCredential(standin.ctx.identity.tenant_id, standin.ctx.identity.client_id,
                                           lambda: "header.payload.signature")
    workspace = standin.ml_client(credential=credential).workspaces.get("ws-standin")
    assert workspace.name == "ws-standin"


def test_workspace_get_answers_what_the_sdk_needs(standin_client, standin):
    workspace = standin_client.workspaces.get(standin_client.workspace_name)
    assert (workspace.location, workspace.discovery_url) == ("westeurope", "https://westeurope.api.azureml.ms/discovery")
    assert any(p.endswith("/workspaces/ws-standin") for p in paths(standin, "GET"))
    assert all(r.api_version for r in standin.requests() if r.host == "management.azure.com")


def test_management_requests_without_a_token_get_401(standin):
    with httpx.Client(proxy=standin.proxy_url, verify=ssl.create_default_context(cafile=standin.ca_bundle)) as client:
        answer = client.get(f"https://management.azure.com/subscriptions/{standin.subscription_id}/resourceGroups/"
                            "rg/providers/Microsoft.MachineLearningServices/workspaces/ws?api-version=2024-10-01")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "AuthenticationFailed"


def test_the_proxy_refuses_hosts_it_does_not_play(standin):
    with httpx.Client(proxy=standin.proxy_url, verify=ssl.create_default_context(cafile=standin.ca_bundle)) as client:
        with pytest.raises(httpx.ProxyError):
            client.get("https://pypi.org/simple/")
        answer = client.get("http://169.254.169.254/metadata/identity/oauth2/token")
    assert answer.status_code == 403
    refused = [r for r in standin.requests() if r.status == 403 and r.fault.startswith("refused")]
    assert [r.method for r in refused] == ["CONNECT", "GET"]


def test_a_missing_compute_is_a_404_the_sdk_raises_as_not_found(standin_client):
    with pytest.raises(ResourceNotFoundError):
        standin_client.compute.get("nothing-here")


@pytest.mark.slow  # a real job
def test_a_job_runs_streams_its_log_downloads_its_outputs_and_registers_a_model(standin_client, standin, tmp_path,
                                                                                 capsys):
    from azure.ai.ml.entities import Model

    files = project_files(tmp_path / "project")
    job = submit_training(standin_client, files)
    standin_client.jobs.stream(job.name)
    assert "training on 3 rows with 3 trees" in capsys.readouterr().out
    assert standin_client.jobs.get(job.name).status == "Completed"
    standin_client.jobs.download(job.name, download_path=str(tmp_path / "download"))
    artifacts = tmp_path / "download" / "artifacts"
    assert json.loads((artifacts / "outputs" / "metrics.json").read_text()) == {"rows": 3, "trees": 3}
    assert "training on 3 rows" in (artifacts / "user_logs" / "std_log.txt").read_text()
    model = standin_client.models.create_or_update(Model(name="standin-model", type="custom_model",
                                                    path=f"azureml://jobs/{job.name}/outputs/artifacts/paths/outputs/"))
    assert (model.name, model.version) == ("standin-model", "1")
    logged = paths(standin)
    for expected in ("/startPendingUpload", "/jobs/train-1", "/runs/train-1/details", "/rundata",
                     "/models/standin-model/versions/1", "/datastores/workspaceblobstore/listSecrets"):
        assert any(p.endswith(expected) for p in logged), expected


@pytest.mark.slow  # a real job
def test_a_job_name_is_taken_once(standin_client, tmp_path):
    files = project_files(tmp_path / "project")
    first = submit_training(standin_client, files)
    assert standin_client.jobs.create_or_update(first).name == first.name  # the same submission again: the same job
    from standin_helpers import training_entities

    *_, changed = training_entities(files)
    changed.command = "python train.py --data ${{inputs.data}} --trees 4"
    with pytest.raises(HttpResponseError, match="A job with this name already exists"):
        standin_client.jobs.create_or_update(changed)


@pytest.mark.slow  # a real job
def test_job_fails_fault_ends_the_job_failed_with_the_log_tail(standin_client, standin, tmp_path):
    from azure.ai.ml.exceptions import JobException

    standin.inject("job-fails")
    job = submit_training(standin_client, project_files(tmp_path / "project"))
    with pytest.raises(JobException, match="injected fault job-fails"):
        standin_client.jobs.stream(job.name)
    standin_client.jobs.download(job.name, download_path=str(tmp_path / "download"))
    log = (tmp_path / "download" / "artifacts" / "user_logs" / "std_log.txt").read_text()
    assert "Traceback" in log and "RuntimeError: injected fault job-fails" in log


@pytest.mark.slow  # a real job
def test_lost_response_fault_applies_the_submission_and_drops_every_answer(standin_client, standin, tmp_path):
    from azure.core.exceptions import ServiceRequestError, ServiceResponseError

    standin.inject("lost-response")
    with pytest.raises((ServiceRequestError, ServiceResponseError)):
        submit_training(standin_client, project_files(tmp_path / "project"))
    assert standin_client.jobs.get("train-1").name == "train-1"  # submitted, though no answer arrived
    puts = [r for r in standin.requests() if r.method == "PUT" and r.path.endswith("/jobs/train-1")]
    assert len(puts) == 4 and {r.fault for r in puts} == {"lost-response"}  # azure-core retried 3 times


@pytest.mark.slow  # a real job
def test_image_build_fails_fault_fails_the_job_in_preparing(standin_client, standin, tmp_path):
    from azure.ai.ml.exceptions import JobException

    standin.inject("image-build-fails")
    job = submit_training(standin_client, project_files(tmp_path / "project"))
    with pytest.raises(JobException, match="ImageBuildFailure"):
        standin_client.jobs.stream(job.name)
    assert standin_client.jobs.get(job.name).status == "Failed"


@pytest.mark.slow  # a real job
def test_job_queued_fault_holds_the_job_in_queued(standin_client, standin, tmp_path):
    standin.inject("job-queued:seconds=3")
    job = submit_training(standin_client, project_files(tmp_path / "project"))
    assert standin_client.jobs.get(job.name).status == "Queued"
    standin_client.jobs.stream(job.name)
    assert standin_client.jobs.get(job.name).status == "Completed"


@pytest.mark.slow  # a real job
def test_a_canceled_job_ends_canceled_and_its_processes_stop(standin_client, tmp_path):
    from mlops.standin.server import wait_for

    files = project_files(tmp_path / "project")
    (files["code"] / "train.py").write_text("import os, pathlib, time\n"
                                            "pathlib.Path('pid').write_text(str(os.getpid()))\n"
                                            "time.sleep(300)\n")
    job = submit_training(standin_client, files)
    pid_file = tmp_path / "standin" / "jobs" / job.name / "wd" / "pid"
    assert wait_for(pid_file.exists, 180)  # the environment is built, the command runs
    pid = int(pid_file.read_text())
    standin_client.jobs.begin_cancel(job.name).result()
    assert wait_for(lambda: standin_client.jobs.get(job.name).status == "Canceled", 30)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_compute_update_forbidden_fault_answers_403_to_an_update_only(standin_client, standin):
    from azure.ai.ml.entities import AmlCompute

    standin.inject("compute-update-forbidden")
    cluster = AmlCompute(name="cpu-cluster", size="Standard_DS3_v2", max_instances=2)
    standin_client.compute.begin_create_or_update(cluster).result()
    cluster.max_instances = 4
    with pytest.raises(HttpResponseError) as raised:
        standin_client.compute.begin_create_or_update(cluster).result()
    assert raised.value.status_code == 403 and "AuthorizationFailed" in str(raised.value)


def test_state_outlives_the_process(tmp_path, monkeypatch):
    state = tmp_path / "state"
    with StandIn(state) as first, first.environment():
        first.ml_client().environments.create_or_update(_environment(tmp_path))
    with StandIn(state) as second, second.environment():
        assert second.ml_client().environments.get("kept", version="1").name == "kept"


@pytest.mark.slow  # a real job
def test_a_job_running_when_the_stand_in_stops_is_left_running_and_the_next_one_finishes_it(tmp_path):
    from mlops.standin.fixtures import RESOURCE_GROUP, WORKSPACE, running_standin
    from mlops.standin.server import wait_for
    from mlops.standin.store import Store

    state = tmp_path / "state"
    files = project_files(tmp_path / "project")
    (files["code"] / "train.py").write_text("import pathlib, time\n"  # the first run outlives the stand-in
                                            "once = pathlib.Path('..') / 'started-once'\n"
                                            "if not once.exists():\n"
                                            "    once.write_text('')\n"
                                            "    pathlib.Path('pid').write_text('')\n"
                                            "    time.sleep(300)\n")
    with running_standin(state) as first:
        job = submit_training(first.ml_client(RESOURCE_GROUP, WORKSPACE), files)
        assert wait_for((state / "jobs" / job.name / "wd" / "pid").exists, 180)
    # stopped mid-run: in Azure the job keeps running, so the stand-in neither fails it nor writes after it stopped
    assert wait_for(lambda: not any(t.name == f"job {job.name}" for t in threading.enumerate()), 30)
    [stored] = [resource for rid, resource in Store(state).items("resources") if rid.endswith(f"/jobs/{job.name}")]
    assert stored["properties"]["status"] == "Running"
    with running_standin(state) as second:
        client = second.ml_client(RESOURCE_GROUP, WORKSPACE)
        assert wait_for(lambda: client.jobs.get(job.name).status in ("Completed", "Failed", "Canceled"), 120)
        assert client.jobs.get(job.name).status == "Completed"


def _environment(tmp_path):
    from azure.ai.ml.entities import Environment
    from standin_helpers import SPEC

    (tmp_path / "spec.yml").write_text(SPEC)
    return Environment(name="kept", version="1", image="mcr.microsoft.com/azureml/minimal-py311-inference",
                       conda_file=str(tmp_path / "spec.yml"))


def test_the_command_prints_the_client_variables_without_the_secret_and_stops_on_sigterm(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "mlops.standin", "--port", "0", "--state", str(tmp_path / "s"),
                                "--inject", "throttle:times=1"], stdout=subprocess.PIPE, text=True,
                               env={k: v for k, v in os.environ.items() if k != "MLOPS_STANDIN_URL"})
    try:
        lines = [process.stdout.readline() for _ in range(12)]
        exports = dict(line[len("export "):].strip().split("=", 1) for line in lines if line.startswith("export "))
        secret = (tmp_path / "s" / "client-secret").read_text()
        assert secret not in "".join(lines)
        proxy = exports["HTTPS_PROXY"]
        faults = httpx.get(f"{proxy}/_standin/faults").json()
        assert faults["armed"] == [{"name": "throttle", "times": 1}] and "never-healthy" in faults["known"]
        assert httpx.get(f"{proxy}/_standin/requests").json() == []
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0


def test_the_command_refuses_a_broken_state_file_in_one_line(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "state.json").write_text("{not json")
    result = subprocess.run([sys.executable, "-m", "mlops.standin", "--state", str(tmp_path / "s")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 's' / 'state.json'}:1: not a stand-in state file (invalid JSON): remove the state "
        "folder to start a fresh workspace"]
    assert "Traceback" not in result.stdout + result.stderr


def test_an_environment_built_behind_the_stand_in_reaches_the_package_index_without_its_proxy(standin, tmp_path,
                                                                                           monkeypatch):
    """A notebook kernel or a rehearsed command has the stand-in's client variables (its proxy, its CA); an
    environment it builds (``arun.serve()``'s, a smoke run's) must still reach the package index as it would
    without the stand-in, whose proxy refuses every host it does not play."""
    from mlops.runtime_env import ensure_venv
    from mlops.runtime_spec import load_runtime_spec

    spec = tmp_path / "environment.yml"
    spec.write_text("name: index-test\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n      - six==1.17.0\n")
    monkeypatch.setenv("MLOPS_CACHE_DIR", str(tmp_path / "environments"))  # not built yet
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))  # empty: uv has to ask the index
    assert os.environ["HTTPS_PROXY"] == standin.proxy_url
    python = ensure_venv(load_runtime_spec(spec, "environment.yml"), log=lambda line: None)
    assert subprocess.run([str(python), "-c", "import six"], check=False).returncode == 0
    assert [r for r in standin.requests() if r.status == 403] == []
