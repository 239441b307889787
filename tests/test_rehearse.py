"""`mlops rehearse`: the merge's train and deploy against the stand-in, a re-run that converges, and faults."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import bake, mlops, run
from mlops.rehearsal import Rehearsal, StepResult, operations, verdict, workflow_environment
from mlops.standin.requestlog import LoggedRequest

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
# what `mlops deploy`'s error line says for each fault (the stand-in words Azure's errors as Azure does)
EXPECTED = {"deployment-500": "answered 500", "image-build-fails": "(ImageBuildFailure) Image build failed",
            "never-healthy": "(ResourceNotReady) User container has crashed or terminated",
            "quota-exceeded": "not enough quota: standardDEFAULTFamily in westeurope"}


def commit_all(repo, message: str) -> str:
    run([*GIT, "add", "-A"], repo)
    run([*GIT, "commit", "-qm", message], repo)
    return run(["git", "rev-parse", "HEAD"], repo).stdout.strip()


def test_the_commands_get_the_stand_in_and_the_workflow_s_variables_and_no_login_of_their_own():
    env = workflow_environment(
        {"PATH": "/bin", "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": "/s", "ACTIONS_ID_TOKEN_REQUEST_URL": "u",
         "AZURE_CLIENT_SECRET": "real", "AZURE_AUTHORITY_HOST": "https://login.chinacloudapi.cn",
         "https_proxy": "http://corp:3128", "MLOPS_CACHE_DIR": "/cache", "MLOPS_WORKSPACE_NAME": "prod"},
        {"HTTPS_PROXY": "http://127.0.0.1:1", "AZURE_CLIENT_SECRET": "standin"}, "ab" * 20, Path("/st/summary.md"))
    assert env == {"PATH": "/bin", "MLOPS_CACHE_DIR": "/cache", "HTTPS_PROXY": "http://127.0.0.1:1",
                   "AZURE_CLIENT_SECRET": "standin", "GITHUB_SHA": "ab" * 20, "GITHUB_RUN_ID": "rehearsal-abababab",
                   "MLOPS_REHEARSAL": "1", "GITHUB_STEP_SUMMARY": str(Path("/st/summary.md"))}


def test_the_request_log_is_one_line_per_rest_operation_with_the_workspace_shortened():
    workspace = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws"
    requests = [LoggedRequest("GET", "management.azure.com", f"{workspace}/jobs/j", "2024-01-01-preview", 200),
                LoggedRequest("PUT", "management.azure.com", f"{workspace}/jobs/j", "2025-01-01-preview", 201),
                LoggedRequest("GET", "management.azure.com", f"{workspace}/jobs/j", "2024-01-01-preview", 200)]
    assert operations(requests) == [("GET", "{workspace}/jobs/j", "2024-01-01-preview", 2),
                                    ("PUT", "{workspace}/jobs/j", "2025-01-01-preview", 1)]


def test_a_failed_rehearsal_says_which_command_failed_and_whether_traffic_moved(tmp_path):
    result = Rehearsal(tmp_path, ["deployment-500"], [StepResult("train", 0), StepResult(
        "deploy", 1, "error: deployment cb answered 500: ...")], traffic_before={"ca": 100},
        traffic_after={"ca": 100, "cb": 0})
    assert verdict(result) == (1, "rehearsal with fault deployment-500: `mlops deploy` failed: deployment cb "
                                  "answered 500: ...; checked: traffic as before (ca 100%)")
    result.traffic_after = {"cb": 100}
    assert "TRAFFIC CHANGED from ca 100%" in verdict(result)[1]


@pytest.fixture(scope="module")
def rehearsed(tmp_path_factory):
    """A committed repo rehearsed once: the state folder holds a live release of its commit."""
    repo = bake(tmp_path_factory.mktemp("rehearse"))
    run(["git", "init", "-q"], repo)
    commit = commit_all(repo, "first")
    first = mlops("rehearse", cwd=repo)
    kept = repo.parent / "first-rehearsal"  # what later rehearsals overwrite
    kept.mkdir()
    for path in (repo / "build" / "rehearsal" / "step-summary.md", repo / "build" / "azureml" / "deployment.yml"):
        if path.exists():
            shutil.copy(path, kept / path.name)
    return repo, commit, first


@pytest.mark.slow  # `mlops rehearse`: real jobs and deployments
def test_a_rehearsal_trains_and_deploys_through_the_sdk_s_real_rest_paths(rehearsed):
    repo, commit, first = rehearsed
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    out = first.stdout
    for operation in ("PUT    {workspace}/computes/cpu-cluster  api-version=",
                      "PUT    {workspace}/jobs/iris-classifier-rehearsal-" + commit[:8],
                      "PUT    {workspace}/models/iris-classifier-model/versions/1  api-version=",
                      "PUT    {workspace}/onlineEndpoints/iris-classifier-svc/deployments/c" + commit[:8],
                      "POST   {workspace}/onlineEndpoints/iris-classifier-svc/listKeys  api-version=",
                      "POST   /score"):
        assert operation in out, operation
    assert f"traffic after:  c{commit[:8]} 100%" in out
    assert out.rstrip().endswith(f"rehearsal passed: traffic c{commit[:8]} 100%; models iris-classifier-model:1")


def subscription_of(repo) -> str:
    """The stand-in's subscription id, from the paths in the rehearsal's request log."""
    requests = (repo / "build" / "rehearsal" / "requests.jsonl").read_text().splitlines()
    path = next(p for p in (json.loads(line)["path"] for line in requests) if p.startswith("/subscriptions/"))
    return path.split("/")[2]


@pytest.mark.slow  # `mlops rehearse`: real jobs and deployments
def test_the_summary_and_the_plan_name_the_model_that_serves_without_the_subscription(rehearsed):
    """The SDK rewrites the deployment's model into an ARM id (with the subscription): the job page names the
    model as name:version, and deploy pins the version it found into the plan's deployment.yml."""
    repo, commit, first = rehearsed
    subscription = subscription_of(repo)
    kept = repo.parent / "first-rehearsal"
    deployment = (kept / "step-summary.md").read_text().split("### Deployment", 1)[1]  # training links the studio
    assert f"- New deployment: `c{commit[:8]}` serving `iris-classifier-model:1`" in deployment
    deploy_output = first.stdout.split("rehearsal: mlops deploy", 1)[1].split("== rehearsal: the REST calls", 1)[0]
    assert subscription not in deployment + deploy_output
    pinned = yaml.safe_load((kept / "deployment.yml").read_text())
    assert pinned["model"] == "azureml:iris-classifier-model:1"


