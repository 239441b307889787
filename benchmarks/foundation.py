"""Time the foundation's user-facing steps on this machine and print the figures.

    .venv/bin/python benchmarks/foundation.py [--cold] [--repeat N]

generation   cookiecutter --no-input of the default experiment
setup cold   `make setup` with an empty uv cache (downloads every package; only with --cold)
setup warm   `make setup` after removing .venv, uv cache warm
setup no-op  `make setup` when .venv is up to date
validate     `mlops validate` (targets: <= 1 s)
smoke warm   `mlops smoke-train` with the runtime environment cached (target: <= 10 s)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TARGETS = {"validate": 1.0, "smoke warm": 10.0, "setup warm": 15.0}


def timed(command: list[str], cwd: Path, env: dict | None = None) -> float:
    """Seconds ``command`` took; raise if it failed."""
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env={**os.environ, **(env or {})}, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def median_of(repeat: int, command: list[str], cwd: Path, before=None, env=None) -> float:
    """Median seconds over ``repeat`` runs, calling ``before()`` ahead of each."""
    samples = []
    for _ in range(repeat):
        if before:
            before()
        samples.append(timed(command, cwd, env))
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold", action="store_true", help="also time setup with an empty uv cache")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mlops-bench-"))
    figures: dict[str, float] = {}
    try:
        out = work / "out"
        figures["generation"] = median_of(
            args.repeat, [str(BIN / "cookiecutter"), "--no-input", "-f", "-o", str(out), str(TEMPLATE)], work)
        repo = out / "iris-classifier"
        venv = repo / ".venv"
        if args.cold:
            cache = work / "uv-cache"
            figures["setup cold"] = timed(["make", "setup"], repo, env={"UV_CACHE_DIR": str(cache)})
            shutil.rmtree(venv)
        figures["setup warm"] = median_of(args.repeat, ["make", "setup"], repo,
                                          before=lambda: shutil.rmtree(venv, ignore_errors=True))
        figures["setup no-op"] = median_of(args.repeat, ["make", "setup"], repo)
        mlops = str(venv / "bin" / "mlops")
        figures["validate"] = median_of(args.repeat, [mlops, "validate"], repo)
        timed([mlops, "smoke-train"], repo)  # builds the runtime environment if this spec is new
        figures["smoke warm"] = median_of(args.repeat, [mlops, "smoke-train"], repo)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report(figures, TARGETS)


def report(figures: dict[str, float], targets: dict[str, float]) -> int:
    """Print one line per figure with its target's verdict; 0 when every target was met, else 1."""
    width = max(len(name) for name in figures)
    print(f"{'step':<{width}} {'seconds':>8}  target")
    for name, seconds in figures.items():
        target = targets.get(name)
        verdict = "" if target is None else f"<= {target:g} s {'ok' if seconds <= target else 'MISSED'}"
        print(f"{name:<{width}} {seconds:>8.3f}  {verdict}")
    return 0 if all(figures[k] <= v for k, v in targets.items() if k in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
