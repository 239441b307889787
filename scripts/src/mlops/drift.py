"""How far an experiment repo is behind its template: ``cruft check`` for the verdict, git for the count.

Read-only: the template is cloned into a temporary folder (history only, no file contents) and the
repo itself is never written, so a scheduled workflow can run this with read-only permissions.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from mlops.errors import MlopsError
from mlops.git import git
from mlops.step_summary import table_cell
from mlops.template_link import TemplateLink, read_link

UPDATE_HOW = ("on a new branch run `make update` (cruft update, config migrations, `make check`), review "
              "`git diff HEAD`, commit and open a pull request (README.md, Template updates)")
MAX_LISTED = 20


@dataclass(frozen=True)
class TemplateCommit:
    """One template commit the repo has not taken yet."""

    sha: str
    date: str
    subject: str


@dataclass
class Drift:
    """The verdict of ``cruft check`` and the template commits since the one the repo records."""

    link: TemplateLink
    behind: bool
    latest: str = ""
    commits: list[TemplateCommit] = field(default_factory=list)
    count: int | None = None  # None: the recorded commit is not in the template's history


def check_drift(root: Path) -> Drift:
    """Ask ``cruft check`` whether the repo at ``root`` is behind; if so, list what it is missing."""
    link = read_link(root)
    if not _cruft_says_behind(root):
        return Drift(link=link, behind=False, latest=link.commit)
    with tempfile.TemporaryDirectory(prefix="mlops-drift-") as scratch:
        history = Path(scratch) / "template.git"
        git(Path(scratch), "clone", "--quiet", "--bare", "--filter=blob:none", link.template, str(history))
        latest = git(history, "rev-parse", "HEAD").stdout.strip()
        counted = git(history, "rev-list", "--count", f"{link.commit}..HEAD", check=False)
        if counted.returncode != 0:
            return Drift(link=link, behind=True, latest=latest)
        log = git(history, "log", f"-{MAX_LISTED}", "--format=%h%x09%ad%x09%s", "--date=short",
                  f"{link.commit}..HEAD").stdout
    commits = [TemplateCommit(*line.split("\t", 2)) for line in log.splitlines() if line.count("\t") >= 2]
    return Drift(link=link, behind=True, latest=latest, commits=commits, count=int(counted.stdout.strip()))


def _cruft_says_behind(root: Path) -> bool:
    result = subprocess.run([sys.executable, "-m", "cruft", "check", "--project-dir", str(root)], cwd=root,
                            capture_output=True, text=True, check=False)
    output = result.stdout + result.stderr
    if result.returncode == 0 and "SUCCESS" in output:
        return False
    if "out of date" in output:
        return True
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    raise MlopsError(f"cruft check failed: {lines[-1] if lines else f'exit code {result.returncode}'} "
                     f"(is the template {read_link(root).template} reachable from here?)")


def drift_headline(drift: Drift) -> str:
    """One line: up to date, or how far behind and from which commit."""
    recorded = drift.link.short_commit
    if not drift.behind:
        return f"up to date: the repo matches its template's latest version ({recorded} of {drift.link.template})"
    if drift.count is None:
        return (f"behind: the recorded template commit {recorded} is not in the history of {drift.link.template} "
                f"(latest {drift.latest[:7]}); an update will show what differs")
    return (f"behind: {drift.count} template commit(s) since {recorded} (latest {drift.latest[:7]} of "
            f"{drift.link.template})")


def drift_markdown(drift: Drift) -> str:
    """The step summary: the headline, the missing commits and the command that takes them."""
    headline = drift_headline(drift)
    lines = ["### Template drift", "", headline[0].upper() + headline[1:] + "."]
    if drift.commits:
        lines += ["", "| commit | date | change |", "|---|---|---|"]
        lines += [f"| `{c.sha}` | {c.date} | {table_cell(c.subject)} |" for c in drift.commits]
        if drift.count and drift.count > len(drift.commits):
            lines.append(f"\n... and {drift.count - len(drift.commits)} older commit(s).")
    if drift.behind:
        lines += ["", f"To update: {UPDATE_HOW}."]
    return "\n".join(lines) + "\n"
