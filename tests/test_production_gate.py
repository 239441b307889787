"""Production's quality gate: the version to promote judged against production's own champion, from the records
the versions carry (the stand-in run of the whole chain is tests/test_promotion.py)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from mlops.azureml.gate_release import GateRefused
from mlops.azureml.production_gate import check_promotion, judge_promotion
from mlops.azureml.registry import RegistryVersion
from mlops.azureml.retry import RetryPolicy
from mlops.gate import rule_from_config
from mlops.gate_evaluation import make_record

RULE = rule_from_config(None, "sklearn")  # accuracy may not drop; f1_macro at most 0.02; floors 0.8
DATA = "azureml:iris-evaluation:3f2a"
GOOD = {"accuracy": 0.97, "f1_macro": 0.97}


def record(metrics: dict, data: str = DATA) -> dict:
    """A gate record as a training job writes it (first release: floors only)."""
    return make_record({"rule": {}, "framework": "sklearn"}, data, metrics, None, None)


def test_a_version_no_worse_than_production_s_champion_goes_out():
    decision = judge_promotion(RULE, "m:2", record(GOOD), "m:1", record(GOOD))
    assert decision.problem is None and decision.record["verdict"]["champion"] == "m:1"
    assert decision.record["evaluation_data"] == DATA


def test_a_version_worse_than_production_s_champion_is_refused_naming_the_metric():
    decision = judge_promotion(RULE, "m:3", record({"accuracy": 0.90, "f1_macro": 0.97}), "m:1", record(GOOD))
    assert decision.problem.startswith("accuracy 0.9 vs 0.97 for champion m:1: accuracy may not be worse")


def test_metrics_on_different_evaluation_data_do_not_compare():
    decision = judge_promotion(RULE, "m:2", record(GOOD, "azureml:iris-evaluation:new"), "m:1", record(GOOD))
    assert decision.problem == ("m:2 was scored on 'azureml:iris-evaluation:new' but production's champion m:1 on "
                                f"'{DATA}': metrics on different evaluation data do not compare")


def test_production_s_first_release_meets_the_floors_only():
    assert judge_promotion(RULE, "m:1", record(GOOD), None, None).problem is None
    low = judge_promotion(RULE, "m:1", record({"accuracy": 0.5, "f1_macro": 0.97}), None, None)
    assert low.problem.startswith("accuracy 0.5: accuracy must be >= 0.8")


def test_a_rerun_of_the_same_version_and_missing_records():
    assert judge_promotion(RULE, "m:1", None, "m:1", None).problem is None  # serves already
    assert "m:2 carries no quality-gate record" in judge_promotion(RULE, "m:2", None, "m:1", record(GOOD)).problem
    assert "champion m:1 carries no quality-gate record" in judge_promotion(RULE, "m:2", record(GOOD), "m:1",
                                                                            None).problem


def clients(models: dict, serving: str | None):
    """A registry and production's workspace as far as the gate reads them (read-only: no write method)."""
    def get(name, version):
        found = models[(name, version)]
        return SimpleNamespace(name=name, version=version, tags={},
                               properties={"gate_record": json.dumps(found)} if found else {})
    registry = SimpleNamespace(models=SimpleNamespace(get=get))
    production = SimpleNamespace(
        models=SimpleNamespace(get=get),
        online_endpoints=SimpleNamespace(get=lambda name: SimpleNamespace(traffic={"v1-c1234567": 100} if serving
                                                                         else {})),
        online_deployments=SimpleNamespace(get=lambda name, endpoint: SimpleNamespace(model=serving)))
    return production, registry


PROJECT = SimpleNamespace(experiment=SimpleNamespace(gate=SimpleNamespace(rule={}), framework="sklearn"))
SHARED = RegistryVersion("mlr-iris", "m", "env-serving", "2")


def test_check_promotion_reads_the_champion_from_production_and_refuses_before_any_change():
    production, registry = clients({("m", "2"): record({"accuracy": 0.9, "f1_macro": 0.9}), ("m", "1"): record(GOOD)},
                                   "azureml://registries/mlr-iris/models/m/versions/1")
    with pytest.raises(GateRefused) as refused:
        check_promotion(production, registry, PROJECT, "iris-prod", SHARED, RetryPolicy(), log=lambda line: None)
    assert str(refused.value).startswith("production's quality gate refused m:2: accuracy 0.9 vs 0.97 for "
                                         "champion m:1")
    assert "production's endpoint iris-prod untouched (no deployment created); `mlops rollback --version N`" \
        in str(refused.value)
    lines = []
    production, registry = clients({("m", "2"): record(GOOD)}, None)
    decision = check_promotion(production, registry, PROJECT, "iris-prod", SHARED, RetryPolicy(), log=lines.append)
    assert decision.problem is None
    assert lines == ["  production's quality gate: passed first release (floors only)"]


def test_no_gate_no_judgement():
    project = SimpleNamespace(experiment=SimpleNamespace(gate=None, framework="sklearn"))
    assert check_promotion(None, None, project, "iris-prod", SHARED, None) is None
