"""`mlops train` against an in-memory workspace: what it creates, how it fails, and that reruns converge."""

from __future__ import annotations

import argparse

import pytest
from azure.ai.ml.entities import AmlCompute
from azure_fixtures import CI_ENV, COMMIT, FAST, NEXT_COMMIT, QUICK, make_plan
from fake_workspace import Crash, FakeMLClient, Workspace, http_error

from mlops.azureml.training import JobFailed, run_training_job
from mlops.commands import _azure
from mlops.errors import MlopsError

HAPPY_CALLS = [
    "models.list", "compute.get", "compute.begin_create_or_update", "environments.get",
    "environments.create_or_update", "data.get", "data.create_or_update", "data.get", "data.create_or_update",
    "jobs.get", "jobs.create_or_update",
    "jobs.get", "jobs.get", "jobs.get", "jobs.download", "models.list", "models.create_or_update",
]


@pytest.fixture(scope="module")
def repo(baked_once):
    return baked_once()


def with_cluster(max_instances: int, min_instances: int = 0, idle_seconds: int = 600) -> FakeMLClient:
    """A workspace that already has the config's cluster (cpu-cluster, Standard_DS11_v2) at this size."""
    client = FakeMLClient()
    client.workspace.computes["cpu-cluster"] = AmlCompute(name="cpu-cluster", size="Standard_DS11_v2",
                                                          min_instances=min_instances, max_instances=max_instances,
                                                          idle_time_before_scale_down=idle_seconds)
    return client


def test_fresh_workspace_gets_compute_environment_data_job_and_a_tagged_model(repo):
    client = FakeMLClient()
    result = run_training_job(client, make_plan(repo), FAST, log=lambda line: None, deadlines=QUICK)
    ws = client.workspace
    assert ws.calls == HAPPY_CALLS
    assert ws.computes["cpu-cluster"].max_instances == 1
    plan_data = make_plan(repo).documents["data-training_data.yml"]
    assert ("iris-classifier-data", plan_data["version"]) in ws.data_assets  # the content's version
    assert result.job_name == "iris-classifier-4242" and ws.jobs[result.job_name].status == "Completed"
    model = ws.models[("iris-classifier-model", "1")]
    assert model.path == "azureml://jobs/iris-classifier-4242/outputs/artifacts/paths/outputs/"
    assert {k: v for k, v in model.tags.items() if not k.startswith("gate")} == {
        "git_commit": COMMIT, "pull_request": "7", "job": "iris-classifier-4242",
        "accuracy": "0.9737", "f1_macro": "0.9733"}
    assert result.metrics == {"accuracy": 0.9737, "f1_macro": 0.9733}
    assert result.studio_url == "https://ml.azure.com/runs/iris-classifier-4242"


def test_unchanged_spec_reuses_the_environment_and_existing_data(repo):
    client = FakeMLClient()
    run_training_job(client, make_plan(repo), FAST, log=lambda line: None, deadlines=QUICK)
    client.workspace.calls.clear()
    run_training_job(client, make_plan(repo, NEXT_COMMIT, env={"GITHUB_RUN_ID": "4243"}), FAST, log=lambda _: None,
          deadlines=QUICK)
    assert "environments.create_or_update" not in client.workspace.calls
    assert "data.create_or_update" not in client.workspace.calls
    assert sorted(client.workspace.models) == [("iris-classifier-model", "1"), ("iris-classifier-model", "2")]


def test_a_bigger_existing_cluster_is_never_shrunk_and_the_log_says_so(repo):
    client = with_cluster(max_instances=8)
    lines = []
    run_training_job(client, make_plan(repo), FAST, log=lines.append, deadlines=QUICK)
    assert client.workspace.computes["cpu-cluster"].max_instances == 8
    assert "compute.begin_create_or_update" not in client.workspace.calls
    assert any("never shrinks a cluster" in line and "8 nodes" in line for line in lines)