@pytest.mark.slow  # `mlops rehearse`: real jobs and deployments
def test_a_second_rehearsal_against_the_same_state_converges(rehearsed):
    repo, commit, _ = rehearsed
    again = mlops("rehearse", "--state", "build/rehearsal", cwd=repo)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "nothing to train" in again.stdout
    assert f"deployment c{commit[:8]} serves iris-classifier-model:1" in again.stdout
    calls = again.stdout.split("the REST calls the SDK made", 1)[1]
    assert "PUT    {workspace}/jobs/" not in calls and "PUT    {workspace}/models/" not in calls
    assert again.stdout.rstrip().endswith(f"traffic c{commit[:8]} 100%; models iris-classifier-model:1")


@pytest.fixture(scope="module")
def next_commit(rehearsed):
    """A new commit behind the live release; the first fault rehearsed on it trains its model, the others
    find it trained, so each rehearsal of a deployment fault pays for a deploy only."""
    repo, _, _ = rehearsed
    (repo / "NOTES.md").write_text("a change the faults are rehearsed on\n")
    return commit_all(repo, "next")


# deployment-500 first: it trains the next commit's model (image-build-fails would fail that job instead)
@pytest.mark.slow  # `mlops rehearse`: real jobs and deployments
@pytest.mark.parametrize("fault", ["deployment-500", "image-build-fails", "never-healthy", "quota-exceeded"])
def test_a_rehearsed_fault_fails_in_one_line_and_leaves_the_live_release_serving(rehearsed, next_commit, fault):
    repo, commit, _ = rehearsed
    failed = mlops("rehearse", "--state", "build/rehearsal", "--inject", fault, cwd=repo)
    assert failed.returncode == 1, failed.stdout[-3000:] + failed.stderr[-3000:]
    last = failed.stdout.rstrip().splitlines()[-1]
    assert last.startswith(f"rehearsal with fault {fault}: `mlops deploy` failed: deployment c{next_commit[:8]}"), last
    assert EXPECTED[fault] in last, last
    assert subscription_of(repo) not in last  # Azure's quota text names it
    assert last.endswith(f"checked: traffic as before (c{commit[:8]} 100%)"), last
    assert "Traceback" not in failed.stdout + failed.stderr


@pytest.mark.slow  # `mlops rehearse`: real jobs and deployments
def test_throttling_is_rehearsed_as_recovered(rehearsed):
    repo, _, _ = rehearsed
    throttled = mlops("rehearse", "--state", "build/rehearsal", "--inject", "throttle:times=3,status=429", cwd=repo)
    assert throttled.returncode == 0, throttled.stdout[-3000:] + throttled.stderr[-3000:]
    assert "rehearsal passed (recovered from throttle:times=3,status=429)" in throttled.stdout


@pytest.mark.slow  # `mlops rehearse`: real jobs and deployments
def test_an_unknown_fault_is_one_line_naming_the_known_ones(rehearsed):
    repo, _, _ = rehearsed
    result = mlops("rehearse", "--inject", "meteor", cwd=repo)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --inject meteor: unknown fault 'meteor': choose one of ")
    assert (repo / "build" / "rehearsal" / "state.json").is_file()  # the last rehearsal's workspace is kept


