"""`mlops deploy` against an in-memory workspace: blue/green, every fault, and traffic never on a failure."""

from __future__ import annotations

import argparse
import signal
import time

import pytest
from azure_fixtures import (
    CI_ENV,
    COMMIT,
    FAST,
    NEXT_COMMIT,
    edit_json,
    edit_yaml,
    make_plan,
    with_model,
)
from cancel_signals import signal_when
from fake_workspace import (
    Crash,
    FakeMLClient,
    OnlineEndpointOperations,
    Workspace,
    http_error,
)

from conftest import bake
from mlops.azureml.deployment import DeploymentFailed, prepare_release, roll_out
from mlops.azureml.names import suggest_endpoint_name
from mlops.commands import _azure
from mlops.errors import MlopsError

ENDPOINT = "iris-classifier-svc"
OLD, NEW = f"c{COMMIT[:8]}", f"c{NEXT_COMMIT[:8]}"
MODEL = "iris-classifier-model"


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return bake(tmp_path_factory.mktemp("deploy"))


def release(repo, ws: Workspace, commit: str):
    """Plan ``commit``, register its model, and prepare the release against ``ws``."""
    if not any((m.tags or {}).get("git_commit") == commit for m in ws.models.values()):
        with_model(ws, MODEL, commit)
    return prepare_release(FakeMLClient(ws), make_plan(repo, commit), FAST, log=lambda line: None)


def run_deploy(repo, ws: Workspace, commit: str, lines: list | None = None):
    return roll_out(FakeMLClient(ws), release(repo, ws, commit), FAST,
                  log=(lines.append if lines is not None else lambda line: None), sleep=lambda s: None)


def live(repo) -> Workspace:
    """A workspace whose endpoint serves the first commit with all traffic."""
    ws = Workspace()
    run_deploy(repo, ws, COMMIT)
    ws.calls.clear()
    ws.mutations = 0
    ws.invocations.clear()
    return ws


def assert_untouched(ws: Workspace):
    """The failed release left the endpoint exactly as it was: old deployment, all traffic."""
    assert ws.traffic(ENDPOINT) == {OLD: 100}
    assert list(ws.deployments[ENDPOINT]) == [OLD]
    assert not (ws.endpoints[ENDPOINT].mirror_traffic or {})


def test_first_release_creates_the_endpoint_and_smoke_tests_before_any_traffic(repo):
    ws = Workspace()
    result = run_deploy(repo, ws, COMMIT)
    assert ws.calls == [
        "models.list", "online_endpoints.get", "online_endpoints.get", "online_endpoints.begin_create_or_update",
        "online_endpoints.get", "online_endpoints.get", "online_deployments.list", "environments.get",
        "environments.create_or_update", "online_deployments.begin_create_or_update", "online_deployments.get",
        "online_endpoints.get", "online_endpoints.get_keys", "score", "online_endpoints.get",
        "online_endpoints.begin_create_or_update", "online_deployments.list", "online_endpoints.get"]
    assert ws.invocations == [(ENDPOINT, OLD, {})]
    assert result.traffic == {OLD: 100} and result.deployments == [OLD]
    assert result.scoring_uri.startswith("http://127.0.0.1:") and result.scoring_uri.endswith(f"/{ENDPOINT}/score")
    assert ws.deployments[ENDPOINT][OLD].model.endswith(f"/models/{MODEL}/versions/1")  # as the SDK sends it
    assert result.model == f"{MODEL}:1"


def test_next_release_is_tested_at_zero_percent_then_takes_over_and_the_old_one_goes(repo):
    ws = live(repo)
    lines = []
    result = run_deploy(repo, ws, NEXT_COMMIT, lines)
    assert f"  {NEW}: Healthy" in lines  # the studio's word for a deployment created
    assert ws.invocations == [(ENDPOINT, NEW, {OLD: 100})]
    assert ws.traffic(ENDPOINT) == {NEW: 100} and list(ws.deployments[ENDPOINT]) == [NEW]
    assert result.removed == [OLD]
    assert "online_endpoints.begin_create_or_update" in ws.calls
    assert ws.calls.count("online_endpoints.begin_create_or_update") == 1  # the endpoint itself is kept


