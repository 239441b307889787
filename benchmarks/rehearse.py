"""How much `make rehearse` adds to `make check`: a rehearsal timed cold and warm, on this machine.

    .venv/bin/python benchmarks/rehearse.py [--framework sklearn|spacy] [--repo DIR] [--rounds 2] [--faults]

Generates the default experiment (or uses --repo, a generated repo), commits it, runs its
`make setup smoke-train api-test` once (what `make check` runs before `rehearse`, so the smoke and
scoring environments exist) and then times `mlops rehearse`:
- cold: with the toolkit's environment cache (~/.cache/mlops, via MLOPS_CACHE_DIR) empty, so the job's
  runtime and the deployment's scoring environment are built by uv (from uv's own package cache);
- warm: the same again, environments built: what a second `make check` on a laptop or a PR runner
  with its caches restored pays. Also a re-run against the warm rehearsal's state (converges).
Target: a warm rehearsal adds at most 30 s to `make check`.

--faults then rehearses every named fault of the stand-in behind the live release, each after a new
commit, and prints one row per fault: exit code, seconds, whether traffic stayed, the verdict line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
WARM_TARGET = 30.0


def run(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Run ``command``; its wall time in seconds (output hidden unless it fails)."""
    started = time.monotonic()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return time.monotonic() - started


def generate(framework: str, into: Path) -> Path:
    """The default experiment, generated and committed (a rehearsal names its deployment from the commit)."""
    subprocess.run([sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(into), str(TEMPLATE),
                    f"framework={framework}"], check=True, capture_output=True)
    repo = into / "iris-classifier"
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "generated"]):
        subprocess.run([*git, *args], cwd=repo, check=True)
    return repo


def rehearse_faults(repo: Path, mlops: str, state: Path, env: dict[str, str]) -> None:
    """Each fault of the stand-in, rehearsed behind the live release of the previous commit."""
    from mlops.standin import FAULTS

    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    print(f"\n{'fault':20} exit  seconds  verdict")
    for fault in FAULTS:
        (repo / "NOTES.md").write_text(f"rehearsing {fault}\n")
        if fault == "compute-update-forbidden":  # only a larger cluster is an update mlops sends
            config = repo / "azure-compute-config.json"
            settings = json.loads(config.read_text(encoding="utf-8"))
            config.write_text(json.dumps({**settings, "max_nodes": settings["max_nodes"] + 1}, indent=2) + "\n",
                              encoding="utf-8")
        for args in (["add", "-A"], ["commit", "-qm", f"rehearse {fault}"]):
            subprocess.run([*git, *args], cwd=repo, check=True)
        started = time.monotonic()
        result = subprocess.run([mlops, "rehearse", "--state", str(state), "--inject", fault], cwd=repo, env=env,
                                capture_output=True, text=True, check=False)
        last = (result.stdout.strip().splitlines() or [result.stderr.strip()])[-1]
        print(f"{fault:20} {result.returncode:4}  {time.monotonic() - started:7.1f}  {last}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", default="sklearn", choices=["sklearn", "spacy"])
    parser.add_argument("--repo", type=Path, help="a generated, committed repo to use instead of a fresh one")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--faults", action="store_true", help="then rehearse every named fault (slow)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-rehearse-"))
    try:
        repo = args.repo or generate(args.framework, scratch)
        env = dict(os.environ)
        setup = run(["make", "setup", "smoke-train", "api-test"], repo, env)
        print(f"make setup smoke-train api-test (once, not counted): {setup:.1f} s")
        mlops = str(repo / ".venv" / "bin" / "mlops")
        cold = []
        for round_ in range(args.rounds):
            cache = scratch / f"cache-{round_}"
            cold.append(run([mlops, "rehearse", "--state", str(scratch / f"cold-{round_}")], repo,
                            {**env, "MLOPS_CACHE_DIR": str(cache)}))
        warm = [run([mlops, "rehearse", "--state", str(scratch / f"warm-{n}")], repo, env) for n in range(args.rounds)]
        rerun = run([mlops, "rehearse", "--state", str(scratch / "warm-0")], repo, env)
        print(f"cold rehearsal (environments built): median {statistics.median(cold):.1f} s over {args.rounds} "
              f"({', '.join(f'{s:.1f}' for s in cold)})")
        print(f"warm rehearsal (environments cached): median {statistics.median(warm):.1f} s over {args.rounds} "
              f"({', '.join(f'{s:.1f}' for s in warm)}); target <= {WARM_TARGET:.0f} s: "
              f"{'met' if statistics.median(warm) <= WARM_TARGET else 'NOT met'}")
        print(f"re-run against a finished rehearsal's state (nothing trained or registered): {rerun:.1f} s")
        if args.faults:
            rehearse_faults(repo, mlops, scratch / "warm-0", env)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