def test_a_smaller_existing_cluster_grows_to_the_config(repo):
    client = with_cluster(max_instances=0)
    run_training_job(client, make_plan(repo), FAST, log=lambda line: None, deadlines=QUICK)
    assert client.workspace.computes["cpu-cluster"].max_instances == 1


def test_failed_job_reports_status_reason_log_tail_and_link_and_registers_nothing(repo):
    client = FakeMLClient()
    client.workspace.job_failure = "could not convert string to float: 'setosa'"
    with pytest.raises(JobFailed) as caught:
        run_training_job(client, make_plan(repo), FAST, log=lambda line: None, deadlines=QUICK)
    failure = caught.value
    assert failure.status == "Failed"
    assert failure.reason == "could not convert string to float: 'setosa'"
    assert failure.log_tail[-1] == "ValueError: could not convert string to float: 'setosa'"
    assert len(failure.log_tail) == 40
    assert failure.studio_url == "https://ml.azure.com/runs/iris-classifier-4242"
    assert client.workspace.models == {}


def test_quota_error_names_the_quota(repo):
    client = FakeMLClient()
    client.workspace.errors["compute.begin_create_or_update"].append(http_error(
        400, "QuotaExceeded", "Operation could not be completed as it results in exceeding approved "
                              "standardDSv2Family Cores quota. Current usage/limit: 10/10. Additional needed: 2"))
    with pytest.raises(MlopsError, match=r"not enough quota: standardDSv2Family in westeurope "
                                         r"\(in use 10 of 10 vCPUs, 2 more needed\)"):
        run_training_job(client, make_plan(repo), FAST, log=lambda line: None, deadlines=QUICK)


def test_transient_429_and_503_are_retried(repo):
    client = FakeMLClient()
    for operation in ("compute.get", "jobs.create_or_update", "models.create_or_update", "jobs.download"):
        client.workspace.transient[operation] = [429, 503]
    slept = []
    policy = FAST.__class__(attempts=4, base_seconds=0.001, sleep=slept.append)
    result = run_training_job(client, make_plan(repo), policy, log=lambda line: None, deadlines=QUICK)
    assert result.model_version == "1" and len(client.workspace.jobs) == 1
    assert len(slept) == 8 and slept[:2] == [0.001, 0.002]


def test_persistent_throttling_gives_up_after_the_attempts(repo):
    client = FakeMLClient()
    client.workspace.transient["jobs.create_or_update"] = [429] * 10
    with pytest.raises(Exception, match="TooManyRequests"):
        run_training_job(client, make_plan(repo), FAST, log=lambda line: None, deadlines=QUICK)
    assert client.workspace.jobs == {}


@pytest.mark.parametrize("crash_after", range(1, 6))
def test_rerun_after_a_crash_at_any_point_converges(repo, crash_after):
    ws = Workspace()
    ws.crash_after = crash_after
    with pytest.raises(Crash):
        run_training_job(FakeMLClient(ws), make_plan(repo), FAST, log=lambda line: None, deadlines=QUICK)
    result = run_training_job(FakeMLClient(ws), make_plan(repo), FAST, log=lambda line: None, deadlines=QUICK)
    assert list(ws.jobs) == ["iris-classifier-4242"]
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
    assert "studio: https://ml.azure.com/runs/iris-classifier-4242" in out
    monkeypatch.setattr(_azure, "connect", lambda project: FakeMLClient())
    assert command.run(args) == 0
    text = summary.read_text()
    assert "**Failed:** training job iris-classifier-4242 ended Failed: out of memory" in text
    assert "[iris-classifier-4242](https://ml.azure.com/runs/iris-classifier-4242)" in text
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


