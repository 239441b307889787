"""The quality gate's evaluation in `mlops smoke-train`: the job's own gate step, a locally saved champion,
and the gate's metrics checked against what the evaluation reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from azure_fixtures import edit_yaml

from conftest import copy_sharing_venv, mlops, run
from mlops.runtime_env import ensure_venv
from mlops.runtime_spec import load_runtime_spec

DUMMY = """
import sys, joblib, pandas as pd
from sklearn.dummy import DummyClassifier
frame = pd.read_csv(sys.argv[1])
model = DummyClassifier(strategy="most_frequent").fit(frame.drop(columns=["species"]), frame["species"])
joblib.dump(model, sys.argv[2])
"""


@pytest.fixture
def repo(set_up_repo, tmp_path) -> Path:
    """A copy of the set-up sklearn repo that a test may edit (its .venv is shared by symlink)."""
    source = set_up_repo("sklearn")
    return copy_sharing_venv(source, tmp_path / source.name)


def test_smoke_run_judges_the_smoke_model_against_a_locally_saved_champion(repo, tmp_path):
    spec = load_runtime_spec(repo / "environment/environment.yml", "environment/environment.yml")
    python = str(ensure_venv(spec, log=lambda *_: None))
    champion = tmp_path / "champion"
    champion.mkdir()
    run([python, "-c", DUMMY, str(repo / "data/iris.csv"), str(champion / "model.joblib")], repo)
    summary = tmp_path / "summary.md"

    result = mlops("smoke-train", "--champion", str(champion), cwd=repo, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.returncode == 0, result.stdout + result.stderr
    record = json.loads((repo / "outputs" / "gate.json").read_text())
    assert record["champion"] == {"model": "local:champion", "metrics": {"accuracy": 0.3333, "f1_macro": 0.1667}}
    assert record["challenger"]["metrics"]["accuracy"] >= 0.8 and record["verdict"]["passed"] is True
    assert record["evaluation_data"] == "data/evaluation/iris.csv"
    assert "quality gate: PASSED against local:champion" in result.stdout
    assert "| accuracy (primary) | may not be worse than the champion (higher is better) | 0.3333 |" in \
        summary.read_text()

    # The gate names a metric the evaluation does not report: validate says where, from the last smoke run.
    edit_yaml(repo / "iris-classifier.yml", lambda data: data["gate"]["floors"].update(roc_auc={"min": 0.9}))
    checked = mlops("validate", cwd=repo)
    assert checked.returncode == 1
    assert ("gate.floors.roc_auc: 'roc_auc' is not a metric evaluate.py reported in the smoke run (it reported: "
            "accuracy, f1_macro): name one of those, or return it from evaluate()") in checked.stdout


def test_a_broken_evaluation_script_fails_the_smoke_run_naming_it(repo):
    script = repo / "evaluate.py"
    script.write_text(script.read_text().replace('frame.drop(columns=[LABEL])', 'frame.drop(columns=["label"])'))
    result = mlops("smoke-train", cwd=repo)
    assert result.returncode == 1
    assert "the quality gate's evaluation failed with exit code 1" in result.stderr
    assert "fix evaluate.py (load_model and evaluate)" in result.stderr
    assert "KeyError" in result.stderr  # the evaluation's own traceback is shown above the one-line error


def test_every_metric_the_gate_names_is_checked_with_its_place_in_the_file(tmp_path):
    from conftest import bake
    from mlops.positioned import load_document
    from mlops.validation.gate_checks import unreported_metrics

    repo = bake(tmp_path)
    experiment = repo / "iris-classifier.yml"
    edit_yaml(experiment, lambda data: data["gate"]["primary"].update(metric="balanced_accuracy"))
    document = load_document(experiment)
    found = unreported_metrics(document.data, experiment.name, document, {"accuracy": 0.9, "f1_macro": 0.9,
                                                                          "note": "text is not a metric"})
    assert [f.field for f in found] == ["gate.primary.metric"]
    line = experiment.read_text().splitlines()[found[0].line - 1]
    assert "metric: balanced_accuracy" in line
    assert unreported_metrics({**document.data, "gate": None}, experiment.name, document, {}) == []
