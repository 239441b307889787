"""Time what the quality gate adds to a training job on this machine and print the figures.

    .venv/bin/python benchmarks/gate.py [--repeat N]

gate step sklearn  the gate's step as the job runs it after train.py (`python -m mlops_gate.gate_evaluation`
                   in the staged code, runtime environment cached): one process that imports the framework,
                   loads the new model and the champion and scores both on the pinned evaluation data
gate step spacy    the same for the spaCy variant

No target: the figure is the job's extra time on its node (no extra node, job, environment or image).
"""

from __future__ import annotations

import sys

from foundation import BIN, bake_variant, benchmark_arguments, median_of, report, scratch_folder, timed


def main() -> int:
    args = benchmark_arguments(__doc__)
    from mlops.gate_staging import MODULE, evaluation_arguments
    from mlops.project import load_project
    from mlops.runtime_env import ensure_venv
    from mlops.smoke import smoke_environment

    figures: dict[str, float] = {}
    with scratch_folder() as work:
        for framework in ("sklearn", "spacy"):
            repo = bake_variant(work, framework)
            timed([str(BIN / "mlops"), "smoke-train"], repo)  # stages the job code and saves a champion copy
            project = load_project(repo)
            python = ensure_venv(project.spec, log=lambda line: None)
            sample = project.experiment.gate.evaluation_data.sample
            command = [str(python), "-m", MODULE,
                       *evaluation_arguments(str(repo / sample), sample, str(repo / "build/smoke-champion"), "x:1")]
            figures[f"gate step {framework}"] = median_of(args.repeat, command, project.layout.smoke_dir,
                                                          env=smoke_environment(project))
    return report(figures, {})


if __name__ == "__main__":
    sys.exit(main())