def test_a_rerun_attempt_follows_the_job_the_first_attempt_submitted(repo):
    client = FakeMLClient()
    first = run_training_job(client, make_plan(repo, env={"GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "1"}), FAST,
                  log=lambda line: None, deadlines=QUICK)
    client.workspace.models.clear()  # even with no model registered yet, attempt 2 must not train again
    lines = []
    second = run_training_job(client, make_plan(repo, env={"GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "2"}), FAST,
                   log=lines.append, deadlines=QUICK)
    assert second.job_name == first.job_name == "iris-classifier-4242"
    assert client.workspace.calls.count("jobs.create_or_update") == 1
    assert any("already submitted by this workflow run (Completed), following it" in line for line in lines)


def test_a_rerun_after_a_failed_job_trains_again_under_the_next_name(repo):
    client = FakeMLClient()
    client.workspace.job_failure = "out of memory"
    with pytest.raises(JobFailed):
        run_training_job(client, make_plan(repo), FAST, log=lambda line: None, deadlines=QUICK)
    client.workspace.job_failure = None
    result = run_training_job(client, make_plan(repo, env={**CI_ENV, "GITHUB_RUN_ATTEMPT": "2"}), FAST,
                   log=lambda line: None, deadlines=QUICK)
    assert result.job_name == "iris-classifier-4242-2"
    model = client.workspace.models[("iris-classifier-model", "1")]
    assert model.path == "azureml://jobs/iris-classifier-4242-2/outputs/artifacts/paths/outputs/"
    assert model.tags["job"] == "iris-classifier-4242-2"


def test_a_dispatch_on_an_unchanged_commit_registers_nothing_new(repo):
    client = FakeMLClient()
    run_training_job(client, make_plan(repo), FAST, log=lambda line: None, deadlines=QUICK)
    client.workspace.calls.clear()
    lines = []
    again = run_training_job(client, make_plan(repo, env={"GITHUB_RUN_ID": "5000"}), FAST, log=lines.append,
                             deadlines=QUICK)
    assert list(client.workspace.models) == [("iris-classifier-model", "1")] and len(client.workspace.jobs) == 1
    assert (again.model_version, again.job_name, again.reused) == ("1", "iris-classifier-4242", True)
    assert again.metrics == {"accuracy": 0.9737, "f1_macro": 0.9733}
    assert "nothing to train" in lines[0]
    assert "jobs.create_or_update" not in client.workspace.calls


def test_a_lost_answer_after_the_job_submission_follows_the_job_instead_of_submitting_it_again(repo):
    client = FakeMLClient()
    client.workspace.lose_job_answer = True
    lines = []
    result = run_training_job(client, make_plan(repo), FAST, log=lines.append, deadlines=QUICK)
    assert client.workspace.calls.count("jobs.create_or_update") == 1
    assert result.job_name == "iris-classifier-4242" and result.model_version == "1"
    assert any("the answer was lost (ServiceResponseError), but Azure did it" in line for line in lines)


def test_a_job_that_cannot_start_says_why_after_the_deadline(repo):
    from mlops.azureml.job_watch import Deadlines, JobStuck

    client = FakeMLClient()
    client.workspace.job_never_starts = True
    clock = iter(range(0, 10_000, 60))  # a minute passes between reads
    deadlines = Deadlines(start_minutes=5, poll_seconds=0, first_poll_seconds=0, clock=lambda: next(clock),
                          sleep=lambda seconds: None)
    with pytest.raises(JobStuck, match=r"training job iris-classifier-4242 is still Queued after 5 minutes: cluster "
                                       r"'cpu-cluster' \(Standard_DS11_v2, at most 1 nodes\) has not started a node "
                                       r".*vCPU quota.*rerun `mlops train` to keep following it"):
        run_training_job(client, make_plan(repo), FAST, log=lambda line: None, deadlines=deadlines)
    assert client.workspace.jobs["iris-classifier-4242"].status == "Queued"  # left in Azure, not canceled
    assert "jobs.stream" not in client.workspace.calls


def test_a_cluster_update_refused_with_403_leaves_the_cluster_and_warns_naming_the_role(repo):
    client = with_cluster(max_instances=0)
    client.workspace.errors["compute.begin_create_or_update"].append(http_error(
        403, "AuthorizationFailed", "The client 'x' does not have authorization to perform action "
                                    "'Microsoft.MachineLearningServices/workspaces/computes/write' over scope "
                                    "'/subscriptions/12345678-1234-1234-1234-123456789012/resourceGroups/rg'"))
    lines = []
    result = run_training_job(client, make_plan(repo), FAST, log=lines.append, deadlines=QUICK)
    assert result.model_version == "1"
    warning = next(line for line in lines if "refused the update (403)" in line)
    assert "AzureML Compute Operator" in warning and "12345678-1234" not in warning


def test_a_cluster_that_only_idles_differently_is_not_updated(repo):
    client = with_cluster(max_instances=1, min_instances=1, idle_seconds=120)
    lines = []
    run_training_job(client, make_plan(repo), FAST, log=lines.append, deadlines=QUICK)
    assert "compute.begin_create_or_update" not in client.workspace.calls
    assert any("idle_time_before_scale_down 120, the config says idle_seconds_before_scaledown 600: left as is"
               in line for line in lines)


def test_training_from_a_dirty_working_tree_warns_that_the_commit_does_not_describe_the_code(repo):
    from mlops.azureml.provenance import Provenance
    from mlops.azureml.release_plan import write_plan
    from mlops.project import load_project

    provenance = Provenance(COMMIT, uncommitted=("train.py",))
    plan = write_plan(load_project(repo), provenance, CI_ENV, repo / "build" / "azureml-dirty")
    lines = []
    run_training_job(FakeMLClient(), plan, FAST, log=lines.append, deadlines=QUICK)
    assert lines[0] == ("warning: the working tree has 1 uncommitted change(s) (train.py): the job is tagged "
                        f"git_commit={COMMIT[:12]}, which does not describe the code it runs; commit first to make "
                        "the model traceable")


@pytest.mark.parametrize("status", [403, 400, "validation"])
def test_expected_azure_refusals_are_one_line_errors_with_the_fix(repo, status, monkeypatch):
    from azure.ai.ml.exceptions import ErrorTarget, ValidationException

    from mlops.commands import train as command

    monkeypatch.setenv("GITHUB_SHA", COMMIT)
    client = FakeMLClient()
    if status == "validation":
        refusal = ValidationException(message="Compute 'cpu-cluster' size is empty", no_personal_data_message="x",
                                      target=ErrorTarget.JOB)
        expected = "azure-ai-ml refused the request before sending it: Compute 'cpu-cluster' size is empty"
    elif status == 403:
        refusal = http_error(403, "AuthorizationFailed", "The client 'x' does not have authorization over scope "
                                                         "'/subscriptions/12345678-1234-1234-1234-123456789012/rg'")
        expected = (r"Azure refused it \(403\): \(AuthorizationFailed\) .*/subscriptions/\*\*\*/rg.*needs the "
                    "AzureML Data Scientist role on the workspace")
    else:
        refusal = http_error(400, "UserError", "Environment image 'nope' is not a valid image reference")
        expected = r"Azure refused the request \(400\): \(UserError\) Environment image 'nope' .*fix the value"
    client.workspace.errors["environments.create_or_update"].append(refusal)
    monkeypatch.setattr(_azure, "connect", lambda project: client)
    with pytest.raises(MlopsError, match=expected) as caught:
        command.run(argparse.Namespace(project_dir=repo))
    assert "\n" not in str(caught.value)


def test_a_job_s_status_is_read_at_most_as_far_apart_as_azure_ai_ml_s_own_setting_says():
    from mlops.azureml.job_watch import longest_poll_seconds

    assert longest_poll_seconds({}) == 15
    assert longest_poll_seconds({"AZUREML_RUN_POLLING_INTERVAL_MAX": "1"}) == 1  # what the stand-in sets
    assert longest_poll_seconds({"AZUREML_RUN_POLLING_INTERVAL_MAX": "soon"}) == 15
    assert longest_poll_seconds({"AZUREML_RUN_POLLING_INTERVAL_MAX": "0"}) == 15
