"""The quality gate's rule and verdict: a pure function of (rule, challenger, champion or None)."""

from __future__ import annotations

import json

import pytest

from conftest import TEMPLATE
from mlops.gate import DEFAULT_RULES, judge_challenger, rule_from_config, rule_to_config, verdict_from_dict
from mlops.gate_report import model_tags, record_of, verdict_markdown

SKLEARN = rule_from_config(None, "sklearn")
GOOD = {"accuracy": 0.9667, "f1_macro": 0.9666}


def rule(**section):
    return rule_from_config(section, "sklearn")


def test_first_release_meeting_the_floors_passes_and_says_floors_only():
    verdict = judge_challenger(SKLEARN, GOOD, None)
    assert verdict.passed and verdict.first_release
    assert [c.kind for c in verdict.checks] == ["floor", "floor"]
    assert verdict.reason() == "passed: first release, floors met"


def test_a_missed_floor_refuses_even_the_first_release():
    verdict = judge_challenger(SKLEARN, {"accuracy": 0.7, "f1_macro": 0.9}, None)
    assert not verdict.passed
    assert verdict.reason() == "accuracy 0.7: accuracy must be >= 0.8 (floor, applies to every release)"


def test_a_better_challenger_passes():
    assert judge_challenger(SKLEARN, {"accuracy": 0.98, "f1_macro": 0.98}, GOOD, "m:1").passed


def test_a_worse_challenger_is_refused_naming_metric_both_values_rule_and_champion():
    verdict = judge_challenger(SKLEARN, {"accuracy": 0.9333, "f1_macro": 0.9600}, GOOD, "iris-model:4")
    assert not verdict.passed
    assert verdict.reason() == ("accuracy 0.9333 vs 0.9667 for champion iris-model:4: accuracy may not be worse "
                                "than the champion (higher is better)")


def test_a_drop_within_max_drop_passes_and_beyond_it_is_refused():
    tolerant = rule(primary={"metric": "accuracy", "max_drop": 0.01}, guards={}, floors={})
    assert judge_challenger(tolerant, {"accuracy": 0.9600}, {"accuracy": 0.9667}).passed
    assert not judge_challenger(tolerant, {"accuracy": 0.9500}, {"accuracy": 0.9667}).passed


def test_min_improvement_needs_that_much_better():
    strict = rule(primary={"metric": "accuracy", "min_improvement": 0.02}, guards={}, floors={})
    assert not judge_challenger(strict, {"accuracy": 0.98}, {"accuracy": 0.9667}).passed
    assert judge_challenger(strict, {"accuracy": 0.99}, {"accuracy": 0.9667}).passed


@pytest.mark.parametrize(("tie", "passed"), [("deploy", True), ("refuse", False)])
def test_an_exact_tie_does_what_the_rule_says(tie, passed):
    verdict = judge_challenger(rule(tie=tie), dict(GOOD), dict(GOOD), "m:1")
    assert verdict.passed is passed
    primary = next(c for c in verdict.checks if c.kind == "primary")
    assert f"(gate.tie: {tie})" in primary.rule


def test_a_tie_with_min_improvement_is_still_decided_by_tie():
    verdict = judge_challenger(rule(primary={"metric": "accuracy", "min_improvement": 0.01}, tie="deploy"), GOOD,
                               GOOD, "m:1")
    assert verdict.passed


def test_a_guard_metric_dropping_beyond_its_margin_refuses_a_better_primary():
    verdict = judge_challenger(SKLEARN, {"accuracy": 0.97, "f1_macro": 0.94}, GOOD, "m:1")
    assert not verdict.passed
    assert [c.metric for c in verdict.failures] == ["f1_macro"]
    assert verdict.reason().startswith("f1_macro 0.94 vs 0.9666 for champion m:1: f1_macro may be at most 0.02 worse")


def test_minimize_metrics_compare_the_other_way_and_max_floors_cap_them():
    loss = rule(primary={"metric": "rmse", "direction": "minimize"}, guards={}, floors={"rmse": {"max": 2.0}})
    assert judge_challenger(loss, {"rmse": 1.2}, {"rmse": 1.5}).passed
    assert not judge_challenger(loss, {"rmse": 1.6}, {"rmse": 1.5}).passed
    assert not judge_challenger(loss, {"rmse": 2.5}, None).passed


