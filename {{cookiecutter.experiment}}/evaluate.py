"""How {{ cookiecutter.model_name }} is scored by the quality gate (the `gate:` section of the experiment file).

The gate loads the new model and the model the endpoint serves with `load_model`, and scores both with
`evaluate` on the same pinned evaluation data, inside the training job and in `mlops smoke-train`.
The metric names `evaluate` returns are the ones `gate:` may name. Change both together.
"""
{%- if cookiecutter.framework == 'spacy' %}

import json
from pathlib import Path

import spacy
from spacy.training import Example


def load_model(folder):
    """The spaCy pipeline saved in `folder` (a job's outputs/, or a registered model's files) at any depth."""
    folders = sorted(meta.parent for meta in Path(folder).rglob("meta.json") if (meta.parent / "config.cfg").is_file())
    if not folders:
        raise FileNotFoundError(f"no spaCy pipeline (meta.json and config.cfg) under {folder}")
    return spacy.load(folders[0])


def evaluate(model, data):
    """Entity precision, recall and F-score of `model` on the forms in `data` (JSON lines, as in data/forms)."""
    examples = []
    for line in Path(data).read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            gold = model.make_doc(record["text"])
            gold.ents = [gold.char_span(start, end, label=label) for start, end, label in record["entities"]]
            examples.append(Example(model.make_doc(record["text"]), gold))
    scores = model.evaluate(examples)
    return {name: round(float(scores[name] or 0.0), 4) for name in ("ents_f", "ents_p", "ents_r")}
{%- else %}

from pathlib import Path

import joblib
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

LABEL = "species"


def load_model(folder):
    """The estimator saved as model.joblib in `folder` (a job's outputs/, or a registered model's files)."""
    found = sorted(Path(folder).rglob("model.joblib"))
    if not found:
        raise FileNotFoundError(f"no model.joblib under {folder}")
    return joblib.load(found[0])


def evaluate(model, data):
    """Accuracy and macro F1 of `model` on the labelled rows of the CSV at `data`."""
    frame = pd.read_csv(data)
    predictions = model.predict(frame.drop(columns=[LABEL]))
    return {
        "accuracy": round(float(accuracy_score(frame[LABEL], predictions)), 4),
        "f1_macro": round(float(f1_score(frame[LABEL], predictions, average="macro")), 4),
    }
{%- endif %}