@pytest.mark.slow  # `mlops rehearse`: real jobs and deployments
def test_a_rollout_killed_mid_way_is_followed_by_a_re_run_that_converges(rehearsed, next_commit):
    repo, _, _ = rehearsed
    (repo / "NOTES.md").write_text("a change whose rollout is killed\n")
    commit = commit_all(repo, "killed")
    killed = mlops("rehearse", "--state", "build/rehearsal", "--inject", "killed-mid-rollout", cwd=repo)
    assert killed.returncode == 1, killed.stdout[-3000:] + killed.stderr[-3000:]
    assert "mlops deploy again, as the re-run after a crash" in killed.stdout
    assert killed.stdout.rstrip().splitlines()[-1] == (
        "rehearsal with fault killed-mid-rollout: `mlops deploy` failed: killed mid-rollout by the rehearsal "
        f"(fault killed-mid-rollout), as a runner that lost its machine; the re-run converged: traffic "
        f"c{commit[:8]} 100%")


@pytest.mark.slow  # `mlops rehearse`: real jobs and deployments
def test_a_fault_the_release_never_reaches_is_not_reported_as_recovered(rehearsed):
    repo, _, _ = rehearsed  # HEAD is trained and serves: a rehearsal submits no job for lost-response to hit
    result = mlops("rehearse", "--state", "build/rehearsal", "--inject", "lost-response", cwd=repo)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    last = result.stdout.rstrip().splitlines()[-1]
    assert last.startswith("rehearsal with fault lost-response: lost-response never fired: the release sent no "
                           "request it applies to"), last
    assert "commit a change and rehearse again" in last


@pytest.mark.slow  # `mlops rehearse`: real jobs and deployments
def test_a_failed_training_job_is_rehearsed_as_a_failed_train_step_before_any_deploy(rehearsed):
    repo, _, _ = rehearsed
    serving_commit = run(["git", "rev-parse", "HEAD"], repo).stdout.strip()
    (repo / "NOTES.md").write_text("a change whose training job fails\n")
    commit_all(repo, "job fails")
    failed = mlops("rehearse", "--state", "build/rehearsal", "--inject", "job-fails", cwd=repo)
    assert failed.returncode == 1, failed.stdout[-3000:] + failed.stderr[-3000:]
    last = failed.stdout.rstrip().splitlines()[-1]
    assert last.startswith("rehearsal with fault job-fails: `mlops train` failed: "), last
    assert last.endswith(f"checked: traffic as before (c{serving_commit[:8]} 100%)"), last
    assert "== rehearsal: mlops deploy" not in failed.stdout and "Traceback" not in last


@pytest.mark.slow  # `mlops rehearse`: real jobs and deployments
def test_a_lost_submission_answer_and_a_conflict_in_flight_are_rehearsed_as_recovered(rehearsed):
    repo, _, _ = rehearsed
    (repo / "NOTES.md").write_text("a change released through a lost answer and a busy endpoint\n")
    commit = commit_all(repo, "recovers")
    result = mlops("rehearse", "--state", "build/rehearsal", "--inject", "lost-response", "--inject",
                   "conflict-in-flight", cwd=repo)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.rstrip().splitlines()[-1].startswith(
        f"rehearsal passed (recovered from lost-response, conflict-in-flight): traffic c{commit[:8]} 100%")
    assert "== rehearsal: mlops deploy" in result.stdout and "Traceback" not in result.stdout + result.stderr


@pytest.mark.slow  # `mlops rehearse`: real jobs and deployments
def test_a_two_stage_repo_rehearses_both_stages_through_the_registry(tmp_path):
    # the generated form: production on its own endpoint in staging's workspace (tests/test_promotion.py covers
    # production in a workspace of its own)
    repo = bake(tmp_path, stages="staging-production")
    run(["git", "init", "-q"], repo)
    commit = commit_all(repo, "first")
    result = mlops("rehearse", cwd=repo)
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    steps = [line for line in out.splitlines() if line.startswith("== rehearsal: mlops ")]
    assert [line.split(" (")[0] for line in steps] == [
        "== rehearsal: mlops train", "== rehearsal: mlops deploy", "== rehearsal: mlops share",
        "== rehearsal: mlops promote --version 1"]
    calls = out.split("the REST calls the SDK made", 1)[1]
    assert "registries/mlr-iris-classifier/import" in calls  # shared through the registry's own API
    assert f"PUT    {{workspace}}/onlineEndpoints/iris-classifier-svc-prod/deployments/v1-c{commit[:7]}" in calls
    assert "PUT    {workspace}/jobs/" in calls and calls.count("PUT    {workspace}/jobs/") == 1  # trained once
    assert f"production traffic after:  v1-c{commit[:7]} 100%" in out
    assert out.rstrip().endswith(f"rehearsal passed: traffic staging c{commit[:8]} 100%; production v1-c{commit[:7]} "
                                 "100%; models iris-classifier-model:1")
