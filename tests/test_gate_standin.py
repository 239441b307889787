"""The quality gate through the Azure ML stand-in: the unmodified SDK, a job that really runs train.py and the
gate's step (both models scored by evaluate.py on the pinned data), and a deploy that refuses a worse model.

One story, as a repo lives it: a first release (floors only) goes out; the next commit's job runs with the
stand-in's fault worse-model (its training labels scrambled), so its model is worse on the evaluation data;
the gate refuses it and `mlops deploy`
stops before creating anything; a deliberate override with a reason releases it and puts the reason on
the model. The per-rule cases (a missed floor, a better model, a tie, a guard drop, the champion of a split
traffic) run through the stand-in in test_gate_cases_standin.py, and as fast unit tests on the fake in
test_gate_release.py.
"""

from __future__ import annotations

import json

import pytest

import mlops.commands._azure as azure_commands
from conftest import bake
from mlops.azureml.gate_release import GateRefused
from mlops.commands import deploy, train

pytest_plugins = ["mlops.standin.fixtures"]

FIRST = "3f9c2a1b7d4e5f60718293a4b5c6d7e8f9a0b1c2"
SECOND = "a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e"
ENDPOINT, MODEL = "iris-classifier-svc", "iris-classifier-model"


def test_a_worse_model_is_refused_end_to_end_and_an_override_records_why(standin, tmp_path, monkeypatch):
    repo = bake(tmp_path)
    config = json.loads((repo / "azure-config.json").read_text())
    client = standin.ml_client(config["resource_group"], config["workspace_name"])
    monkeypatch.setattr(azure_commands, "connect", lambda project: client)
    monkeypatch.setenv("GITHUB_RUN_ATTEMPT", "1")
    quiet = {"log": lambda line: None}

    monkeypatch.setenv("GITHUB_SHA", FIRST)
    monkeypatch.setenv("GITHUB_RUN_ID", "1")
    first = train.train(repo, **quiet)
    assert first.gate["verdict"]["passed"] and first.gate["verdict"]["first_release"]
    assert deploy.deploy(repo, **quiet).traffic == {f"c{FIRST[:8]}": 100}

    standin.inject("worse-model")  # the job trains on scrambled labels; the evaluation data stays as it is
    monkeypatch.setenv("GITHUB_SHA", SECOND)
    monkeypatch.setenv("GITHUB_RUN_ID", "2")
    second = train.train(repo, **quiet)
    record = second.gate
    assert record["champion"]["model"] == f"{MODEL}:{first.model_version}"
    mine, theirs = record["challenger"]["metrics"]["accuracy"], record["champion"]["metrics"]["accuracy"]
    assert mine < theirs and not record["verdict"]["passed"]
    tags = client.models.get(MODEL, version=second.model_version).tags
    assert tags["gate"] == "refused" and tags["gate_champion"] == f"{MODEL}:{first.model_version}"

    before = len(standin.requests())
    with pytest.raises(GateRefused) as refused:
        deploy.deploy(repo, **quiet)
    assert str(refused.value).startswith(f"quality gate refused {MODEL}:{second.model_version}: accuracy {mine:g} "
                                         f"vs {theirs:g} for champion {MODEL}:{first.model_version}")
    assert client.online_endpoints.get(ENDPOINT).traffic == {f"c{FIRST[:8]}": 100}
    changed = [r for r in standin.requests()[before:] if r.method in ("PUT", "PATCH", "DELETE")]
    assert changed == []  # the refusal read the model and the endpoint, and changed nothing

    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    result = deploy.deploy(repo, override="the evaluation set now holds harder cases", **quiet)
    assert result.traffic == {f"c{SECOND[:8]}": 100} and result.gate.override
    tags = client.models.get(MODEL, version=second.model_version).tags
    assert tags["gate_override"] == "the evaluation set now holds harder cases"
    assert tags["gate_override_by"] == "octocat" and tags["gate"] == "refused"
