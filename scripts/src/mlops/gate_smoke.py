"""The quality gate in the smoke run: the job's own gate step, against a locally saved champion.

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

from mlops.errors import MlopsError
from mlops.gate_evaluation import GATE_FILE
from mlops.gate_staging import MODULE, evaluation_arguments, evaluation_input, gate_section
from mlops.project import Project

CHAMPION_COPY = Path("build") / "smoke-champion"


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
    relative = evaluation_input(project).sample
    sample = project.path(relative)
    arguments = evaluation_arguments(str(sample), relative, str(champion.resolve()), f"local:{champion.name}")
    log(f"Quality gate: scoring the smoke model and the model in {champion} on {relative}")
    result = subprocess.run([str(python), "-m", MODULE, *arguments], cwd=code_dir, env=env, text=True,
                            capture_output=True)
    sys.stdout.write(result.stdout)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        script = gate_section(project).evaluation_script
        raise MlopsError(f"the quality gate's evaluation failed with exit code {result.returncode} (its output is "
                         f"above): fix {script} (load_model and evaluate) so the job can judge the model")
    return json.loads((code_dir / "outputs" / GATE_FILE).read_text(encoding="utf-8"))
