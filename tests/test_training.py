"""Training as a team runs it: base scripts assembled, smoke-trained, tracked with MLflow, plotted and summarised."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from azure_fixtures import edit_yaml

from conftest import PNG_MAGIC, bake, mlflow_runs, mlops, run
from mlops.runtime_env import ensure_venv
from mlops.runtime_spec import load_runtime_spec

# A base train.py as the reference document describes it: only the three author sections, data read
# from a `local` folder by relative path, no command line, a regression (so the other plot).
REFERENCE_BASE = '''\
#=====set experiment and model name
EXPERIMENT_NAME = "iris-petal-width"
MODEL_NAME = "iris-petal-width-model"

#=====import data
import pandas as pd

data = pd.read_csv("data/iris.csv")

#=====custom training code
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.model_selection import train_test_split

x = data[["sepal_length", "sepal_width", "petal_length"]]
x_train, x_test, y_train, y_test = train_test_split(x, data["petal_width"], test_size=0.3, random_state=0)
model = LinearRegression().fit(x_train, y_train)
predictions = model.predict(x_test)
metrics = {"r2": round(float(r2_score(y_test, predictions)), 4),
           "mae": round(float(mean_absolute_error(y_test, predictions)), 4)}
'''

REFERENCE_EVALUATE = '''\
from pathlib import Path

import joblib
import pandas as pd
from sklearn.metrics import mean_absolute_error, r2_score


def load_model(folder):
    return joblib.load(next(Path(folder).rglob("model.joblib")))


def evaluate(model, data):
    frame = pd.read_csv(data)
    predictions = model.predict(frame[["sepal_length", "sepal_width", "petal_length"]])
    return {"r2": round(float(r2_score(frame["petal_width"], predictions)), 4),
            "mae": round(float(mean_absolute_error(frame["petal_width"], predictions)), 4)}
'''


@pytest.mark.slow  # builds the runtime environment
def test_a_reference_base_file_assembles_smoke_trains_and_produces_everything(tmp_path):
    repo = bake(tmp_path, experiment="petal-width")
    (repo / "train.py").write_text(REFERENCE_BASE)
    experiment = repo / "petal-width.yml"  # the script reads data/ itself: ship it next to the script
    experiment.write_text(experiment.read_text().replace("\ntrain:\n", "\nlocal:\n  - data\n\ntrain:\n"))
    # Other metrics than the template's: the quality gate names them, evaluate.py reports them.
    (repo / "evaluate.py").write_text(REFERENCE_EVALUATE)
    edit_yaml(experiment, lambda data: data["gate"].update(
        primary={"metric": "r2"}, guards={"mae": {"direction": "minimize", "max_drop": 0.05}},
        floors={"r2": {"min": 0.8}}))
    summary = tmp_path / "summary.md"
    result = mlops("smoke-train", cwd=repo, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.returncode == 0, result.stdout + result.stderr
    metrics = json.loads((repo / "outputs/metrics.json").read_text())
    assert set(metrics) == {"r2", "mae"} and metrics["r2"] > 0.8
    assert (repo / "outputs/predicted_vs_actual.png").read_bytes().startswith(PNG_MAGIC)
    assert not (repo / "outputs/confusion_matrix.png").exists()
    assert (repo / "outputs/model.joblib").stat().st_size > 0
    assert "plot: outputs/predicted_vs_actual.png" in result.stdout
    gate = json.loads((repo / "outputs/gate.json").read_text())
    assert set(gate["challenger"]["metrics"]) == {"r2", "mae"} and gate["verdict"]["passed"]
    text = summary.read_text()
    assert "| metric | value |" in text and f"| r2 | {metrics['r2']} |" in text
    [mlflow_run] = mlflow_runs(repo)
    assert (mlflow_run / "tags" / "model_name").read_text() == "iris-petal-width-model"
    assert (mlflow_run / "artifacts" / "model.joblib").is_file()
    schema = json.loads((repo / "outputs/input-schema.json").read_text())  # found x, the frame the model was fit on
    assert [column["name"] for column in schema["features"]] == ["sepal_length", "sepal_width", "petal_length"]


def test_a_base_file_missing_an_author_section_fails_validation_naming_it(tmp_path):
    repo = bake(tmp_path)
    base = (repo / "train.py").read_text()
    (repo / "train.py").write_text(base.replace("#=====import data\n", ""))
    validated = mlops("validate", cwd=repo)
    assert validated.returncode == 1
    assert "train.py:1:1: no '#=====import data' section" in validated.stdout
    smoke = mlops("smoke-train", cwd=repo)
    assert smoke.returncode == 1 and "no '#=====import data' section" in smoke.stderr


def test_the_shipped_forms_are_what_the_corpus_script_writes(tmp_path):
    repo = bake(tmp_path, framework="spacy")
    subprocess.run([sys.executable, "data/make_forms.py", "--out", str(tmp_path / "again")], cwd=repo, check=True,
                   capture_output=True)
    for written in ("forms/train.jsonl", "forms/dev.jsonl", "evaluation/forms.jsonl"):
        assert (tmp_path / "again" / written).read_bytes() == (repo / "data" / written).read_bytes()


@pytest.mark.slow  # builds the runtime environment
def test_inside_an_azure_ml_job_the_script_logs_to_the_run_the_service_opened(tmp_path):
    """Azure ML sets MLFLOW_TRACKING_URI and MLFLOW_RUN_ID; a file store stands in for the workspace here."""
    repo = bake(tmp_path)
    spec = load_runtime_spec(repo / "environment/environment.yml", "environment/environment.yml")
    python = str(ensure_venv(spec, log=lambda *_: None))
    workspace = (tmp_path / "workspace").as_uri()
    opened = run([python, "-c", (
        "import os, mlflow; os.environ['MLFLOW_ALLOW_FILE_STORE'] = 'true'; mlflow.set_tracking_uri(os.sys.argv[1]); "
        "print(mlflow.MlflowClient().create_run(mlflow.create_experiment('job-experiment')).info.run_id)"), workspace],
        repo)
    run_id = opened.stdout.split()[-1]
    assert mlops("assemble", "train.py", "-o", "job.py", cwd=repo).returncode == 0
    job = run([python, "job.py", "--training_data", "data/iris.csv", "--n_estimators", "5"], repo,
              env={"MLFLOW_TRACKING_URI": workspace, "MLFLOW_RUN_ID": run_id})
    store = tmp_path / "workspace"
    [run_dir] = [path for path in store.glob(f"*/{run_id}")]
    experiments = {(meta.parent / "meta.yaml").read_text().split("name: ")[1].split()[0]
                   for meta in store.glob("*/meta.yaml")}
    assert experiments == {"job-experiment", "Default"}  # the script named no experiment of its own
    assert (run_dir / "metrics" / "accuracy").is_file() and (run_dir / "params" / "n_estimators").is_file()
    assert not any((run_dir / "artifacts").iterdir())  # Azure ML uploads ./outputs itself
    assert not (repo / "mlruns").exists() and '"accuracy"' in job.stdout