def test_rerun_of_a_finished_release_changes_nothing(repo):
    ws = live(repo)
    run_deploy(repo, ws, COMMIT)
    assert ws.mutations == 0 and ws.traffic(ENDPOINT) == {OLD: 100}


def test_deployment_still_being_created_at_the_timeout_is_not_deleted_and_a_rerun_follows_it(repo):
    ws = live(repo)
    ws.deployment_never_ready = True
    lines = []
    with pytest.raises(DeploymentFailed, match=f"{NEW} was still Creating after 30 minutes.*traffic left as it was "
                                               f"\\({OLD} 100%\\); {NEW} is left in place: Azure refuses to delete"):
        run_deploy(repo, ws, NEXT_COMMIT, lines)
    assert ws.traffic(ENDPOINT) == {OLD: 100} and "online_deployments.begin_delete" not in ws.calls
    assert any("Liveness probe failed" in line for line in lines)  # the new deployment's logs were printed
    assert [line for line in lines if line.startswith(f"  {NEW}: ")] == [f"  {NEW}: Transitioning"]
    ws.deployment_never_ready = False
    ws.deployments[ENDPOINT][NEW]._provisioning_state = "Succeeded"  # Azure finished creating it
    lines.clear()
    run_deploy(repo, ws, NEXT_COMMIT, lines)
    assert ws.traffic(ENDPOINT) == {NEW: 100} and list(ws.deployments[ENDPOINT]) == [NEW]


def test_deployment_whose_provisioning_fails_is_deleted_and_traffic_stays(repo):
    ws = live(repo)
    ws.deployment_fails = "ResourceNotReady: User container has crashed or terminated"
    lines = []
    with pytest.raises(DeploymentFailed, match="User container has crashed"):
        run_deploy(repo, ws, NEXT_COMMIT, lines)
    assert_untouched(ws)
    assert f"  {NEW}: Unhealthy" in lines


def test_smoke_request_answered_500_deletes_the_new_deployment(repo):
    ws = live(repo)
    ws.smoke_status = 500
    with pytest.raises(DeploymentFailed, match="scoring script raised KeyError"):
        run_deploy(repo, ws, NEXT_COMMIT)
    assert_untouched(ws)
    assert "online_deployments.get_logs" in ws.calls


def test_first_release_failing_leaves_no_traffic_and_no_deployment(repo):
    ws = Workspace()
    ws.smoke_status = 500
    with pytest.raises(DeploymentFailed, match="no traffic \\(first release\\)"):
        run_deploy(repo, ws, COMMIT)
    assert ws.traffic(ENDPOINT) == {} and dict(ws.deployments[ENDPOINT]) == {}


def test_mirror_and_canary_steps_then_all_traffic(tmp_path, monkeypatch):
    repo = bake(tmp_path)
    edit_yaml(repo / "iris-classifier.yml", lambda e: e["deploy"].update(rollout=[{"mirror": 10}, {"canary": 25}]))
    ws = live(repo)
    traffic_seen = []
    original = OnlineEndpointOperations.begin_create_or_update

    def spy(self, endpoint, **kwargs):
        traffic_seen.append((dict(endpoint.traffic or {}), dict(endpoint.mirror_traffic or {})))
        return original(self, endpoint, **kwargs)

    monkeypatch.setattr(OnlineEndpointOperations, "begin_create_or_update", spy)
    run_deploy(repo, ws, NEXT_COMMIT)
    assert traffic_seen == [({OLD: 100}, {NEW: 10}), ({OLD: 75, NEW: 25}, {}), ({NEW: 100}, {})]
    assert [traffic for _, _, traffic in ws.invocations] == [{OLD: 100}, {OLD: 100}, {OLD: 75, NEW: 25}]
    assert ws.traffic(ENDPOINT) == {NEW: 100} and list(ws.deployments[ENDPOINT]) == [NEW]


