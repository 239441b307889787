"""This experiment's own checks, run by `make check` after the smoke training."""

import json
from pathlib import Path

from mlops.frameworks import get_framework
from mlops.project import load_project
from mlops.smoke_record import stale_reason
from mlops.validation import validate_project

ROOT = Path(__file__).resolve().parents[1]
{%- if cookiecutter.framework == 'spacy' %}
# One epoch on the synthetic forms already finds most entities; the full run in Azure goes further.
METRIC, FLOOR = "ents_f", 0.5
{%- else %}
METRIC, FLOOR = "accuracy", 0.8
{%- endif %}
FRAMEWORK = "{{ cookiecutter.framework }}"


def smoke_outputs() -> Path:
    """outputs/, if the last successful smoke run trained it from the code as it is now."""
    stale = stale_reason(load_project(ROOT))
    assert not stale, stale
    return ROOT / "outputs"


def test_configs_are_valid():
    report = validate_project(ROOT)
    assert not report.errors, "\n".join(map(str, report.errors))


def test_smoke_model_beats_the_floor():
    metrics = json.loads((smoke_outputs() / "metrics.json").read_text(encoding="utf-8"))
    assert metrics[METRIC] >= FLOOR, metrics


def test_smoke_run_saved_the_model_and_a_performance_plot():
    outputs = smoke_outputs()
    assert (ROOT / get_framework(FRAMEWORK).model_output).exists()
    assert list(outputs.glob("*.png")), "no performance plot in outputs/"
{%- if cookiecutter.framework == 'spacy' %}


def test_config_trains_until_patience_runs_out():
    # The smoke run shortens training with --training.max_epochs 1; the file itself is never edited.
    settings = [line.split("=", 1)[1].strip() for line in (ROOT / "config.cfg").read_text().splitlines()
                if line.replace(" ", "").startswith("max_epochs=")]
    assert settings == ["0"], settings
{%- endif %}
