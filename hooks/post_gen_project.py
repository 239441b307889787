"""Finish a generated experiment repo: prune files of other frameworks, check the toolkit arrived.

Idempotent and offline: it only deletes files that belong to a framework that was not chosen,
and it never runs git. ``scripts/`` and ``schemas/`` are copied from the template's single copy
through symlinks; a checkout that lost its symlinks (git on Windows without ``core.symlinks``)
leaves small text files instead, which is reported here rather than discovered later.
"""

import json
import shutil
import sys
from pathlib import Path

FRAMEWORK = json.loads(r'''{{ cookiecutter.framework | tojson }}''')

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


def missing_toolkit(root):
    """Return the toolkit folders that did not arrive as folders."""
    return [name for name in ("scripts", "schemas") if not (root / name).is_dir()]


def main():
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
    print(f"Generated {root.name}. Next: cd {root.name} && make setup && make check")
    return 0


if __name__ == "__main__":
    sys.exit(main())
