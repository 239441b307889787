"""Train {{ cookiecutter.model_name }}, the model of experiment {{ cookiecutter.experiment_name }}.

Runs the same way on a laptop (`mlops smoke-train`) and in an Azure ML command job: inputs arrive
as command-line paths, and everything written to ./outputs is kept with the job.
"""
#=====base imports
import argparse
import json
from pathlib import Path

import joblib
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

#=====set experiment and model name
EXPERIMENT_NAME = "{{ cookiecutter.experiment_name }}"
MODEL_NAME = "{{ cookiecutter.model_name }}"
OUTPUTS = Path("outputs")

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--training_data", type=Path, required=True, help="CSV with the features and a species column")
parser.add_argument("--n_estimators", type=int, default=100)
parser.add_argument("--test_size", type=float, default=0.25)
parser.add_argument("--seed", type=int, default=42)
args = parser.parse_args()

#=====import data
frame = pd.read_csv(args.training_data)
features = frame.drop(columns=["species"])
labels = frame["species"]

#=====custom training code
x_train, x_test, y_train, y_test = train_test_split(
    features, labels, test_size=args.test_size, random_state=args.seed, stratify=labels
)
model = RandomForestClassifier(n_estimators=args.n_estimators, random_state=args.seed)
model.fit(x_train, y_train)
predictions = model.predict(x_test)
metrics = {
    "accuracy": round(float(accuracy_score(y_test, predictions)), 4),
    "f1_macro": round(float(f1_score(y_test, predictions, average="macro")), 4),
    "train_rows": int(len(x_train)),
    "test_rows": int(len(x_test)),
}

#=====save model and metrics
OUTPUTS.mkdir(exist_ok=True)
joblib.dump(model, OUTPUTS / "model.joblib")
(OUTPUTS / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
print(json.dumps(metrics))
