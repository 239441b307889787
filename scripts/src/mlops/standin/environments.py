"""Build the local environment an Azure ML environment version describes, as the smoke run does.

The environment's ``condaFile`` is the project's runtime spec (``environment/environment.yml``),
so :func:`mlops.runtime_env.ensure_venv` builds (or finds in its cache) the very interpreter
``mlops smoke-train`` uses. For the serving environment (the spec plus the inference server) the
server packages are split off as the ``score`` extra, so it shares the cache of
``mlops serve --adapter score``. The image named in the environment is not used: no containers here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from mlops.errors import MlopsError
from mlops.runtime_env import ensure_venv
from mlops.runtime_spec import RuntimeSpec, SpecError, load_runtime_spec

if TYPE_CHECKING:
    from mlops.standin.context import Context


class EnvironmentError_(MlopsError):
    """The environment cannot be built (Azure's image build would fail the same way)."""


def environment_python(ctx: Context, environment_id: str) -> Path:
    """The interpreter for the environment version ``environment_id`` (an ARM id), built when missing."""
    from mlops.standin.client_variables import outside_environment

    environment = ctx.store.get("resources", environment_id)
    if environment is None:
        raise EnvironmentError_(f"environment {environment_id.rsplit('/', 3)[-3]} was not found")
    conda = environment["properties"].get("condaFile")
    if not conda:
        raise EnvironmentError_("the environment has no conda file: the stand-in builds environments from "
                                "their conda file only")
    with tempfile.TemporaryDirectory(prefix="mlops-standin-env-") as scratch:
        spec_file = Path(scratch) / "environment.yml"
        spec_file.write_text(conda, encoding="utf-8")
        # In a child process, so the build never inherits a client's proxy settings (see outside_environment).
        from mlops.serving import INFERENCE_SERVER_PACKAGES

        result = subprocess.run([sys.executable, "-m", "mlops.standin.environments", str(spec_file),
                                 *INFERENCE_SERVER_PACKAGES],
                                capture_output=True, text=True, env=outside_environment())
    answer = (result.stdout.strip().splitlines() or [""])[-1]
    if result.returncode != 0 or not answer.startswith("{"):
        raise EnvironmentError_((result.stdout + result.stderr).strip()[-1500:] or "the build failed")
    outcome = json.loads(answer)
    if outcome.get("error"):
        raise EnvironmentError_(outcome["error"])
    return Path(outcome["python"])


def build(spec_file: Path, server_packages: tuple[str, ...]) -> Path:
    """Build (or find) the environment of the conda file ``spec_file``; return its interpreter.

    ``server_packages`` (the inference server's pins), when the spec lists them, become the ``score`` extra.
    """
    try:
        spec = load_runtime_spec(spec_file, "conda_file")
    except SpecError as error:
        raise EnvironmentError_(str(error.findings[0])) from None
    server = tuple(p for p in server_packages if p in spec.requirements)
    if server:
        spec = RuntimeSpec(spec.path, spec.python, tuple(r for r in spec.requirements if r not in server))
        return ensure_venv(spec, kind="score", extra=server, log=lambda line: None)
    return ensure_venv(spec, log=lambda line: None)


if __name__ == "__main__":
    try:
        print(json.dumps({"python": str(build(Path(sys.argv[1]), tuple(sys.argv[2:])))}))
    except MlopsError as failure:
        print(json.dumps({"error": str(failure)}))
