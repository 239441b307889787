"""How long `make test` takes on a fresh clone, against the suite of an earlier commit (issue 10's target).

    .venv/bin/python benchmarks/suite.py [--baseline 71eda99] [--skip-baseline] [--skip-full]

Clones this checkout's committed HEAD into a temporary folder, as CI does, and times on it:
- baseline   the --baseline commit's whole suite, as its Makefile ran it, with an empty environment cache
             (that suite kept its environments in ~/.cache/mlops: MLOPS_CACHE_DIR points it at a new folder)
- same tests HEAD's `make test` on the baseline's tests, as they are named today (--tests, one test id a
             line; benchmarks/suite-baseline-71eda99.txt lists the 345 tests of 71eda99, 5 of them renamed
             since), in a fresh clone: the same work, today's toolkit and machinery (workers, scopes, caches)
- whole      HEAD's whole `make test` in another fresh clone: today's suite, which tests twice as much
Each figure is the wall time of the pytest run alone (`make setup` is timed apart), the CPU seconds of
every process it started, and the tests passed. Target: the same tests in at most 60% of the baseline.
Run it on an idle machine: the suite is CPU-bound, so anything else running shows in every figure.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
TARGET_RATIO = 0.60
SUMMARY = re.compile(r"=+ (.*(?:passed|failed).*) in [\d.]+s")


def children_cpu() -> float:
    """User + system CPU seconds of every finished child process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """Run ``command``: wall seconds, CPU seconds and pytest's summary line; exit on failure."""
    cpu, started = children_cpu(), time.monotonic()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    if result.returncode:
        sys.exit(f"{' '.join(command)} in {cwd} exited {result.returncode}:\n{result.stdout[-4000:]}\n"
                 f"{result.stderr[-2000:]}")
    summary = SUMMARY.findall(result.stdout)
    return wall, children_cpu() - cpu, summary[-1] if summary else ""


def fresh_clone(into: Path, revision: str) -> Path:
    """A clone of this checkout at ``revision`` with `make setup` done (its time is not counted)."""
    commit = subprocess.run(["git", "rev-parse", "--verify", f"{revision}^{{commit}}"], cwd=TEMPLATE, check=True,
                            capture_output=True, text=True).stdout.strip()
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(TEMPLATE), str(into)], check=True)
    subprocess.run(["git", "-c", "advice.detachedHead=false", "checkout", "-q", commit], cwd=into, check=True)
    subprocess.run(["make", "setup"], cwd=into, check=True, capture_output=True)
    return into


def report(name: str, wall: float, cpu: float, summary: str, baseline: float | None = None) -> None:
    """One row of figures; with ``baseline``, the share of it."""
    share = f"  {wall / baseline:5.0%} of the baseline" if baseline else ""
    print(f"{name:11} {wall:7.1f} s wall {cpu:7.1f} s CPU  {summary}{share}", flush=True)


def main() -> None:
    """Parse the options, time each suite, print the figures and whether the target is met."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="71eda99", help="the commit whose suite is the baseline")
    parser.add_argument("--tests", type=Path, default=TEMPLATE / "benchmarks" / "suite-baseline-71eda99.txt",
                        help="the baseline's test ids as HEAD names them, one a line")
    parser.add_argument("--skip-baseline", action="store_true", help="do not time the baseline's suite")
    parser.add_argument("--skip-full", action="store_true", help="do not time HEAD's whole suite")
    options = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k not in ("MLOPS_CACHE_DIR", "VIRTUAL_ENV")}
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the start")
    with tempfile.TemporaryDirectory(prefix="suite-bench-") as scratch:
        root = Path(scratch)
        baseline = None
        if not options.skip_baseline:
            clone = fresh_clone(root / "baseline", options.baseline)
            baseline, cpu, summary = timed(["make", "test"], clone, {**env, "MLOPS_CACHE_DIR": str(root / "cache")})
            report("baseline", baseline, cpu, summary)
            shutil.rmtree(clone, ignore_errors=True)
        clone = fresh_clone(root / "same-tests", "HEAD")
        wall, cpu, summary = timed(["make", "test", f"TESTS=@{options.tests.resolve()}"], clone, env)
        report("same tests", wall, cpu, summary, baseline)
        shutil.rmtree(clone, ignore_errors=True)
        if not options.skip_full:
            clone = fresh_clone(root / "whole", "HEAD")
            report("whole", *timed(["make", "test"], clone, env), baseline)
    if baseline is not None:
        verdict = "met" if wall <= TARGET_RATIO * baseline else "not met"
        print(f"target: the same tests in at most {TARGET_RATIO:.0%} of the baseline "
              f"({TARGET_RATIO * baseline:.1f} s): {verdict}")


if __name__ == "__main__":
    main()
