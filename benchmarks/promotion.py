"""Time a two-stage release through the Azure ML stand-in on this machine and print the figures.

    .venv/bin/python benchmarks/promotion.py

Each figure is one `mlops` command of a two-stage repo (production in its own workspace), as the jobs of
deploy.yml and rollback.yml run it, against the stand-in: the toolkit's own time plus the stand-in's local
model servers, not Azure's (a managed deployment in Azure takes minutes, which no local figure shows).
`make setup` is the step every job runs first, timed without uv's cache as the release path runs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    """Seconds ``command`` took, and its output; stops the benchmark if it fails."""
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed, result.stdout


def main() -> int:
    from mlops.standin import StandIn

    with tempfile.TemporaryDirectory(prefix="bench-promotion-") as scratch_name:
        scratch = Path(scratch_name)
        subprocess.run([str(BIN / "cookiecutter"), "--no-input", "-o", str(scratch / "repo"), str(TEMPLATE),
                        "stages=staging-production"], check=True, stdout=subprocess.DEVNULL)
        repo = next((scratch / "repo").iterdir())
        stages = (repo / "azure-stages.json").read_text().replace('"workspace_name": "mlw-iris-classifier"',
                                                                   '"workspace_name": "mlw-iris-prod"', 1)
        (repo / "azure-stages.json").write_text(stages.replace('"resource_group": "rg-iris-classifier",\n    "work',
                                                               '"resource_group": "rg-iris-prod",\n    "work'))
        for command in (["git", "init", "-q"], ["git", "add", "-A"],
                        ["git", "-c", "user.name=b", "-c", "user.email=b@example.com", "commit", "-qm", "b"]):
            subprocess.run(command, cwd=repo, check=True, stdout=subprocess.DEVNULL)
        setup, _ = timed(["make", "setup"], repo, {**os.environ, "UV_NO_CACHE": "1"})
        figures = {"make setup (no uv cache)": setup}
        with StandIn(scratch / "standin") as standin:
            output = scratch / "github-output"
            output.write_text("")
            env = {**os.environ, **standin.client_environment(), "GITHUB_RUN_ID": "1", "GITHUB_RUN_ATTEMPT": "1",
                   "GITHUB_OUTPUT": str(output)}
            mlops = str(repo / ".venv" / "bin" / "mlops")
            for name in ("train", "deploy", "share"):
                figures[f"mlops {name}"] = timed([mlops, name], repo, env)[0]
            version = output.read_text().split("=", 1)[1].strip()
            figures["mlops promote"] = timed([mlops, "promote", "--version", version], repo, env)[0]
    print(f"load average {os.getloadavg()[0]:.1f}; one run each")
    for name, seconds in figures.items():
        print(f"{name:32s} {seconds:7.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