def test_failure_during_a_canary_step_puts_traffic_back(tmp_path):
    repo = bake(tmp_path)
    edit_yaml(repo / "iris-classifier.yml", lambda e: e["deploy"].update(rollout=[{"canary": 25}]))
    ws = live(repo)
    ws.smoke_fails_after = 1  # the first check passes, the one after the canary step answers 500
    with pytest.raises(DeploymentFailed):
        run_deploy(repo, ws, NEXT_COMMIT)
    assert_untouched(ws)


def test_endpoint_name_taken_in_the_region_suggests_a_free_one(repo):
    ws = Workspace()
    ws.names_taken_in_region.add(ENDPOINT)
    expected = suggest_endpoint_name(ENDPOINT, f"{ws.subscription_id}/rg-iris-classifier/mlw-iris-classifier")
    with pytest.raises(MlopsError, match=f"service_name '{ENDPOINT}' is taken in westeurope by another workspace.*"
                                         f"set service_name: {expected} in the experiment file"):
        run_deploy(repo, ws, COMMIT)
    assert ws.endpoints == {} and ws.mutations == 0
    ws.names_taken_in_region.clear()
    edit = release(repo, ws, COMMIT)
    edit.endpoint.name = expected  # the suggestion is a valid endpoint name Azure accepts
    edit.deployment.endpoint_name = expected
    assert roll_out(FakeMLClient(ws), edit, FAST, log=lambda line: None).traffic == {OLD: 100}


def test_quota_error_names_the_quota_and_leaves_traffic(repo):
    ws = live(repo)
    ws.errors["online_deployments.begin_create_or_update"].append(http_error(
        400, "OutOfQuota", "Not enough quota available for Standard_DS3_v2 in SubscriptionId x. "
                           "Current usage/limit: 4/6. Additional needed: 8"))
    with pytest.raises(DeploymentFailed, match=r"not enough quota: Standard_DS3_v2 in westeurope "
                                               r"\(in use 4 of 6 vCPUs, 8 more needed\)"):
        run_deploy(repo, ws, NEXT_COMMIT)
    assert_untouched(ws)


def test_transient_429_and_503_are_retried_with_backoff(repo):
    ws = live(repo)
    for operation in ("online_endpoints.get", "online_deployments.begin_create_or_update", "online_endpoints.invoke",
                      "online_deployments.begin_delete"):
        ws.transient[operation] = [429, 503]
    run_deploy(repo, ws, NEXT_COMMIT)
    assert ws.traffic(ENDPOINT) == {NEW: 100} and list(ws.deployments[ENDPOINT]) == [NEW]


def test_no_model_for_this_commit_is_a_clear_error(repo):
    ws = Workspace()
    with pytest.raises(MlopsError, match="no version of model 'iris-classifier-model' was trained from commit "
                                         "a1b2c3d4e5f6: run `mlops train`"):
        prepare_release(FakeMLClient(ws), make_plan(repo, NEXT_COMMIT), FAST, log=lambda line: None)


def test_idle_deployments_make_room_under_the_limit_of_twenty(repo):
    ws = live(repo)
    for index in range(19):
        ws.deployments[ENDPOINT][f"stale{index:02d}"] = ws.deployments[ENDPOINT][OLD].__class__(
            name=f"stale{index:02d}", endpoint_name=ENDPOINT, instance_type="Standard_DS3_v2", instance_count=1)
    run_deploy(repo, ws, NEXT_COMMIT)
    assert list(ws.deployments[ENDPOINT]) == [NEW] and ws.traffic(ENDPOINT) == {NEW: 100}


def count_changes(repo) -> int:
    ws = live(repo)
    run_deploy(repo, ws, NEXT_COMMIT)
    return ws.mutations


