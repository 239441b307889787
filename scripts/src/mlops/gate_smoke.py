"""The quality gate in the smoke run, and the check that the gate names metrics the evaluation reports.

``mlops smoke-train`` runs the gate's step exactly as the job does (the staged ``mlops_gate``
package and the author's evaluation script, in the runtime environment), with the smoke model as the
challenger and a locally saved model as the champion: by default a copy of the smoke model itself,
loaded from a folder of its own as the job loads the serving model. A bug in the evaluation code
fails the pull request; the verdict itself is only reported (a smoke model is not a release).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from mlops import gate
from mlops.documents import Document
from mlops.errors import MlopsError
from mlops.findings import Finding
from mlops.gate_evaluation import GATE_FILE
from mlops.gate_staging import (
    DEFAULT_SCRIPT,
    MODULE,
    RULE_KEYS,
    evaluation_arguments,
    evaluation_input,
    evaluation_script,
    gate_section,
)
from mlops.metrics import read_metrics
from mlops.project import Project

CHAMPION_COPY = Path("build") / "smoke-champion"
SMOKE_OUTPUTS = Path("outputs")


def run_gate_step(project: Project, python: Path, code_dir: Path, env: dict[str, str],
                  champion: Path | None = None, log=print) -> dict[str, Any] | None:
    """Run the gate's step in the staged smoke job at ``code_dir``; return what it wrote, None without a gate."""
    if gate_section(project) is None:
        return None
    if champion is None:
        champion = project.root / CHAMPION_COPY
        if champion.exists():
            shutil.rmtree(champion)
        shutil.copytree(code_dir / "outputs", champion)
    relative = evaluation_input(project)["sample"]
    sample = project.path(relative)
    arguments = evaluation_arguments(str(sample), relative, str(champion.resolve()), f"local:{champion.name}")
    log(f"Quality gate: scoring the smoke model and the model in {champion} on {relative}")
    result = subprocess.run([str(python), "-m", MODULE, *arguments], cwd=code_dir, env=env, text=True,
                            capture_output=True)
    sys.stdout.write(result.stdout)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        script = evaluation_script(project)
        raise MlopsError(f"the quality gate's evaluation failed with exit code {result.returncode} (its output is "
                         f"above): fix {script} (load_model and evaluate) so the job can judge the model")
    return json.loads((code_dir / "outputs" / GATE_FILE).read_text(encoding="utf-8"))


def unreported_metrics(experiment: dict[str, Any], file_name: str, document: Document | None,
                       reported: dict[str, Any]) -> list[Finding]:
    """One finding per metric the gate names that the evaluation did not report (or not as a number)."""
    section = experiment.get("gate")
    if section is None:
        return []
    numbers = sorted(k for k, v in reported.items() if isinstance(v, (int, float)) and not isinstance(v, bool))
    rule = gate.rule_from_config({k: v for k, v in section.items() if k in RULE_KEYS}, experiment["framework"])
    places = [(("gate", "primary", "metric"), rule.primary.metric),
              *((("gate", "guards", g.metric), g.metric) for g in rule.guards),
              *((("gate", "floors", f.metric), f.metric) for f in rule.floors)]
    script = section.get("evaluation_script", DEFAULT_SCRIPT)
    findings = []
    for path, metric in places:
        if metric in numbers:
            continue
        line, col = document.position(path, key=True) if document else (1, 1)
        findings.append(Finding(file_name, line, col, ".".join(path),
                                f"{metric!r} is not a metric {script} reported in the smoke run (it reported: "
                                f"{', '.join(numbers) or 'none'}): name one of those, or return it from evaluate()"))
    return findings


def last_smoke_findings(root: Path, experiment: dict[str, Any], file_name: str, document: Document) -> list[Finding]:
    """:func:`unreported_metrics` against the last smoke run's ``outputs/gate.json``, when there is one."""
    record = read_metrics(root / SMOKE_OUTPUTS / GATE_FILE)
    if not record:
        return []
    return unreported_metrics(experiment, file_name, document, (record.get("challenger") or {}).get("metrics") or {})
