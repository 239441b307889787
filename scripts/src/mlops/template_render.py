"""Render one version of the template with a repo's own answers, and put its files into the repo's git.

``cruft update`` merges the template's change into the repo with ``git apply -3``, which needs the
old version of each changed file (the diff's preimage blob) in the repo's object store. That blob is
there only if the repo once committed the file exactly as the template rendered it; a repo edited
before its first commit, or linked with ``cruft link`` later, lacks it, and cruft falls back to
``git apply --reject``: ``.rej`` files instead of a merge (cruft issues #47, #49, #206). Writing the
old version's blobs first turns every such case into a real three-way merge.
"""

from __future__ import annotations

import re
import sys
from contextlib import contextmanager
from pathlib import Path

from mlops.git import git
from mlops.template_link import TemplateLink


def clone_template(link: TemplateLink, destination: Path) -> Path:
    """Clone the template named in ``link`` into ``destination`` without checking out a version."""
    git(destination.parent, "clone", "--quiet", "--no-checkout", link.template, str(destination))
    return destination


def render_version(clone: Path, commit: str, link: TemplateLink, output_dir: Path) -> Path:
    """Render the template at ``commit`` with the repo's answers into ``output_dir``; return the project folder.

    Hooks are not run: they only check answers and delete other frameworks' files, and a superset of
    files is harmless for :func:`seed_blobs`.
    """
    from cookiecutter.generate import generate_context, generate_files
    from cookiecutter.prompt import prompt_for_config

    git(clone, "checkout", "--quiet", "--force", commit)
    template_dir = clone / (link.directory or "")
    answers = {key: value for key, value in link.answers.items() if not key.startswith("_")}
    with _importable(template_dir):  # the template's `_extensions` (local_extensions.py) live there
        context = generate_context(context_file=str(template_dir / "cookiecutter.json"), extra_context=answers)
        context["cookiecutter"] = prompt_for_config(context, no_input=True)
        project = generate_files(repo_dir=str(template_dir), context=context, output_dir=str(output_dir),
                                 overwrite_if_exists=True, accept_hooks=False)
    return Path(project)


@contextmanager
def _importable(folder: Path):
    """Put ``folder`` first on ``sys.path`` for the duration, as cookiecutter does for a template."""
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))


def seed_blobs(root: Path, rendered: Path) -> int:
    """Write every file under ``rendered`` into the git object store of ``root``; return how many."""
    files = [str(path) for path in sorted(rendered.rglob("*")) if path.is_file() and ".git" not in path.parts]
    if files:
        git(root, "hash-object", "-w", "--no-filters", "--stdin-paths", input_text="\n".join(files) + "\n")
    return len(files)


def template_changes(clone: Path, old: str, new: str, link: TemplateLink) -> dict[str, str]:
    """The template's own diff between commits ``old`` and ``new``, per repo path (names rendered)."""
    base = f"{link.directory.strip('/')}/" if link.directory else ""
    tree = git(clone, "ls-tree", "-d", "--name-only", new, *([base] if base else [])).stdout.splitlines()
    prefix = next((name for name in tree if "{{" in name), None)
    if prefix is None:
        return {}
    listed = git(clone, "diff", "--name-only", "--no-renames", old, new, "--", prefix).stdout.splitlines()
    return {_render_name(name[len(prefix) + 1:], link.answers):
            git(clone, "diff", "--no-color", "--no-renames", old, new, "--", name).stdout for name in sorted(listed)}


def _render_name(relative: str, answers: dict) -> str:
    """A template path with its ``{{ cookiecutter.x }}`` parts replaced by the repo's answers."""
    return re.sub(r"\{\{\s*cookiecutter\.(\w+)\s*\}\}", lambda m: str(answers.get(m.group(1), m.group(0))), relative)