def test_a_metric_not_reported_fails_its_check():
    verdict = judge_challenger(SKLEARN, {"accuracy": 0.99}, GOOD, "m:1")
    assert not verdict.passed
    assert any(c.metric == "f1_macro" and c.challenger is None for c in verdict.failures)
    assert "(not reported)" in verdict.reason()


def test_the_verdict_round_trips_through_json():
    verdict = judge_challenger(SKLEARN, {"accuracy": 0.9, "f1_macro": 0.9}, GOOD, "m:1")
    assert verdict_from_dict(json.loads(json.dumps(verdict.to_dict()))) == verdict


def test_rule_config_round_trips_and_spacy_defaults_to_ents_f():
    assert rule_from_config(rule_to_config(SKLEARN), "sklearn") == SKLEARN
    assert rule_from_config(None, "spacy").primary.metric == "ents_f"


@pytest.mark.parametrize("framework", ["sklearn", "spacy"])
def test_the_generated_experiment_file_shows_the_framework_defaults(tmp_path, framework):
    import yaml

    from conftest import bake

    repo = bake(tmp_path, framework=framework)
    section = yaml.safe_load((repo / "iris-classifier.yml").read_text())["gate"]
    written = {k: v for k, v in section.items() if k in DEFAULT_RULES[framework]}
    assert rule_from_config(written, framework) == rule_from_config(None, framework)
    assert (repo / section["evaluation_data"]["sample"]).is_file()
    assert (TEMPLATE / "schemas" / "experiment.schema.json").is_file()


def test_the_summary_table_puts_both_models_side_by_side_and_tags_carry_the_verdict():
    from mlops.gate_evaluation import make_record

    settings = {"script": "evaluate.py", "framework": "sklearn", "rule": rule_to_config(SKLEARN)}
    record = make_record(settings, "azureml:iris-evaluation:1", {"accuracy": 0.9333, "f1_macro": 0.9327},
                         GOOD, "iris-model:4")
    text = verdict_markdown(record, "Quality gate", "iris-model:5")
    assert "### Quality gate: **refused**" in text
    assert "| metric | rule | champion `iris-model:4` | new `iris-model:5` | result |" in text
    assert ("| accuracy (primary) | may not be worse than the champion (higher is better) | 0.9667 | 0.9333 | "
            "**failed** |") in text
    tags = model_tags(record)
    assert tags["gate"] == "refused" and tags["gate_champion"] == "iris-model:4"
    assert tags["gate_new_accuracy"] == "0.9333" and tags["gate_champion_accuracy"] == "0.9667"
    assert record_of({"gate_record": json.dumps(record)}, {}) == json.loads(json.dumps(record))
    assert record_of({}, {}) is None


def test_validate_names_each_gate_mistake_in_one_line(tmp_path):
    import yaml

    from conftest import bake, mlops

    repo = bake(tmp_path)
    experiment = repo / "iris-classifier.yml"
    original = experiment.read_text()
    data = yaml.safe_load(original)
    data["gate"]["primary"]["min_improvement"] = 0.01
    data["gate"]["tie"] = "maybe"
    data["gate"]["floors"]["accuracy"] = {"minimum": 0.8}
    experiment.write_text(yaml.safe_dump(data, sort_keys=False))
    out = mlops("validate", cwd=repo).stdout
    assert "gate.primary: sets both 'max_drop' and 'min_improvement': keep one" in out
    assert "gate.tie: 'maybe' is not allowed: use one of 'deploy', 'refuse'" in out
    assert "gate.floors.accuracy.minimum: unknown key 'minimum': did you mean 'min'?" in out
    experiment.write_text(original)
    (repo / "data" / "evaluation" / "iris.csv").unlink()
    (repo / "evaluate.py").unlink()
    out = mlops("validate", cwd=repo).stdout
    assert "gate.evaluation_data.sample: 'data/evaluation/iris.csv' is not a file in the repo" in out
    assert "gate.evaluation_script: 'evaluate.py' is not a file in the repo" in out


def test_the_one_line_names_the_comparison_with_the_champion_before_a_floor():
    verdict = judge_challenger(SKLEARN, {"accuracy": 0.4667, "f1_macro": 0.4673},
                               {"accuracy": 0.9333, "f1_macro": 0.9327}, "m:1")
    assert verdict.reason() == ("accuracy 0.4667 vs 0.9333 for champion m:1: accuracy may not be worse than the "
                                "champion (higher is better) (and 3 more failed check(s))")
