"""The ``#=====`` sections of a training script: their order, who writes them, and the code the toolkit fills in.

The author of a base ``train.py`` writes three sections; the toolkit fills in the others when the base
file lacks them. The filled code is today's equivalent of the original ``AzureMLRun`` sections:
MLflow records parameters and metrics (the Azure ML workspace inside a job, a local file store
elsewhere), and everything the job keeps goes to ``./outputs``, the folder Azure ML command jobs upload.

What the author's sections leave for the filled ones (plain module-level names):

- ``EXPERIMENT_NAME``, ``MODEL_NAME`` (set experiment and model name);
- ``args``, optional: the parsed command line, logged as the run's parameters;
- ``features`` and ``labels``, for scikit-learn: the training input (a pandas DataFrame) and its labels,
  from which the ``save model`` section writes the request schema of ``serving/``;
- ``model`` and ``metrics`` (a dict of name -> number), from the custom training code;
- ``y_test`` and ``predictions``, optional: held-out truth and predictions for the performance plot;
  ``TASK = "classification"`` or ``"regression"`` chooses the plot, else it is inferred.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlops.frameworks import Framework


@dataclass(frozen=True)
class SectionSpec:
    """One known section: the marker title it matches and whether the author must write it."""

    title: str
    required: bool

    @property
    def marker(self) -> str:
        """The marker line, as the toolkit writes it."""
        return f"#====={self.title}"


# The canonical order: a filled section goes before the first present section that follows it here.
SECTIONS = (
    SectionSpec("base imports", required=False),
    SectionSpec("connect to services", required=False),
    SectionSpec("set experiment and model name", required=True),
    SectionSpec("import data", required=True),
    SectionSpec("start the run", required=False),
    SectionSpec("custom training code", required=True),
    SectionSpec("log metrics", required=False),
    SectionSpec("save performance plots", required=False),
    SectionSpec("save model", required=False),
)

FILLED_NOTE = ("# Filled in by `mlops assemble`: write it in the base file to replace it, "
               "or leave it empty to skip it.\n")

BASE_IMPORTS = '''\
import json
import numbers
import os
from pathlib import Path

import mlflow
'''

CONNECT_TO_SERVICES = '''\
# Inside an Azure ML job the service points MLFLOW_TRACKING_URI at the workspace and opens the job's
# run (MLFLOW_RUN_ID). Anywhere else the run goes to a local file store: ./mlruns unless
# MLFLOW_TRACKING_URI names another.
RUN_BY_AZURE_ML = "MLFLOW_RUN_ID" in os.environ
TRACKING_URI = os.environ.get("MLFLOW_TRACKING_URI") or Path("mlruns").resolve().as_uri()
if TRACKING_URI.startswith("file:"):
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 keeps the file store behind this flag
mlflow.set_tracking_uri(TRACKING_URI)
# Azure ML keeps what a command job writes to ./outputs with the job.
OUTPUTS = Path("outputs")
OUTPUTS.mkdir(parents=True, exist_ok=True)
'''

START_THE_RUN = '''\
if not RUN_BY_AZURE_ML:  # an Azure ML job already belongs to its experiment
    mlflow.set_experiment(EXPERIMENT_NAME)
mlflow.start_run()
if not RUN_BY_AZURE_ML:  # (Azure ML marks a failed job itself) a local run that stops early is FAILED, never FINISHED
    import atexit
    import sys
    import traceback

    def record_failure(kind, error, trace):
        """An exception ends the run FAILED, with the error as its `error` tag."""
        if mlflow.active_run():
            mlflow.set_tag("error", "".join(traceback.format_exception_only(kind, error)).strip()[-4000:])
            mlflow.end_run(status="FAILED")
        sys.__excepthook__(kind, error, trace)

    def end_unfinished_run():
        """An exit before `save model` ended the run (sys.exit, SystemExit) ends it FAILED too."""
        if mlflow.active_run():
            mlflow.set_tag("error", "the script exited before the run ended (its output says why)")
            mlflow.end_run(status="FAILED")

    sys.excepthook = record_failure
    atexit.register(end_unfinished_run)
mlflow.set_tag("model_name", MODEL_NAME)
if hasattr(globals().get("args"), "__dict__"):  # the parsed command line, when the base file kept it in `args`
    mlflow.log_params({name: str(value) for name, value in vars(args).items()})
'''

LOG_METRICS = '''\
if not isinstance(globals().get("metrics"), dict):
    raise SystemExit("log metrics: the custom training code must leave its results in a dict named `metrics`")
(OUTPUTS / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str) + "\\n", encoding="utf-8")
mlflow.log_metrics({name: float(value) for name, value in metrics.items()
                    if isinstance(value, numbers.Real) and not isinstance(value, bool)})
print(json.dumps(metrics, default=str))
'''

SAVE_PERFORMANCE_PLOTS = '''\
# A confusion matrix for classification, predicted against actual for regression, drawn from the
# `y_test` and `predictions` the custom training code left. TASK chooses; else it is inferred.
import matplotlib

matplotlib.use("Agg")  # write files only: a job or a CI runner has no display
import matplotlib.pyplot as plt


def infer_task(actual, predicted):
    """Classification for labels or a few whole numbers, else regression."""
    values = [*actual, *predicted]
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
        return "classification"
    few_whole = all(float(v).is_integer() for v in values) and len(set(values)) <= 20
    return "classification" if few_whole else "regression"


def save_confusion_matrix(actual, predicted, path, title):
    """Counts of each (actual, predicted) pair, as an annotated heat map."""
    try:
        labels = sorted(set(actual) | set(predicted))
    except TypeError:
        labels = sorted(set(actual) | set(predicted), key=str)
    index = {label: i for i, label in enumerate(labels)}
    counts = [[0] * len(labels) for _ in labels]
    for truth, guess in zip(actual, predicted):
        counts[index[truth]][index[guess]] += 1
    side = 3 + 0.5 * len(labels)
    fig, ax = plt.subplots(figsize=(side + 1, side))
    image = ax.imshow(counts, cmap="Blues")
    names = [str(label) for label in labels]
    ax.set_xticks(range(len(labels)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), names)
    ax.set(xlabel="predicted", ylabel="actual", title=title)
    top = max(max(row) for row in counts)
    for i, row in enumerate(counts):
        for j, count in enumerate(row):
            ax.text(j, i, count, ha="center", va="center", color="white" if count > top / 2 else "black")
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def save_predicted_vs_actual(actual, predicted, path, title):
    """Each prediction against its true value, with the line a perfect model would sit on."""
    actual, predicted = [float(v) for v in actual], [float(v) for v in predicted]
    low, high = min(actual + predicted), max(actual + predicted)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(actual, predicted, s=12, alpha=0.6)
    ax.plot([low, high], [low, high], color="grey", linestyle="--", linewidth=1, label="perfect")
    ax.set(xlabel="actual", ylabel="predicted", title=title)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


plot_actual, plot_predicted = list(globals().get("y_test", [])), list(globals().get("predictions", []))
if plot_actual and len(plot_actual) == len(plot_predicted):
    if globals().get("TASK", infer_task(plot_actual, plot_predicted)) == "regression":
        plot_file = OUTPUTS / "predicted_vs_actual.png"
        save_predicted_vs_actual(plot_actual, plot_predicted, plot_file, f"{MODEL_NAME}: predicted vs actual")
    else:
        plot_file = OUTPUTS / "confusion_matrix.png"
        save_confusion_matrix(plot_actual, plot_predicted, plot_file, f"{MODEL_NAME}: confusion matrix")
    print(f"save performance plots: wrote {plot_file}")
else:
    print("save performance plots: skipped: the custom training code left no `y_test` and `predictions` "
          "of the same, non-zero length")
'''

SAVE_MODEL_CHECK = '''\
if "model" not in globals():
    raise SystemExit("save model: the custom training code must leave the trained model in `model`")
'''

SAVE_MODEL_END = '''\
if not RUN_BY_AZURE_ML:  # Azure ML uploads ./outputs with the job; locally the run keeps a copy
    mlflow.log_artifacts(str(OUTPUTS))
mlflow.end_run()
'''


def filled_code(title: str, framework: Framework) -> str:
    """The body the toolkit fills in for the section ``title`` (a filled, not required, section)."""
    bodies = {
        "base imports": BASE_IMPORTS,
        "connect to services": CONNECT_TO_SERVICES,
        "start the run": START_THE_RUN,
        "log metrics": LOG_METRICS,
        "save performance plots": SAVE_PERFORMANCE_PLOTS,
        "save model": f"# {framework.model_format}\n{SAVE_MODEL_CHECK}{framework.save_code}{SAVE_MODEL_END}",
    }
    return FILLED_NOTE + bodies[title]
