"""The quality gate's per-rule cases through the Azure ML stand-in: the unmodified SDK, real jobs (train.py, then
the gate step scoring both models with evaluate.py on the pinned data) and real deployments.

One repo lives through a chain of releases, each test a step that builds on the one before (the tests run in
order; ``--dist loadscope`` keeps the module on one worker), so the module pays for four jobs and four
deployments. Training is deterministic (train.py seeds 42), so retraining the same data and code ties exactly;
the stand-in's fault worse-model scrambles the next job's training labels, so that job's model is worse (and
below the default floors). Changing the experiment file's ``gate:`` section between trainings is the user's own
configuration change.

  A  worse model, first release     -> floor missed: refused, nothing created (then released with an override,
                                       so that something serves)
  C  normal model                   -> better than A: deploys (the job's champion is A's model)
  D  normal model again             -> an exact tie with C: deploys (``tie: deploy``, the default)
     traffic split by hand: C 70% / D 30%
  E  worse model, floors lowered,   -> the job's champion is C (the 70% deployment), not D (the newest);
     primary may drop by 1.0           the f1_macro guard refuses it

The same cases run as fast unit tests on the MLClient-shaped fake in test_gate_release.py (with ``tie: refuse``
and a stale verdict too); a first release meeting the floors, a worse model and an override with a reason run
through the stand-in in test_gate_standin.py.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure_fixtures import edit_yaml

import mlops.commands._azure as azure_commands
from conftest import bake
from mlops.azureml.gate_release import GateRefused
from mlops.azureml.model_reference import model_label
from mlops.commands import deploy, train

pytest_plugins = ["mlops.standin.fixtures"]
pytestmark = pytest.mark.slow  # four real jobs and four deployments: schedule it with the other long modules

ENDPOINT, MODEL = "iris-classifier-svc", "iris-classifier-model"
WRITES = ("PUT", "PATCH", "DELETE")


def commit_of(step: str) -> str:
    return hashlib.sha1(f"gate case {step}".encode()).hexdigest()


def deployment_of(step: str) -> str:
    return f"c{commit_of(step)[:8]}"


def shown(value: float) -> str:
    """A metric as the gate's messages write it (4 decimals, no trailing zeros)."""
    return f"{value:.4f}".rstrip("0").rstrip(".")


@dataclass
class Chain:
    """The repo, the client on the module's stand-in, and what each step of the chain trained."""

    repo: Path
    client: Any
    standin: Any
    patch: pytest.MonkeyPatch
    trained: dict[str, Any] = field(default_factory=dict)

    def train(self, step: str, *, worse: bool = False) -> Any:
        """Train commit ``step`` with ``mlops train`` (the worse-model fault armed when ``worse``)."""
        if worse:
            self.standin.inject("worse-model")
        self.patch.setenv("GITHUB_SHA", commit_of(step))
        self.patch.setenv("GITHUB_RUN_ID", str(len(self.trained) + 1))
        self.trained[step] = train.train(self.repo, log=print)
        return self.trained[step]

    def deploy(self, step: str, override: str | None = None) -> Any:
        """Release commit ``step`` with ``mlops deploy``."""
        self.patch.setenv("GITHUB_SHA", commit_of(step))
        return deploy.deploy(self.repo, override=override, log=print)

    def label(self, step: str) -> str:
        """``name:version`` of the model step ``step`` registered."""
        if step not in self.trained:
            pytest.fail(f"step {step} of the chain did not run: see the test before this one")
        return f"{MODEL}:{self.trained[step].model_version}"

    def tags(self, step: str) -> dict[str, str]:
        """The tags of the model step ``step`` registered, as the workspace holds them now."""
        return self.client.models.get(MODEL, version=self.label(step).rpartition(":")[2]).tags

    def gate(self, change) -> None:
        """Change the experiment file's ``gate:`` section."""
        edit_yaml(self.repo / "iris-classifier.yml", lambda data: change(data["gate"]))

    def refused(self, step: str) -> tuple[str, list[Any]]:
        """Run ``mlops deploy`` for ``step``, expecting the gate to refuse it: its message and the requests it made."""
        before = len(self.standin.requests())
        with pytest.raises(GateRefused) as refused:
            self.deploy(step)
        return str(refused.value), self.standin.requests()[before:]

    def serving(self) -> dict[str, tuple[int, str]]:
        """deployment -> (traffic, ``name:version`` of its model), for the deployments that take traffic."""
        traffic = self.client.online_endpoints.get(ENDPOINT).traffic
        return {name: (int(share), model_label(self.client.online_deployments.get(name, ENDPOINT).model))
                for name, share in traffic.items() if int(share)}