@pytest.mark.parametrize("crash_after", range(1, 4))
def test_crash_after_any_change_then_rerun_converges(repo, crash_after):
    assert count_changes(repo) == 3  # create the deployment, shift traffic, delete the old one
    ws = live(repo)
    ws.crash_after = crash_after
    with pytest.raises(Crash):
        run_deploy(repo, ws, NEXT_COMMIT)
    if crash_after == 1:  # before the shift: the old deployment still has all traffic
        assert ws.traffic(ENDPOINT) == {OLD: 100}
    run_deploy(repo, ws, NEXT_COMMIT)
    assert ws.traffic(ENDPOINT) == {NEW: 100} and list(ws.deployments[ENDPOINT]) == [NEW]


@pytest.fixture(scope="module")
def canary_repo(tmp_path_factory):
    repo = bake(tmp_path_factory.mktemp("canary"))
    edit_yaml(repo / "iris-classifier.yml", lambda e: e["deploy"].update(rollout=[{"mirror": 20}, {"canary": 10}]))
    return repo


@pytest.mark.parametrize("crash_after", range(1, 6))
def test_crash_mid_rollout_then_rerun_converges_or_fails_back(canary_repo, crash_after):
    assert count_changes(canary_repo) == 5  # create, mirror, canary, shift, delete
    ws = live(canary_repo)
    ws.crash_after = crash_after
    with pytest.raises(Crash):
        run_deploy(canary_repo, ws, NEXT_COMMIT)
    run_deploy(canary_repo, ws, NEXT_COMMIT)
    assert ws.traffic(ENDPOINT) == {NEW: 100} and list(ws.deployments[ENDPOINT]) == [NEW]
    # and when the rerun's smoke test fails instead, traffic goes back to the old deployment
    ws = live(canary_repo)
    ws.crash_after = crash_after
    with pytest.raises(Crash):
        run_deploy(canary_repo, ws, NEXT_COMMIT)
    if crash_after >= 4:
        return  # the shift happened before the crash: the new deployment is live
    ws.smoke_status = 500
    with pytest.raises(DeploymentFailed):
        run_deploy(canary_repo, ws, NEXT_COMMIT)
    assert_untouched(ws)


@pytest.mark.parametrize("crash_after", range(1, 5))  # endpoint, environment, deployment, traffic
def test_crash_during_the_first_release_then_rerun_converges(repo, crash_after):
    ws = Workspace()
    ws.crash_after = crash_after
    with pytest.raises(Crash):
        run_deploy(repo, ws, COMMIT)
    run_deploy(repo, ws, COMMIT)
    assert ws.traffic(ENDPOINT) == {OLD: 100} and list(ws.deployments[ENDPOINT]) == [OLD]


def test_kubernetes_names_respect_the_pair_limit(tmp_path):
    repo = bake(tmp_path, service_name="s" * 32)
    edit_json(repo / "azure-compute-config.json", lambda c: c.update(
        deploy_target="kubernetes", deploy_cluster_name="aks-prod", deploy_cpu_cores=0.5, deploy_memory_gb=1))
    ws = Workspace()
    result = run_deploy(repo, ws, COMMIT)
    assert 6 <= len(result.endpoint) + len(result.deployment) <= 62


def next_release_in_actions(repo, summary, monkeypatch) -> Workspace:
    """A live endpoint and the next commit's model, with the variables a deploy job in Actions has."""
    for name, value in {**CI_ENV, "GITHUB_SHA": NEXT_COMMIT, "GITHUB_STEP_SUMMARY": str(summary)}.items():
        monkeypatch.setenv(name, value)
    ws = live(repo)
    with_model(ws, MODEL, NEXT_COMMIT)
    monkeypatch.setattr(_azure, "connect", lambda project: FakeMLClient(ws))
    return ws


