"""The quality gate's metrics against what the evaluation reported in the smoke run.

The gate may only name metrics that the evaluation script's ``evaluate()`` returns; ``mlops
smoke-train`` checks it after its run, and ``mlops validate`` against the last smoke run's
``outputs/gate.json`` when there is one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlops.gate as gate
from mlops.findings import Finding
from mlops.gate_evaluation import GATE_FILE
from mlops.metrics import read_metrics
from mlops.positioned import Document

SMOKE_OUTPUTS = Path("outputs")


def unreported_metrics(experiment: dict[str, Any], file_name: str, document: Document | None,
                       reported: dict[str, Any]) -> list[Finding]:
    """One finding per metric the gate names that the evaluation did not report (or not as a number)."""
    section = experiment.get("gate")
    if not section:
        return []
    numbers = sorted(k for k, v in reported.items() if isinstance(v, (int, float)) and not isinstance(v, bool))
    rule = gate.rule_from_config({k: v for k, v in section.items() if k in gate.RULE_KEYS}, experiment["framework"])
    places = [(("gate", "primary", "metric"), rule.primary.metric),
              *((("gate", "guards", g.metric), g.metric) for g in rule.guards),
              *((("gate", "floors", f.metric), f.metric) for f in rule.floors)]
    script = section.get("evaluation_script", gate.EVALUATION_SCRIPT)
    findings = []
    for path, metric in places:
        if metric in numbers:
            continue
        line, col = document.position(path, key=True) if document else (1, 1)
        findings.append(Finding(file_name, line, col, ".".join(path),
                                f"{metric!r} is not a metric {script} reported in the smoke run (it reported: "
                                f"{', '.join(numbers) or 'none'}): name one of those, or return it from evaluate()"))
    return findings


def last_smoke_findings(root: Path, file_name: str, document: Document) -> list[Finding]:
    """:func:`unreported_metrics` against the last smoke run's ``outputs/gate.json``, when there is one."""
    record = read_metrics(root / SMOKE_OUTPUTS / GATE_FILE)
    if not record:
        return []
    reported = (record.get("challenger") or {}).get("metrics") or {}
    return unreported_metrics(document.data, file_name, document, reported)
