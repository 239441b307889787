"""Finish a generated repo: prune files of other frameworks and stage layouts, check the toolkit arrived.

Idempotent and offline: it only deletes files that belong to a framework or stage layout that was not
chosen (and puts the two-stage release workflow in deploy.yml's place), and it never runs git.
``scripts/`` and ``schemas/`` are copied from the template's single copy through symlinks; a checkout
that lost its symlinks (git on Windows without ``core.symlinks``) leaves small text files instead,
which is reported here rather than discovered later.
"""

import json
import shutil
import sys
import tempfile
from pathlib import Path

FRAMEWORK = json.loads(r'''{{ cookiecutter.framework | tojson }}''')
STAGES = json.loads(r'''{{ cookiecutter.stages | tojson }}''')

# framework -> paths that only that framework uses
FRAMEWORK_FILES = {
    "sklearn": ["data/iris.csv", "data/evaluation/iris.csv", "serving/sklearn_predictor.py"],
    "spacy": ["config.cfg", "data/make_forms.py", "data/forms", "data/evaluation/forms.jsonl",
              "serving/spacy_predictor.py"],
}


def prune(root, framework):
    """Delete the files of every framework other than ``framework``."""
    keep = set(FRAMEWORK_FILES.get(framework, []))
    for other, paths in FRAMEWORK_FILES.items():
        if other == framework:
            continue
        for relative in paths:
            if relative in keep:
                continue
            path = root / relative
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()


# The two-stage release workflow replaces deploy.yml under its name, so every tool that reads deploy.yml
# (preflight, bootstrap-oidc, doctor, validate's timeout check) reads the workflow that runs.
TWO_STAGE_DEPLOY = ".github/workflows/deploy-staging-production.yml"
DEPLOY = ".github/workflows/deploy.yml"
# files that only a two-stage repo has
TWO_STAGE_FILES = ["azure-stages.json", ".github/workflows/rollback.yml"]


def arrange_stages(root, stages):
    """Keep the files of the chosen stage layout: one stage (as before) or staging-production."""
    two_stage_deploy = root / TWO_STAGE_DEPLOY
    if stages == "staging-production":
        if two_stage_deploy.exists():
            two_stage_deploy.replace(root / DEPLOY)
        return
    if two_stage_deploy.exists():
        two_stage_deploy.unlink()
    for relative in TWO_STAGE_FILES:
        path = root / relative
        if path.exists():
            path.unlink()


def missing_toolkit(root):
    """Return the toolkit folders that did not arrive as folders."""
    return [name for name in ("scripts", "schemas") if not (root / name).is_dir()]


def main():
    if Path(__file__).resolve().parent == Path(tempfile.gettempdir()).resolve():
        Path(__file__).unlink()  # the copy cookiecutter rendered to run, which it never deletes (read already)
    root = Path.cwd()
    broken = missing_toolkit(root)
    if broken:
        print(
            f"error: {', '.join(broken)} arrived as files, not folders: the template checkout lost its "
            "symlinks. Clone the template with `git config --global core.symlinks true` and generate again.",
            file=sys.stderr,
        )
        return 1
    prune(root, FRAMEWORK)
    arrange_stages(root, STAGES)
    print(f"Generated {root.name}. Next: cd {root.name} && make setup && make check")
    return 0


if __name__ == "__main__":
    sys.exit(main())