@pytest.fixture(scope="module")
def chain(module_standin, tmp_path_factory):
    repo = bake(tmp_path_factory.mktemp("gate-cases"))
    config = json.loads((repo / "azure-config.json").read_text())
    client = module_standin.ml_client(config["resource_group"], config["workspace_name"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(azure_commands, "connect", lambda project: client)
        patch.setenv("GITHUB_RUN_ATTEMPT", "1")
        patch.setenv("GITHUB_ACTOR", "octocat")
        for name in ("MLOPS_OVERRIDE_GATE_REASON", "GITHUB_STEP_SUMMARY"):
            patch.delenv(name, raising=False)
        yield Chain(repo, client, module_standin, patch)


def test_a_first_release_below_a_floor_is_refused_and_nothing_is_created(chain):
    a = chain.train("A", worse=True)
    accuracy = a.gate["challenger"]["metrics"]["accuracy"]
    assert accuracy < 0.8 and not a.gate["verdict"]["passed"] and a.gate["verdict"]["first_release"]
    assert chain.tags("A")["gate"] == "refused"
    message, requests = chain.refused("A")
    assert message.startswith(f"quality gate refused {chain.label('A')}: accuracy {shown(accuracy)}: "
                              "accuracy must be >= 0.8 (floor, applies to every release)"), message
    assert [r.line() for r in requests if r.method in WRITES] == []
    with pytest.raises(ResourceNotFoundError):
        chain.client.online_endpoints.get(ENDPOINT)  # no endpoint, so no deployment either


def test_a_better_challenger_takes_over_judged_against_the_model_serving(chain):
    reason = "a first model to measure the next ones against"
    assert chain.deploy("A", override=reason).gate.override == reason
    assert chain.serving() == {deployment_of("A"): (100, chain.label("A"))}
    tags = chain.tags("A")
    assert (tags["gate"], tags["gate_override"], tags["gate_override_by"]) == ("refused", reason, "octocat")
    c = chain.train("C")
    assert c.gate["champion"]["model"] == chain.label("A")
    mine, theirs = c.gate["challenger"]["metrics"], c.gate["champion"]["metrics"]
    assert theirs == chain.trained["A"].gate["challenger"]["metrics"]  # the champion scored again, the same
    assert mine["accuracy"] > theirs["accuracy"] and c.gate["verdict"]["passed"]
    assert chain.tags("C")["gate_champion"] == chain.label("A") and chain.tags("C")["gate"] == "passed"
    assert chain.deploy("C").traffic == {deployment_of("C"): 100}
    assert chain.serving() == {deployment_of("C"): (100, chain.label("C"))}


def test_an_exact_tie_is_released_as_the_default_tie_deploy_says(chain):
    d = chain.train("D")
    assert d.gate["champion"]["model"] == chain.label("C")
    assert d.gate["challenger"]["metrics"] == d.gate["champion"]["metrics"]  # same data, same code, seed 42
    primary = [check for check in d.gate["verdict"]["checks"] if check["kind"] == "primary"]
    assert [check["passed"] for check in primary] == [True]
    assert primary[0]["rule"].endswith("a tie is released (gate.tie: deploy)")
    assert chain.tags("D")["gate"] == "passed"
    assert chain.deploy("D").traffic == {deployment_of("D"): 100}
    assert chain.serving() == {deployment_of("D"): (100, chain.label("D"))}


def test_the_champion_is_the_deployment_with_most_traffic_when_two_split_it(chain):
    older, newer = deployment_of("C"), deployment_of("D")
    # A person splits traffic by hand with the SDK: C's model back on 70%, D's (the newest) on 30%.
    again = chain.client.online_deployments.get(newer, ENDPOINT)
    again.name, again.model = older, f"azureml:{chain.label('C')}"
    chain.client.online_deployments.begin_create_or_update(again).result()
    endpoint = chain.client.online_endpoints.get(ENDPOINT)
    endpoint.traffic = {older: 70, newer: 30}
    chain.client.online_endpoints.begin_create_or_update(endpoint).result()
    assert chain.serving() == {older: (70, chain.label("C")), newer: (30, chain.label("D"))}

    # Only the f1_macro guard may refuse the next model: the primary may drop by up to 1.0 and the floors
    # are below the worse model's scores.
    worst = chain.trained["A"].gate["challenger"]["metrics"]
    floors = {metric: {"min": round(worst[metric] - 0.05, 2)} for metric in ("accuracy", "f1_macro")}
    chain.gate(lambda gate: (gate["primary"].update(max_drop=1.0), gate.update(floors=floors)))
    e = chain.train("E", worse=True)
    assert e.gate["champion"]["model"] == chain.label("C")  # the 70% deployment's model, not the newest
    assert chain.tags("E")["gate_champion"] == chain.label("C")


def test_a_guard_metric_drop_is_refused_with_the_primary_within_its_tolerance(chain):
    e = chain.trained.get("E") or pytest.fail("step E of the chain did not run: see the test before this one")
    kinds = [(check["kind"], check["metric"], check["passed"]) for check in e.gate["verdict"]["checks"]]
    assert sorted(kinds) == [("floor", "accuracy", True), ("floor", "f1_macro", True),
                             ("guard", "f1_macro", False), ("primary", "accuracy", True)]
    checks = {check["kind"]: check for check in e.gate["verdict"]["checks"]}
    assert chain.tags("E")["gate"] == "refused"
    before = chain.serving()
    mine, theirs = checks["guard"]["challenger"], checks["guard"]["champion"]
    message, requests = chain.refused("E")
    assert message.startswith(f"quality gate refused {chain.label('E')}: f1_macro {shown(mine)} vs {shown(theirs)} "
                              f"for champion {chain.label('C')}: f1_macro may be at most 0.02 worse than the "
                              "champion (higher is better); "), message  # the guard alone failed
    assert f"endpoint {ENDPOINT} untouched (no deployment created)" in message
    assert [r.line() for r in requests if r.method in WRITES] == []
    assert chain.serving() == before

