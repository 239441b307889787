"""Train {{ cookiecutter.model_name }}, the model of experiment {{ cookiecutter.experiment_name }}.

This is a base file: it holds only the three sections an author writes. The toolkit fills in the
others (imports, MLflow tracking, metrics, performance plots, saving the model); `mlops assemble
train.py` prints the complete script, which is what `mlops smoke-train` and the Azure ML job run.
Write any filled section here to replace it, or write its marker alone to skip it.
"""
{%- if cookiecutter.framework == 'spacy' %}
#=====set experiment and model name
import argparse
from pathlib import Path

EXPERIMENT_NAME = "{{ cookiecutter.experiment_name }}"
MODEL_NAME = "{{ cookiecutter.model_name }}"

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
parser.add_argument("--training_data", type=Path, required=True, help="folder with train.jsonl and dev.jsonl")
parser.add_argument("--config", type=Path, default=Path("config.cfg"), help="the spaCy training config")
# Anything else is a spaCy config override, as on `spacy train`: the smoke run adds --training.max_epochs 1.
args, config_overrides = parser.parse_known_args()

#=====import data
import json
import tempfile

import spacy
from spacy.tokens import DocBin


def read_forms(path, nlp):
    """Docs with their entities from JSON lines of {"text": ..., "entities": [[start, end, label], ...]}."""
    docs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        doc = nlp.make_doc(record["text"])
        spans = [doc.char_span(start, end, label=label) for start, end, label in record["entities"]]
        if None in spans:
            raise SystemExit(f"{path}:{number}: an entity does not start and end on token boundaries")
        doc.ents = spans
        docs.append(doc)
    return docs


# spaCy trains from its binary DocBin format: convert the forms into a scratch corpus folder, which is
# removed when the script ends.
scratch = tempfile.TemporaryDirectory(prefix="corpus-")
corpus = Path(scratch.name)
forms = {split: read_forms(args.training_data / f"{split}.jsonl", spacy.blank("en")) for split in ("train", "dev")}
for split, docs in forms.items():
    DocBin(docs=docs).to_disk(corpus / f"{split}.spacy")

#=====custom training code
from spacy.cli._util import parse_config_overrides  # the parser behind `spacy train --section.key value`
from spacy.training import Example
from spacy.training.initialize import init_nlp
from spacy.training.loop import train as train_pipeline

# A blank pipeline trained from config.cfg, nothing downloaded. config.cfg keeps max_epochs = 0
# (train until patience runs out); a quick run overrides it on the command line instead.
overrides = {"paths.train": str(corpus / "train.spacy"), "paths.dev": str(corpus / "dev.spacy"),
             **parse_config_overrides(config_overrides)}
config = spacy.util.load_config(args.config, overrides=overrides, interpolate=False)
model, _ = train_pipeline(init_nlp(config), None)

scores = model.evaluate([Example(model.make_doc(doc.text), doc) for doc in forms["dev"]])
metrics = {name: round(float(scores[name]), 4) for name in ("ents_f", "ents_p", "ents_r")}
metrics.update({f"ents_f_{label}": round(float(score["f"]), 4)
                for label, score in sorted((scores["ents_per_type"] or {}).items())})
metrics.update({"train_docs": len(forms["train"]), "dev_docs": len(forms["dev"])})

# Token by token, the gold and the predicted entity label ("O" outside entities): the confusion matrix.
y_test, predictions = [], []
for gold in forms["dev"]:
    y_test += [token.ent_type_ or "O" for token in gold]
    predictions += [token.ent_type_ or "O" for token in model(gold.text)]
{%- else %}
#=====set experiment and model name
import argparse
from pathlib import Path

EXPERIMENT_NAME = "{{ cookiecutter.experiment_name }}"
MODEL_NAME = "{{ cookiecutter.model_name }}"
TARGET = "species"  # the column the model predicts; every other column of the CSV is a feature

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
parser.add_argument("--training_data", type=Path, required=True, help=f"CSV with the features and a {TARGET} column")
parser.add_argument("--n_estimators", type=int, default=100)
parser.add_argument("--test_size", type=float, default=0.25)
parser.add_argument("--seed", type=int, default=42)
args = parser.parse_args()

#=====import data
import pandas as pd

frame = pd.read_csv(args.training_data)
# `features` (a DataFrame) and `labels` are what the request schema of serving/ is built from.
features = frame.drop(columns=[TARGET])
labels = frame[TARGET]

#=====custom training code
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder

# Columns by type: numbers and true/false pass through (a missing value becomes the median); every
# other column is a category, one-hot encoded. Add a step here for another kind of column (e.g. a
# TfidfVectorizer for free text) or another model; serving reads the columns from the data, not from here.
preprocess = ColumnTransformer([
    ("numbers", SimpleImputer(strategy="median"), make_column_selector(dtype_include=["number", "bool"])),
    ("categories", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
     make_column_selector(dtype_exclude=["number", "bool"])),
])
model = Pipeline([
    ("preprocess", preprocess),
    ("classifier", RandomForestClassifier(n_estimators=args.n_estimators, random_state=args.seed)),
])

x_train, x_test, y_train, y_test = train_test_split(
    features, labels, test_size=args.test_size, random_state=args.seed, stratify=labels
)
model.fit(x_train, y_train)
predictions = model.predict(x_test)
metrics = {
    "accuracy": round(float(accuracy_score(y_test, predictions)), 4),
    "f1_macro": round(float(f1_score(y_test, predictions, average="macro")), 4),
    "train_rows": int(len(x_train)),
    "test_rows": int(len(x_test)),
}
{%- endif %}
