"""Take the template's newer version into an experiment repo with ``cruft update``, and say what happened.

The template owns the toolkit, the schemas, the workflows and the Makefile; the data scientist owns
the files listed under ``[tool.cruft] skip`` in ``pyproject.toml``, which cruft leaves out of the
update. cruft reports success even when its merge left conflicts, so the outcome is read from git
afterwards: unresolved files and ``.rej`` files become one error naming them and what to do.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from mlops.errors import MlopsError
from mlops.git import changed_files, git, is_work_tree, unmerged_files, untracked_files
from mlops.ownership import is_user_owned, user_owned_patterns
from mlops.template_link import CRUFT_FILE, TemplateLink, parse_link, read_link
from mlops.template_render import clone_template, render_version, seed_blobs, template_changes

FINISH = "then run `make update` again to finish (setup, config migrations, check)"


@dataclass
class UpdateOutcome:
    """What an update did: the template commits before and after, the files it changed, and the
    template changes it left out because the data scientist owns those files."""

    before: TemplateLink
    after: TemplateLink
    changed: list[str] = field(default_factory=list)
    owned_changes: dict[str, str] = field(default_factory=dict)  # path -> the template's diff of it
    resumed: bool = False

    @property
    def updated(self) -> bool:
        """True when the repo now matches another template commit than before."""
        return self.before.commit != self.after.commit


def apply_template_update(root: Path, checkout: str | None = None) -> UpdateOutcome:
    """Apply the template's latest version (or ``checkout``) to the repo at ``root``.

    Refuses to start over uncommitted work, so the update is a change of its own to review; run
    again after resolving its conflicts, it confirms the update is complete instead of starting anew.
    """
    link = read_link(root)
    if not is_work_tree(root):
        raise MlopsError(f"{root}: not a git repository: an update merges with git, so run "
                         "`git init && git add -A && git commit -m 'Generated from the template'` first")
    _refuse_unfinished_merge(root)
    committed = _committed_link(root)
    changed = changed_files(root)
    resumed = committed is not None and committed.commit != link.commit
    if changed and not resumed:
        listed = ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")
        raise MlopsError(f"uncommitted changes ({listed}): commit or stash them first, so the update is a change "
                         "of its own you can review and undo")
    with tempfile.TemporaryDirectory(prefix="mlops-update-") as scratch:
        clone = clone_template(link, Path(scratch) / "template")
        if resumed:
            before, after = committed, link
        else:
            seed_blobs(root, render_version(clone, link.commit, link, Path(scratch) / "rendered"))
            _run_cruft(root, checkout)
            before, after = link, read_link(root)
            _refuse_unfinished_merge(root)
        owned = _owned_changes(root, clone, before, after)
    return UpdateOutcome(before=before, after=after, changed=changed_files(root), owned_changes=owned,
                         resumed=resumed)


def _owned_changes(root: Path, clone: Path, before: TemplateLink, after: TemplateLink) -> dict[str, str]:
    """The template's diff of each file the data scientist owns, between the two template commits."""
    if before.commit == after.commit:
        return {}
    patterns = user_owned_patterns(root, after)
    return {path: diff for path, diff in template_changes(clone, before.commit, after.commit, after).items()
            if is_user_owned(path, patterns)}


def _committed_link(root: Path) -> TemplateLink | None:
    """``.cruft.json`` as of the last commit, or None when it was never committed."""
    shown = git(root, "show", f"HEAD:{CRUFT_FILE}", check=False)
    return parse_link(shown.stdout.encode()) if shown.returncode == 0 else None


def _run_cruft(root: Path, checkout: str | None) -> None:
    command = [sys.executable, "-m", "cruft", "update", "--project-dir", str(root), "--skip-apply-ask",
               "--allow-untracked-files"]
    if checkout:
        command += ["--checkout", checkout]
    result = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
        raise MlopsError(f"cruft update failed: {lines[-1] if lines else f'exit code {result.returncode}'}")


def _refuse_unfinished_merge(root: Path) -> None:
    """Raise one error naming every file an update left for a person to merge, and how."""
    checked = git(root, "diff", "HEAD", "--check", check=False).stdout.splitlines()
    markers = {line.split(":", 1)[0] for line in checked if "leftover conflict marker" in line}
    conflicts = sorted(set(unmerged_files(root)) | markers)
    rejects = untracked_files(root, "*.rej")
    if conflicts:
        raise MlopsError(
            f"the template changed lines you also changed in {', '.join(conflicts)}: in each, keep what both "
            "sides need between <<<<<<< ours (yours) and >>>>>>> theirs (the template's), delete the markers, "
            f"`git add` the file, {FINISH}")
    if rejects:
        targets = ", ".join(reject.removesuffix(".rej") for reject in rejects)
        raise MlopsError(
            f"parts of the template's change did not apply to {targets}: apply the hunks in "
            f"{', '.join(rejects)} by hand, delete the .rej files, {FINISH}")
