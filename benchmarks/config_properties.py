"""Time the config-file property checks that `make check` runs, and print the figures.

    .venv/bin/python benchmarks/config_properties.py [--repeat N] [--examples N]

Generates the default experiment, then runs its tests/test_config_properties.py with this
interpreter (the toolkit installed, as in a set-up repo). Target: at most 10 s added to `make check`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TARGET_SECONDS = 10.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--examples", type=int, default=None, help="MLOPS_PROPERTY_EXAMPLES (default: the test's)")
    args = parser.parse_args()
    env = dict(os.environ)
    if args.examples:
        env["MLOPS_PROPERTY_EXAMPLES"] = str(args.examples)
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run([str(BIN / "cookiecutter"), "--no-input", "-o", scratch, str(TEMPLATE)], check=True,
                       capture_output=True)
        repo = Path(scratch) / "iris-classifier"
        seconds = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "tests/test_config_properties.py"], cwd=repo, env=env, check=True, capture_output=True)
            seconds.append(time.perf_counter() - started)
    median = statistics.median(seconds)
    examples = env.get("MLOPS_PROPERTY_EXAMPLES", "default")
    print(f"config properties ({examples} examples x 3 files): median {median:.2f} s of {args.repeat} "
          f"(target <= {TARGET_SECONDS:.0f} s); load average {os.getloadavg()[0]:.1f}")
    return 0 if median <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
