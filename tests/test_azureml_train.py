"""`mlops train` against an in-memory workspace: what it creates, how it fails, and that reruns converge."""

from __future__ import annotations

import argparse

import pytest
from azure.ai.ml.entities import AmlCompute
from azure_fixtures import CI_ENV, COMMIT, FAST, make_plan
from fake_workspace import Crash, FakeMLClient, Workspace, http_error

from conftest import bake
from mlops.azureml.training import JobFailed, run_training_job
from mlops.commands import _azure
from mlops.errors import MlopsError

HAPPY_CALLS = [
    "compute.get", "compute.begin_create_or_update", "environments.get", "environments.create_or_update",
    "data.get", "data.create_or_update", "jobs.get", "jobs.create_or_update", "jobs.stream", "jobs.get",
    "jobs.download", "models.list", "models.create_or_update",
]


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return bake(tmp_path_factory.mktemp("train"))


def test_fresh_workspace_gets_compute_environment_data_job_and_a_tagged_model(repo):
    client = FakeMLClient()
    result = run_training_job(client, make_plan(repo), FAST, log=lambda line: None)
    ws = client.workspace
    assert ws.calls == HAPPY_CALLS
    assert ws.computes["cpu-cluster"].max_instances == 1
    plan_data = make_plan(repo).documents["data-training_data.yml"]
    assert list(ws.data_assets) == [("iris-classifier-data", plan_data["version"])]  # the content's version
    assert result.job_name == "iris-classifier-4242-1" and ws.jobs[result.job_name].status == "Completed"
    model = ws.models[("iris-classifier-model", "1")]
    assert model.path == "azureml://jobs/iris-classifier-4242-1/outputs/artifacts/paths/outputs/"
    assert model.tags == {"git_commit": COMMIT, "pull_request": "7", "job": "iris-classifier-4242-1",
                          "accuracy": "0.9737", "f1_macro": "0.9733"}
    assert result.metrics == {"accuracy": 0.9737, "f1_macro": 0.9733}
    assert result.studio_url == "https://ml.azure.com/runs/iris-classifier-4242-1"


def test_unchanged_spec_reuses_the_environment_and_existing_data(repo):
    client = FakeMLClient()
    run_training_job(client, make_plan(repo), FAST, log=lambda line: None)
    client.workspace.calls.clear()
    rerun = make_plan(repo, env={"GITHUB_RUN_ID": "4243", "GITHUB_RUN_ATTEMPT": "1"})
    run_training_job(client, rerun, FAST, log=lambda _: None)
    assert "environments.create_or_update" not in client.workspace.calls
    assert "data.create_or_update" not in client.workspace.calls
    assert sorted(client.workspace.models) == [("iris-classifier-model", "1"), ("iris-classifier-model", "2")]


def test_a_bigger_existing_cluster_is_never_shrunk_and_the_log_says_so(repo):
    client = FakeMLClient()
    client.workspace.computes["cpu-cluster"] = AmlCompute(name="cpu-cluster", size="Standard_DS11_v2",
                                                          min_instances=0, max_instances=8,
                                                          idle_time_before_scale_down=600)
    lines = []
    run_training_job(client, make_plan(repo), FAST, log=lines.append)
    assert client.workspace.computes["cpu-cluster"].max_instances == 8
    assert "compute.begin_create_or_update" not in client.workspace.calls
    assert any("never shrinks a cluster" in line and "8 nodes" in line for line in lines)


def test_a_smaller_existing_cluster_grows_to_the_config(repo):
    client = FakeMLClient()
    client.workspace.computes["cpu-cluster"] = AmlCompute(name="cpu-cluster", size="Standard_DS11_v2",
                                                          min_instances=0, max_instances=0,
                                                          idle_time_before_scale_down=600)
    run_training_job(client, make_plan(repo), FAST, log=lambda line: None)
    assert client.workspace.computes["cpu-cluster"].max_instances == 1


def test_failed_job_reports_status_reason_log_tail_and_link_and_registers_nothing(repo):
    client = FakeMLClient()
    client.workspace.job_failure = "could not convert string to float: 'setosa'"
    with pytest.raises(JobFailed) as caught:
        run_training_job(client, make_plan(repo), FAST, log=lambda line: None)
    failure = caught.value
    assert failure.status == "Failed"
    assert failure.reason == "could not convert string to float: 'setosa'"
    assert failure.log_tail[-1] == "ValueError: could not convert string to float: 'setosa'"
    assert len(failure.log_tail) == 40
    assert failure.studio_url == "https://ml.azure.com/runs/iris-classifier-4242-1"
    assert client.workspace.models == {}


