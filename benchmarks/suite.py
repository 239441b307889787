"""How long `make test` takes on a fresh clone, against the suite of an earlier commit (issue 10's target).

    .venv/bin/python benchmarks/suite.py [--baseline 71eda99] [--warm] [--skip-baseline] [--skip-full]

Clones this checkout's committed HEAD into a temporary folder, as CI does, and times on it:
- baseline   the --baseline commit's whole suite, as its Makefile ran it, with an empty environment cache
             (that suite kept its environments in ~/.cache/mlops: MLOPS_CACHE_DIR points it at a new folder)
- same tests HEAD's `make test` on the baseline's tests, as they are named today (--tests, one test id a
             line; benchmarks/suite-baseline-71eda99.txt lists the 345 tests of 71eda99, 5 of them renamed
             since), in a fresh clone: the same work, today's toolkit and machinery (workers, scopes, caches)
- whole      HEAD's whole `make test` in another fresh clone: today's suite, which tests twice as much
Each figure is the wall time of the pytest run alone (`make setup` runs first, not counted), the CPU seconds of
every process it started, and the tests passed. Target: the same tests in at most 60% of the baseline.
--warm runs each suite a second time in its clone, with the caches its first run filled: the issue's
"about 125 s on a fresh clone" was measured so, when the suite kept its environments in ~/.cache/mlops,
which a fresh clone did not empty. Warm figures are compared with the baseline's warm figure.
Run it on an idle machine: the suite is CPU-bound, so anything else running shows in every figure. A fixed
pure-Python loop is timed before and after the suites: when it slows, the machine did, and so did every
figure in between (runs of one commit have differed by 25% between the hours of one day here).
Every run gets PYTHONDONTWRITEBYTECODE=1, as this machine's CI shell sets it: the baseline's tests wrote
bytecode into its template without it, which fails its own generation tests in a second (warm) run.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from foundation import TEMPLATE, scratch_folder

TARGET_RATIO = 0.60
PROBE_LOOP = "total = 0\nfor number in range(20_000_000):\n    total += number\n"
SUMMARY = re.compile(r"=+ (.*(?:passed|failed).*) in [\d.]+s")


def children_cpu() -> float:
    """User + system CPU seconds of every finished child process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
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


def machine_speed() -> float:
    """CPU seconds of a fixed pure-Python loop (best of three): how fast this machine runs Python now."""
    best = float("inf")
    for _ in range(3):
        cpu = children_cpu()
        subprocess.run([sys.executable, "-c", PROBE_LOOP], check=True)
        best = min(best, children_cpu() - cpu)
    return best


def report(name: str, wall: float, cpu: float, summary: str, baseline: float | None = None) -> None:
    """One row of figures; with ``baseline``, the share of it."""
    share = f"  {wall / baseline:5.0%} of the baseline" if baseline else ""
    print(f"{name:16} {wall:7.1f} s wall {cpu:7.1f} s CPU  {summary}{share}", flush=True)


def time_suite(name: str, clone: Path, command: list[str], env: dict[str, str], warm: bool,
               baselines: dict[str, float]) -> dict[str, float]:
    """Wall seconds of ``command`` in ``clone``, cold, and with ``warm`` again with the caches it filled;
    the clone is removed afterwards (a run fills gigabytes of environments)."""
    walls = {}
    for state in ("cold", "warm") if warm else ("cold",):
        wall, cpu, summary = measured(command, clone, env)
        report(f"{name} {state}", wall, cpu, summary, baselines.get(state))
        walls[state] = wall
    shutil.rmtree(clone, ignore_errors=True)
    return walls


def main() -> None:
    """Parse the options, time each suite, print the figures and whether the target is met."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="71eda99", help="the commit whose suite is the baseline")
    parser.add_argument("--tests", type=Path, default=TEMPLATE / "benchmarks" / "suite-baseline-71eda99.txt",
                        help="the baseline's test ids as HEAD names them, one a line")
    parser.add_argument("--warm", action="store_true", help="also time each suite again with its caches filled")
    parser.add_argument("--skip-baseline", action="store_true", help="do not time the baseline's suite")
    parser.add_argument("--skip-full", action="store_true", help="do not time HEAD's whole suite")
    options = parser.parse_args()
    env = {**{k: v for k, v in os.environ.items() if k not in ("MLOPS_CACHE_DIR", "VIRTUAL_ENV")},
           "PYTHONDONTWRITEBYTECODE": "1"}
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the start; "
          f"probe loop {machine_speed():.2f} CPU-s", flush=True)
    with scratch_folder() as root:
        baselines: dict[str, float] = {}
        if not options.skip_baseline:
            baselines = time_suite("baseline", fresh_clone(root / "baseline", options.baseline), ["make", "test"],
                                   {**env, "MLOPS_CACHE_DIR": str(root / "cache")}, options.warm, {})
        same = time_suite("same tests", fresh_clone(root / "same-tests", "HEAD"),
                          ["make", "test", f"TESTS=@{options.tests.resolve()}"], env, options.warm, baselines)
        if not options.skip_full:
            time_suite("whole", fresh_clone(root / "whole", "HEAD"), ["make", "test"], env, options.warm, baselines)
    print(f"probe loop {machine_speed():.2f} CPU-s at the end")
    for state, baseline in baselines.items():
        verdict = "met" if same[state] <= TARGET_RATIO * baseline else "not met"
        print(f"target ({state}): the same tests in at most {TARGET_RATIO:.0%} of the baseline "
              f"({TARGET_RATIO * baseline:.1f} s): {verdict}")


if __name__ == "__main__":
    main()
