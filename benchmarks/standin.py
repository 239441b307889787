"""Time the Azure ML stand-in on this machine and print the figures.

    .venv/bin/python benchmarks/standin.py [--repeat N]

start cold     `python -m mlops.standin` on a new state folder, until it prints its variables
start warm     the same on the state folder the cold start left (a second run of a rehearsal)
sign-in + GET  a real ClientSecretCredential token and `workspaces.get` through the proxy, in-process
train + deploy `mlops train` then `mlops deploy` of the default generated repo through the stand-in,
               environments warm (the smoke and score environments are built first, not timed)
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# Generated repos' commands find uv on PATH: use the copy pinned in the template's .venv.
os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"


def start_seconds(state: Path) -> tuple[float, dict[str, str]]:
    """Seconds until ``python -m mlops.standin`` printed its last variable; the variables; it is stopped after."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "mlops.standin", "--port", "0", "--state", str(state),
                                "--env-file", str(state.parent / f"{state.name}.env")],
                               stdout=subprocess.PIPE, text=True)
    for line in process.stdout:
        if line.startswith("export AZURE_CLIENT_SECRET"):
            break
    elapsed = time.perf_counter() - started
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    env_file = state.parent / f"{state.name}.env"
    return elapsed, dict(line.split("=", 1) for line in env_file.read_text().splitlines())


def sign_in_seconds(scratch: Path) -> float:
    """Seconds for a token and a workspace GET through a running stand-in, in-process."""
    from mlops.standin import StandIn

    with StandIn(scratch / "signin") as standin, standin.environment():
        started = time.perf_counter()
        standin.ml_client().workspaces.get("ws-standin")
        return time.perf_counter() - started


def train_and_deploy_seconds(scratch: Path) -> tuple[float, float]:
    """Seconds of `mlops train` and of `mlops deploy` in a fresh generated repo through a fresh stand-in."""
    from mlops.standin import StandIn

    subprocess.run([str(BIN / "cookiecutter"), "--no-input", "-o", str(scratch / "repo"), str(TEMPLATE)], check=True,
                   stdout=subprocess.DEVNULL)
    repo = next((scratch / "repo").iterdir())
    for command in (["git", "init", "-q"], ["git", "add", "-A"],
                    ["git", "-c", "user.name=b", "-c", "user.email=b@example.com", "commit", "-qm", "b"],
                    [str(BIN / "mlops"), "smoke-train"], [str(BIN / "mlops"), "api-test"]):
        subprocess.run(command, cwd=repo, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    figures = []
    with StandIn(scratch / "rehearsal") as standin:
        env = {**os.environ, **standin.client_environment(), "GITHUB_RUN_ID": "1", "GITHUB_RUN_ATTEMPT": "1"}
        for command in ("train", "deploy"):
            started = time.perf_counter()
            subprocess.run([str(BIN / "mlops"), command], cwd=repo, env=env, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            figures.append(time.perf_counter() - started)
    return figures[0], figures[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-standin-") as scratch_name:
        scratch = Path(scratch_name)
        cold = [start_seconds(scratch / f"cold{i}")[0] for i in range(args.repeat)]
        warm = [start_seconds(scratch / "cold0")[0] for _ in range(args.repeat)]
        sign_in = sign_in_seconds(scratch)
        train, deploy = train_and_deploy_seconds(scratch)
    print(f"load average {os.getloadavg()[0]:.1f}; medians of {args.repeat}")
    print(f"start cold      {statistics.median(cold):6.2f} s")
    print(f"start warm      {statistics.median(warm):6.2f} s")
    print(f"sign-in + GET   {sign_in:6.2f} s")
    print(f"mlops train     {train:6.2f} s")
    print(f"mlops deploy    {deploy:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
