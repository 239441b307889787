"""Score the new model and the serving one on the pinned evaluation data, judge them, write ``outputs/gate.json``.

Runs inside the training job, right after the training script and in its environment (the job's
command is ``python train.py ... && python -m mlops_gate.gate_evaluation ...``), and in ``mlops
smoke-train``. It loads both models and scores them with the author's evaluation script (by default
``evaluate.py``: ``load_model(folder)`` and ``evaluate(model, data_path) -> dict``), so the two are
judged by the same code on the same data. Standard library only: the toolkit is not installed in the job.

    python -m mlops_gate.gate_evaluation --evaluation_data PATH [--evaluation_label NAME]
        [--champion_model DIR --champion NAME:VERSION]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

# Relative, so it resolves in the toolkit (package `mlops`) and in the job's staged copy (`mlops_gate`).
from .gate import judge_challenger, rule_from_config

RULE_FILE = "rule.json"
GATE_FILE = "gate.json"


def evaluation_module(script: Path) -> Any:
    """Import the author's evaluation script; it must define ``load_model`` and ``evaluate``."""
    spec = importlib.util.spec_from_file_location(script.stem, script)
    if spec is None or spec.loader is None:
        raise SystemExit(f"gate: cannot import {script}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name in ("load_model", "evaluate"):
        if not callable(getattr(module, name, None)):
            raise SystemExit(f"gate: {script.name} defines no function {name}(): the gate needs load_model(folder) "
                             "and evaluate(model, data_path)")
    return module


def score(module: Any, model_folder: Path, data: Path, who: str) -> dict[str, Any]:
    """The metrics ``module.evaluate`` reports for the model saved in ``model_folder``."""
    metrics = module.evaluate(module.load_model(model_folder), data)
    if not isinstance(metrics, dict):
        raise SystemExit(f"gate: evaluate() returned {type(metrics).__name__} for the {who}: return a dict of "
                         "metric name -> number")
    return metrics


def run(settings: dict[str, Any], data: Path, outputs: Path, champion_model: Path | None,
        champion: str | None, label: str | None = None) -> dict[str, Any]:
    """Score, judge and write ``outputs/gate.json``; return what was written. ``label`` names the data."""
    module = evaluation_module(Path(settings["script"]))
    mine = score(module, outputs, data, "new model")
    theirs = score(module, champion_model, data, "champion") if champion_model else None
    record = make_record(settings, label or str(data), mine, theirs, champion)
    (outputs / GATE_FILE).write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
    return record


def make_record(settings: dict[str, Any], data: str, mine: dict[str, Any], theirs: dict[str, Any] | None,
                champion: str | None) -> dict[str, Any]:
    """The gate's record: the rule, both models' metrics and the verdict (``theirs`` None: a first release)."""
    rule = rule_from_config(settings["rule"], settings["framework"])
    verdict = judge_challenger(rule, mine, theirs, champion if theirs is not None else None)
    return {"rule": settings["rule"], "rule_words": rule.words(), "evaluation_data": data,
            "challenger": {"metrics": mine},
            "champion": None if theirs is None else {"model": champion, "metrics": theirs},
            "verdict": verdict.to_dict()}


def print_record(record: dict[str, Any]) -> None:
    """The verdict as the job's log shows it: one line per check."""
    verdict = record["verdict"]
    print(f"quality gate: {'PASSED' if verdict['passed'] else 'REFUSED'}"
          + (" (first release: floors only)" if verdict["first_release"] else f" against {verdict['champion']}"))
    for check in verdict["checks"]:
        theirs = "" if check["champion"] is None else f" champion {check['champion']}"
        print(f"  {'ok  ' if check['passed'] else 'FAIL'} {check['metric']}: new {check['challenger']}{theirs}: "
              f"{check['rule']}")


def evaluate_in_job(argv: list[str] | None = None) -> int:
    """Parse the job's arguments, run the gate evaluation and print the verdict; exit 0 whatever it is."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluation_data", type=Path, required=True)
    parser.add_argument("--evaluation_label", default=None, help="how the summaries name the data (its asset)")
    parser.add_argument("--champion_model", type=Path, default=None, help="folder of the serving model")
    parser.add_argument("--champion", default=None, help="name:version of the serving model")
    parser.add_argument("--outputs", type=Path, default=Path("outputs"))
    parser.add_argument("--settings", type=Path, default=Path(__file__).resolve().parent / RULE_FILE)
    args = parser.parse_args(argv)
    settings = json.loads(args.settings.read_text(encoding="utf-8"))
    print_record(run(settings, args.evaluation_data, args.outputs, args.champion_model, args.champion,
                     args.evaluation_label))
    return 0


if __name__ == "__main__":
    sys.exit(evaluate_in_job())
