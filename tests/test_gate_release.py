"""The quality gate across a release: `mlops train` then `mlops deploy`, as deploy.yml runs them, on the fake workspace.

The fake's job scores its model as told (``Workspace.next_scores``) and writes the verdict the staged
gate code gives against the champion input, so the decision is the toolkit's own. These are the fast unit
tests of every rule case; the same cases also run end to end through the Azure ML stand-in (real jobs, real
deployments, the unmodified SDK) in test_gate_cases_standin.py and test_gate_standin.py.
"""

from __future__ import annotations

import argparse
import copy
import json

import pytest
from azure_fixtures import COMMIT, NEXT_COMMIT, edit_yaml
from fake_workspace import FakeMLClient, Workspace

from conftest import bake
from mlops.azureml.gate_release import GateRefused
from mlops.azureml.model_reference import model_label
from mlops.errors import MlopsError

ENDPOINT = "iris-classifier-svc"
MODEL = "iris-classifier-model"
GOOD = {"accuracy": 0.9667, "f1_macro": 0.9666}
BETTER = {"accuracy": 1.0, "f1_macro": 1.0}
WORSE = {"accuracy": 0.9, "f1_macro": 0.9}
THIRD_COMMIT = "b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f"


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return bake(tmp_path_factory.mktemp("gate"))


@pytest.fixture
def release(repo, monkeypatch, tmp_path):
    """``release(ws, commit, scores, override=None)``: train then deploy ``commit`` with the commands;
    ``release.train`` and ``release.deploy`` run one of the two."""
    import mlops.commands._azure as azure_commands
    from mlops.commands import deploy, train

    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.delenv("MLOPS_OVERRIDE_GATE_REASON", raising=False)
    runs = iter(range(5000, 6000))

    def train_only(ws: Workspace, commit: str, scores: dict, project=repo) -> None:
        monkeypatch.setenv("GITHUB_SHA", commit)
        monkeypatch.setenv("GITHUB_RUN_ID", str(next(runs)))
        monkeypatch.setenv("GITHUB_RUN_ATTEMPT", "1")
        monkeypatch.setattr(azure_commands, "connect", lambda project: FakeMLClient(ws))
        ws.next_scores.append(scores)
        assert train.run(argparse.Namespace(project_dir=project)) == 0

    def deploy_only(ws: Workspace, commit: str, override: str | None = None, project=repo) -> int:
        monkeypatch.setenv("GITHUB_SHA", commit)
        monkeypatch.setattr(azure_commands, "connect", lambda project: FakeMLClient(ws))
        return deploy.run(argparse.Namespace(project_dir=project, override_gate=override))

    def run(ws: Workspace, commit: str, scores: dict, override: str | None = None, project=repo) -> int:
        train_only(ws, commit, scores, project)
        return deploy_only(ws, commit, override, project)

    run.summary, run.train, run.deploy = summary, train_only, deploy_only
    return run


def serving(ws: Workspace) -> dict[str, str]:
    """deployment -> ``azureml:name:version`` of the model it runs, for the deployments that take traffic."""
    return {name: f"azureml:{model_label(ws.deployments[ENDPOINT][name].model)}" for name in ws.traffic(ENDPOINT)}


def test_first_release_meeting_the_floors_deploys(release):
    ws = Workspace()
    assert release(ws, COMMIT, GOOD) == 0
    assert serving(ws) == {f"c{COMMIT[:8]}": f"azureml:{MODEL}:1"}
    assert ws.models[(MODEL, "1")].tags["gate"] == "passed"
    assert "first release, floors met" in release.summary.read_text()


def test_first_release_missing_a_floor_is_refused_and_nothing_is_created(release):
    ws = Workspace()
    with pytest.raises(GateRefused, match=r"accuracy 0\.7: accuracy must be >= 0\.8 \(floor"):
        release(ws, COMMIT, {"accuracy": 0.7, "f1_macro": 0.85})
    assert ws.endpoints == {} and not any(ws.deployments.values())
    assert ws.models[(MODEL, "1")].tags["gate"] == "refused"