def test_deploy_command_writes_the_step_summary(repo, tmp_path, monkeypatch, capsys):
    from mlops.commands import deploy as command

    summary = tmp_path / "summary.md"
    ws = next_release_in_actions(repo, summary, monkeypatch)
    assert command.run(argparse.Namespace(project_dir=repo)) == 0
    text = summary.read_text()
    assert f"- Endpoint: `{ENDPOINT}` at http://127.0.0.1:" in text
    assert f"- New deployment: `{NEW}` serving `{MODEL}:2`" in text
    assert ws.subscription_id not in text and ws.subscription_id not in capsys.readouterr().out
    assert f"- Traffic: `{NEW}` 100%" in text and f"- Removed: `{OLD}`" in text
    ws.smoke_status = 500
    with_model(ws, MODEL, COMMIT)
    monkeypatch.setenv("GITHUB_SHA", COMMIT)
    with pytest.raises(DeploymentFailed):
        command.run(argparse.Namespace(project_dir=repo))
    assert f"**Failed:** deployment {OLD} failed before taking traffic" in summary.read_text()
    assert ws.traffic(ENDPOINT) == {NEW: 100}


def test_plan_against_the_workspace_says_create_change_or_keep(repo, monkeypatch, capsys):
    from azure.ai.ml.entities import AmlCompute

    from mlops.commands import plan as command

    monkeypatch.setenv("GITHUB_SHA", COMMIT)

    ws = live(repo)
    ws.computes["cpu-cluster"] = AmlCompute(name="cpu-cluster", size="Standard_DS11_v2", min_instances=0,
                                            max_instances=4, idle_time_before_scale_down=120)
    before = ws.mutations
    monkeypatch.setattr(_azure, "connect", lambda project: FakeMLClient(ws))
    assert command.run(argparse.Namespace(project_dir=repo, workspace=True)) == 0
    out = capsys.readouterr().out
    assert ws.mutations == before  # read-only
    assert "-> KEEP (cluster 'cpu-cluster' may scale to 4 nodes" in out
    assert "idle_seconds_before_scaledown 600: left as is" in out
    assert f"model {MODEL}:1; 1 x Standard_DS3_v2" in out  # the version deploy would really use
    assert "-> CREATE\n" in out  # the environment, the data and the job do not exist in this workspace
    assert "online endpoint (the service's stable URL): iris-classifier-svc\n   -> KEEP" in out
    assert f"scores the new model and champion {MODEL}:1 (deployment {OLD}, 100% of {ENDPOINT}'s traffic)" in out
    assert f"--champion_model ${{{{inputs.champion_model}}}} --champion {MODEL}:1" in out


def test_deploy_without_the_scoring_script_says_which_file_is_missing(tmp_path):
    repo = bake(tmp_path)
    (repo / "serving" / "score.py").unlink()
    ws = Workspace()
    with pytest.raises(MlopsError, match="iris-classifier.yml: deploy: 'serving/score.py' does not exist"):
        release(repo, ws, COMMIT)
    assert ws.mutations == 0


def test_a_failing_final_shift_puts_traffic_back_and_removes_the_new_deployment(repo):
    ws = live(repo)
    ws.transient["online_endpoints.begin_create_or_update"] = [503] * 10  # Azure stays unavailable
    with pytest.raises(DeploymentFailed, match="ServiceUnavailable"):
        run_deploy(repo, ws, NEXT_COMMIT)
    ws.transient.clear()
    assert_untouched(ws)


