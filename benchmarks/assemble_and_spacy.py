"""Time section assembly and the warm smoke trainings on this machine and print the figures.

    .venv/bin/python benchmarks/assemble_and_spacy.py [--repeat N]

assemble call     mlops.assembly.assemble() on the spaCy variant's base train.py, in process (median of 50)
assemble cli      `mlops assemble train.py -o build/train.py`, process start included (target: <= 0.5 s)
smoke spacy warm  `mlops smoke-train` of the spaCy variant, runtime environment cached (target: <= 30 s)
smoke sklearn warm  the same for the scikit-learn variant (the foundation's target: <= 10 s)
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from foundation import BIN, TEMPLATE, median_of, report, timed

TARGETS = {"assemble cli": 0.5, "smoke spacy warm": 30.0, "smoke sklearn warm": 10.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from cookiecutter.main import cookiecutter

    from mlops.assembly import assemble
    from mlops.frameworks import SPACY

    work = Path(tempfile.mkdtemp(prefix="mlops-bench-"))
    figures: dict[str, float] = {}
    mlops = str(BIN / "mlops")
    try:
        repos = {framework: Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(work / framework),
                                              extra_context={"framework": framework}))
                 for framework in ("spacy", "sklearn")}
        base = (repos["spacy"] / "train.py").read_text(encoding="utf-8")
        samples = []
        for _ in range(50):
            started = time.perf_counter()
            assemble(base, SPACY)
            samples.append(time.perf_counter() - started)
        figures["assemble call"] = statistics.median(samples)
        figures["assemble cli"] = median_of(args.repeat, [mlops, "assemble", "train.py", "-o", "build/train.py"],
                                            repos["spacy"])
        for framework, repo in repos.items():
            timed([mlops, "smoke-train"], repo)  # builds the runtime environment if this spec is new
            figures[f"smoke {framework} warm"] = median_of(args.repeat, [mlops, "smoke-train"], repo)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report(figures, TARGETS)

if __name__ == "__main__":
    sys.exit(main())