def test_quota_error_names_the_quota(repo):
    client = FakeMLClient()
    client.workspace.errors["compute.begin_create_or_update"].append(http_error(
        400, "QuotaExceeded", "Operation could not be completed as it results in exceeding approved "
                              "standardDSv2Family Cores quota. Current usage/limit: 10/10. Additional needed: 2"))
    with pytest.raises(MlopsError, match=r"not enough quota: standardDSv2Family in westeurope "
                                         r"\(in use 10 of 10 vCPUs, 2 more needed\)"):
        run_training_job(client, make_plan(repo), FAST, log=lambda line: None)


def test_transient_429_and_503_are_retried(repo):
    client = FakeMLClient()
    for operation in ("compute.get", "jobs.create_or_update", "models.create_or_update", "jobs.stream"):
        client.workspace.transient[operation] = [429, 503]
    slept = []
    policy = FAST.__class__(attempts=4, base_seconds=0.001, sleep=slept.append)
    result = run_training_job(client, make_plan(repo), policy, log=lambda line: None)
    assert result.model_version == "1" and len(client.workspace.jobs) == 1
    assert len(slept) == 8 and slept[:2] == [0.001, 0.002]


def test_persistent_throttling_gives_up_after_the_attempts(repo):
    client = FakeMLClient()
    client.workspace.transient["jobs.create_or_update"] = [429] * 10
    with pytest.raises(Exception, match="TooManyRequests"):
        run_training_job(client, make_plan(repo), FAST, log=lambda line: None)
    assert client.workspace.jobs == {}


@pytest.mark.parametrize("crash_after", range(1, 6))
def test_rerun_after_a_crash_at_any_point_converges(repo, crash_after):
    ws = Workspace()
    ws.crash_after = crash_after
    with pytest.raises(Crash):
        run_training_job(FakeMLClient(ws), make_plan(repo), FAST, log=lambda line: None)
    result = run_training_job(FakeMLClient(ws), make_plan(repo), FAST, log=lambda line: None)
    assert list(ws.jobs) == ["iris-classifier-4242-1"]
    assert list(ws.models) == [("iris-classifier-model", "1")]
    assert result.model_version == "1"


def test_train_command_prints_the_failure_and_writes_the_step_summary(repo, tmp_path, monkeypatch, capsys):
    from mlops.commands import train as command

    summary = tmp_path / "summary.md"
    for name, value in {**CI_ENV, "GITHUB_SHA": COMMIT, "GITHUB_STEP_SUMMARY": str(summary)}.items():
        monkeypatch.setenv(name, value)
    args = argparse.Namespace(project_dir=repo)
    failing = FakeMLClient()
    failing.workspace.job_failure = "out of memory"
    monkeypatch.setattr(_azure, "connect", lambda project: failing)
    with pytest.raises(JobFailed):
        command.run(args)
    out = capsys.readouterr().out
    assert "status: Failed" in out and "reason: out of memory" in out and "ValueError: out of memory" in out
    assert "studio: https://ml.azure.com/runs/iris-classifier-4242-1" in out
    monkeypatch.setattr(_azure, "connect", lambda project: FakeMLClient())
    assert command.run(args) == 0
    text = summary.read_text()
    assert "**Failed:** training job iris-classifier-4242-1 ended Failed: out of memory" in text
    assert "[iris-classifier-4242-1](https://ml.azure.com/runs/iris-classifier-4242-1)" in text
    assert "| accuracy | 0.9737 |" in text and "`iris-classifier-model:1`" in text


def test_train_without_a_subscription_fails_in_one_line_before_any_login(repo):
    from conftest import mlops

    env = {"AZURE_SUBSCRIPTION_ID": "", "GITHUB_ACTIONS": "", "ACTIONS_ID_TOKEN_REQUEST_URL": "",
           "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "", "GITHUB_SHA": COMMIT}
    result = mlops("train", cwd=repo, env=env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: AzureConfig: subscription_id is not set: set AZURE_SUBSCRIPTION_ID in .env (the GitHub secret "
        "in Actions) or subscription_id in azure-config.json"]
