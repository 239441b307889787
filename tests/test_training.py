"""Training as a team runs it: base scripts assembled, smoke-trained, tracked with MLflow, plotted and summarised."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import bake, mlops, run
from mlops.assembly import assemble
from mlops.frameworks import get_framework

PNG = b"\x89PNG\r\n\x1a\n"

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


def mlflow_runs(repo: Path) -> list[Path]:
    """The runs in the repo's local MLflow file store."""
    return [meta.parent for meta in (repo / "mlruns").glob("*/*/meta.yaml")]


@pytest.mark.parametrize("framework", ["sklearn", "spacy"])
def test_generated_repo_passes_make_check(set_up_repo, tmp_path, framework):
    repo = set_up_repo(framework)
    config_before = (repo / "config.cfg").read_bytes() if framework == "spacy" else None
    summary = tmp_path / "summary.md"
    result = run(["make", "check"], repo, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert "check: all passed" in result.stdout

    # The smoke run ran the assembled script, byte for byte what `mlops assemble` gives (and the job stages).
    staged = (repo / "build/smoke/train.py").read_text(encoding="utf-8")
    base = (repo / "train.py").read_text(encoding="utf-8")
    assert staged == assemble(base, get_framework(framework)).text != base

    outputs = repo / "outputs"
    metrics = json.loads((outputs / "metrics.json").read_text())
    assert (outputs / "confusion_matrix.png").read_bytes().startswith(PNG)
    model = repo / get_framework(framework).model_output
    if framework == "spacy":
        assert "--training.max_epochs 1" in result.stdout
        assert (repo / "config.cfg").read_bytes() == config_before  # never edited for the quick run
        assert {"config.cfg", "meta.json", "ner", "tok2vec"} <= {p.name for p in model.iterdir()}
        assert json.loads((model / "meta.json").read_text())["pipeline"] == ["tok2vec", "ner"]
        shown = "ents_f"
    else:
        assert model.is_file() and model.stat().st_size > 0
        shown = "accuracy"
    assert f"| {shown} | {metrics[shown]} |" in summary.read_text()

    runs = mlflow_runs(repo)
    assert runs, "no MLflow run in mlruns/"
    latest = max(runs, key=lambda path: path.stat().st_mtime)
    assert float((latest / "metrics" / shown).read_text().split()[1]) == metrics[shown]
    assert (latest / "artifacts" / "confusion_matrix.png").is_file()


def test_a_reference_base_file_assembles_smoke_trains_and_produces_everything(tmp_path):
    repo = bake(tmp_path, experiment="petal-width")
    (repo / "train.py").write_text(REFERENCE_BASE)
    summary = tmp_path / "summary.md"
    result = mlops("smoke-train", cwd=repo, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.returncode == 0, result.stdout + result.stderr
    metrics = json.loads((repo / "outputs/metrics.json").read_text())
    assert set(metrics) == {"r2", "mae"} and metrics["r2"] > 0.8
    assert (repo / "outputs/predicted_vs_actual.png").read_bytes().startswith(PNG)
    assert not (repo / "outputs/confusion_matrix.png").exists()
    assert (repo / "outputs/model.joblib").stat().st_size > 0
    assert "plot: outputs/predicted_vs_actual.png" in result.stdout
    text = summary.read_text()
    assert "| metric | value |" in text and f"| r2 | {metrics['r2']} |" in text
    [mlflow_run] = mlflow_runs(repo)
    assert (mlflow_run / "tags" / "model_name").read_text() == "iris-petal-width-model"
    assert (mlflow_run / "artifacts" / "model.joblib").is_file()


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
    for split in ("train", "dev"):
        assert (tmp_path / "again" / f"{split}.jsonl").read_bytes() == (repo / f"data/forms/{split}.jsonl").read_bytes()