def test_a_better_challenger_takes_over(release):
    ws = Workspace()
    release(ws, COMMIT, GOOD)
    assert release(ws, NEXT_COMMIT, BETTER) == 0
    assert serving(ws) == {f"c{NEXT_COMMIT[:8]}": f"azureml:{MODEL}:2"}
    job = ws.jobs[ws.models[(MODEL, "2")].tags["job"]].submitted
    assert str(job.inputs["champion_model"].path).endswith(f"{MODEL}:1")  # scored against what served


def test_a_worse_challenger_is_refused_before_any_deployment_and_traffic_stays(release):
    ws = Workspace()
    release(ws, COMMIT, GOOD)
    ws.calls.clear()
    before = json.dumps({k: (v.traffic, sorted(ws.deployments[k])) for k, v in ws.endpoints.items()})
    with pytest.raises(GateRefused) as refused:
        release(ws, NEXT_COMMIT, WORSE)
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"quality gate refused {MODEL}:2: accuracy 0.9 vs 0.9667 for champion {MODEL}:1: "
                              "accuracy may not be worse than the champion (higher is better)")
    assert f"endpoint {ENDPOINT} untouched (no deployment created)" in message
    after = json.dumps({k: (v.traffic, sorted(ws.deployments[k])) for k, v in ws.endpoints.items()})
    assert after == before and serving(ws) == {f"c{COMMIT[:8]}": f"azureml:{MODEL}:1"}
    assert "online_deployments.begin_create_or_update" not in ws.calls
    assert not any(call.startswith("online_endpoints.begin_") for call in ws.calls)
    text = release.summary.read_text()
    assert "| accuracy (primary) | may not be worse than the champion (higher is better) | 0.9667 | 0.9000 |" in text


