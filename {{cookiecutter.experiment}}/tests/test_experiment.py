"""This experiment's own checks, run by `make check` after the smoke training."""

import json
from pathlib import Path

from mlops.validation import validate_project

ROOT = Path(__file__).resolve().parents[1]
ACCURACY_FLOOR = 0.8


def test_configs_are_valid():
    report = validate_project(ROOT)
    assert not report.errors, "\n".join(map(str, report.errors))


def test_smoke_model_beats_the_accuracy_floor():
    metrics_file = ROOT / "outputs" / "metrics.json"
    assert metrics_file.is_file(), "no outputs/metrics.json: run `make smoke-train` first"
    metrics = json.loads(metrics_file.read_text(encoding="utf-8"))
    assert metrics["accuracy"] >= ACCURACY_FLOOR, metrics