def test_a_deployment_that_failed_mid_rollout_is_taken_out_of_traffic_before_it_is_replaced(canary_repo):
    ws = live(canary_repo)
    ws.crash_after = 3  # created, mirrored, then 10% canary: the process dies there
    with pytest.raises(Crash):
        run_deploy(canary_repo, ws, NEXT_COMMIT)
    assert ws.traffic(ENDPOINT) == {OLD: 90, NEW: 10}
    ws.deployments[ENDPOINT][NEW]._provisioning_state = "Failed"  # and then it breaks
    run_deploy(canary_repo, ws, NEXT_COMMIT)
    assert ws.traffic(ENDPOINT) == {NEW: 100} and list(ws.deployments[ENDPOINT]) == [NEW]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_deploy_cancelled_mid_rollout_puts_the_starting_traffic_back(canary_repo, tmp_path, monkeypatch, signum):
    from mlops.cancellation import Cancelled
    from mlops.commands import deploy as command

    summary = tmp_path / "summary.md"
    ws = next_release_in_actions(canary_repo, summary, monkeypatch)
    started = time.monotonic()
    # the mirror step is live and the command sleeps its step_seconds (300 s) when the job is cancelled
    watcher = signal_when(lambda: (ws.endpoints[ENDPOINT].mirror_traffic or {}).get(NEW), signum)
    with pytest.raises(Cancelled, match=rf"mlops deploy: cancelled \({signal.Signals(signum).name}\); traffic "
                       rf"put back as it was \({OLD} 100%\); {NEW} left without traffic"):
        command.run(argparse.Namespace(project_dir=canary_repo))
    watcher.join()
    assert time.monotonic() - started < 30
    assert ws.traffic(ENDPOINT) == {OLD: 100} and not ws.endpoints[ENDPOINT].mirror_traffic
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handlers are the process's again
    assert "cancelled" in summary.read_text()
    run_deploy(canary_repo, ws, NEXT_COMMIT)  # the next release removes what the cancelled one left
    assert ws.traffic(ENDPOINT) == {NEW: 100} and list(ws.deployments[ENDPOINT]) == [NEW]


def test_the_plan_names_how_the_model_is_chosen_not_latest(repo):
    import yaml

    plan = make_plan(repo)
    assert "model" not in yaml.safe_load(plan.path("deployment.yml").read_text())
    from mlops.azureml.describe import describe_plan

    item = next(i for i in describe_plan(plan) if i.name == OLD)
    assert item.detail.startswith(f"model the newest version of {MODEL} tagged git_commit={COMMIT[:12]}")
    # deploy pins the version it found: tests/test_rehearse.py (the real SDK through the stand-in)


def test_a_dispatch_on_an_unchanged_commit_reports_the_model_that_serves(repo):
    ws = live(repo)
    with_model(ws, MODEL, COMMIT)  # version 2, from the same commit (registered by an older toolkit)
    lines = []
    prepared = prepare_release(FakeMLClient(ws), make_plan(repo, COMMIT), FAST, log=lines.append)
    result = roll_out(FakeMLClient(ws), prepared, FAST, log=lines.append, sleep=lambda s: None)
    assert result.model == f"{MODEL}:1" and ws.mutations == 0
    assert any(f"{OLD} already serves {MODEL}:1; {MODEL}:2 (also from this commit) is not released" in line
               for line in lines)


def test_a_4xx_in_the_scoring_contract_shape_fails_the_release_with_the_answer(repo):
    ws = live(repo)
    ws.smoke_status = 422
    with pytest.raises(DeploymentFailed, match=f'deployment {NEW} answered 422: {{"error": "internal_error", '
                                               '"detail": "scoring script raised KeyError'):
        run_deploy(repo, ws, NEXT_COMMIT)
    assert_untouched(ws)
    assert ws.calls.count("score") == 1  # a 4xx is not retried


def test_a_non_json_502_from_the_gateway_is_retried(repo):
    ws = live(repo)
    ws.score_statuses = [502, 504]
    run_deploy(repo, ws, NEXT_COMMIT)
    assert ws.traffic(ENDPOINT) == {NEW: 100} and ws.calls.count("score") == 3


def test_a_409_while_an_operation_is_in_flight_is_retried_not_read_as_a_taken_name(repo):
    ws = Workspace()
    ws.errors["online_endpoints.begin_create_or_update"].append(http_error(
        409, "Conflict", f"An operation on endpoint {ENDPOINT} is in progress; retry when it has finished"))
    result = run_deploy(repo, ws, COMMIT)
    assert result.traffic == {OLD: 100}