def test_the_deploy_command_exits_1_with_one_line(repo, release, capsys, monkeypatch):
    import mlops.commands._azure as azure_commands
    from mlops.cli import main

    ws = Workspace()
    release(ws, COMMIT, GOOD)
    release.train(ws, NEXT_COMMIT, WORSE)
    capsys.readouterr()
    monkeypatch.setattr(azure_commands, "connect", lambda project: FakeMLClient(ws))
    monkeypatch.setenv("GITHUB_SHA", NEXT_COMMIT)
    code = main(["-C", str(repo), "deploy"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and err.startswith(f"error: quality gate refused {MODEL}:2: accuracy 0.9 vs 0.9667")


@pytest.mark.parametrize(("tie", "deployed"), [("deploy", True), ("refuse", False)])
def test_a_tie_does_what_the_experiment_file_says(tmp_path, release, tie, deployed):
    repo = bake(tmp_path)
    edit_yaml(repo / "iris-classifier.yml", lambda data: data["gate"].update(tie=tie))
    ws = Workspace()
    release(ws, COMMIT, GOOD, project=repo)
    if deployed:
        assert release(ws, NEXT_COMMIT, dict(GOOD), project=repo) == 0
        assert serving(ws) == {f"c{NEXT_COMMIT[:8]}": f"azureml:{MODEL}:2"}
    else:
        with pytest.raises(GateRefused, match=r"a tie is refused \(gate.tie: refuse\)"):
            release(ws, NEXT_COMMIT, dict(GOOD), project=repo)
        assert serving(ws) == {f"c{COMMIT[:8]}": f"azureml:{MODEL}:1"}


def test_a_guard_metric_drop_is_refused(release):
    ws = Workspace()
    release(ws, COMMIT, GOOD)
    with pytest.raises(GateRefused, match=r"f1_macro 0\.94 vs 0\.9666 for champion .*:1: f1_macro may be at most"):
        release(ws, NEXT_COMMIT, {"accuracy": 0.9667, "f1_macro": 0.94})
    assert serving(ws) == {f"c{COMMIT[:8]}": f"azureml:{MODEL}:1"}


def test_override_with_a_reason_deploys_and_the_reason_is_on_the_model(release, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    monkeypatch.setenv("GITHUB_REPOSITORY", "org/iris")
    ws = Workspace()
    release(ws, COMMIT, GOOD)
    assert release(ws, NEXT_COMMIT, WORSE, override="new evaluation set: the old scores are not comparable") == 0
    assert serving(ws) == {f"c{NEXT_COMMIT[:8]}": f"azureml:{MODEL}:2"}
    tags = ws.models[(MODEL, "2")].tags
    assert tags["gate"] == "refused"  # the verdict stays what it was
    assert tags["gate_override"] == "new evaluation set: the old scores are not comparable"
    assert tags["gate_override_by"] == "octocat" and tags["gate_override_run"].endswith("/org/iris/actions/runs/5001")
    assert "**Gate overridden:** new evaluation set" in release.summary.read_text()


def test_override_from_the_workflow_input_and_an_empty_reason_is_refused(release, monkeypatch):
    ws = Workspace()
    release(ws, COMMIT, GOOD)
    with pytest.raises(MlopsError, match="--override-gate needs a reason"):
        release(ws, NEXT_COMMIT, WORSE, override="  ")
    monkeypatch.setenv("MLOPS_OVERRIDE_GATE_REASON", "accepted: recall matters more this quarter")
    assert release(ws, THIRD_COMMIT, WORSE) == 0
    assert ws.models[(MODEL, "3")].tags["gate_override"] == "accepted: recall matters more this quarter"


def test_the_champion_is_the_deployment_with_most_traffic_when_two_split_it(release):
    ws = Workspace()
    release(ws, COMMIT, GOOD)                    # model 1, deployment c<COMMIT>
    release(ws, NEXT_COMMIT, BETTER)             # model 2 takes over
    # A person splits traffic by hand: model 1 back on 70%, model 2 on 30%.
    old, new = f"c{COMMIT[:8]}", f"c{NEXT_COMMIT[:8]}"
    ws.deployments[ENDPOINT][old] = copy.deepcopy(ws.deployments[ENDPOINT][new])
    ws.deployments[ENDPOINT][old].name, ws.deployments[ENDPOINT][old].model = old, f"azureml:{MODEL}:1"
    ws.endpoints[ENDPOINT].traffic = {old: 70, new: 30}
    # A challenger between the two: better than model 1 (70%), worse than model 2 (30%).
    between = {"accuracy": 0.98, "f1_macro": 0.98}
    assert release(ws, THIRD_COMMIT, between) == 0
    job = ws.jobs[ws.models[(MODEL, "3")].tags["job"]].submitted
    assert str(job.inputs["champion_model"].path).endswith(f"{MODEL}:1")
    assert ws.models[(MODEL, "3")].tags["gate_champion"] == f"{MODEL}:1"


def test_a_verdict_against_another_champion_than_the_one_serving_is_refused(release):
    ws = Workspace()
    release(ws, COMMIT, GOOD)
    release.train(ws, NEXT_COMMIT, BETTER)   # model 2, judged against model 1
    release(ws, THIRD_COMMIT, BETTER)        # model 3 is released meanwhile
    with pytest.raises(GateRefused, match=f"judged against {MODEL}:1 but {MODEL}:3 serves now"):
        release.deploy(ws, NEXT_COMMIT)
    assert serving(ws) == {f"c{THIRD_COMMIT[:8]}": f"azureml:{MODEL}:3"}


def test_spacy_is_gated_on_ents_f_with_a_recall_guard(tmp_path, release):
    repo = bake(tmp_path, framework="spacy")
    ws = Workspace()
    assert release(ws, COMMIT, {"ents_f": 0.95, "ents_p": 0.95, "ents_r": 0.95}, project=repo) == 0
    with pytest.raises(GateRefused, match=r"ents_r 0\.9 vs 0\.95 for champion .*:1: ents_r may be at most 0\.02 worse"):
        release(ws, NEXT_COMMIT, {"ents_f": 0.96, "ents_p": 1.0, "ents_r": 0.9}, project=repo)
    assert serving(ws) == {f"c{COMMIT[:8]}": f"azureml:{MODEL}:1"}


@pytest.mark.parametrize(("reference", "expected"), [
    (f"azureml:{MODEL}:3", (MODEL, "3")),
    (f"{MODEL}:3", (MODEL, "3")),
    (f"/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/w/models/{MODEL}"
     "/versions/3", (MODEL, "3")),
    (f"azureml://registries/shared/models/{MODEL}/versions/3", (MODEL, "3")),
    (f"azureml:{MODEL}@latest", None),
    ("./outputs/model", None),
    ("", None),
])
def test_the_champion_s_model_version_is_read_from_any_reference_a_deployment_holds(reference, expected):
    from mlops.azureml.champion import parse_model

    assert parse_model(reference) == expected
