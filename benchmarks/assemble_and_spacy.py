"""Time section assembly and the warm smoke trainings on this machine and print the figures.

    .venv/bin/python benchmarks/assemble_and_spacy.py [--repeat N]

assemble call     mlops.assembly.assemble() on the spaCy variant's base train.py, in process (median of 50)
assemble cli      `mlops assemble train.py -o build/train.py`, process start included (target: <= 0.5 s)
smoke spacy warm  `mlops smoke-train` of the spaCy variant, runtime environment cached (target: <= 30 s)
smoke sklearn warm  the same for the scikit-learn variant (the foundation's target: <= 10 s)
"""

from __future__ import annotations

import statistics
import sys
import time

from foundation import BIN, bake_variant, benchmark_arguments, median_of, report, scratch_folder, timed

TARGETS = {"assemble cli": 0.5, "smoke spacy warm": 30.0, "smoke sklearn warm": 10.0}


def main() -> int:
    args = benchmark_arguments(__doc__)
    from mlops.assembly import assemble
    from mlops.frameworks import SPACY

    figures: dict[str, float] = {}
    mlops = str(BIN / "mlops")
    with scratch_folder() as work:
        repos = {framework: bake_variant(work, framework) for framework in ("spacy", "sklearn")}
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
    return report(figures, TARGETS)


if __name__ == "__main__":
    sys.exit(main())
