"""Where a run comes from: the git commit, the pull request and the workflow run, for names and tags."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Provenance:
    """The commit being trained or deployed, its pull request if known, the CI run if any, and the
    paths that differ from the commit in the working tree (``git status``)."""

    commit: str
    pull_request: str = ""
    run_url: str = ""
    uncommitted: tuple[str, ...] = ()

    def tags(self) -> dict[str, str]:
        """Tags put on jobs and models so each can be traced back to its change."""
        tags = {"git_commit": self.commit}
        if self.pull_request:
            tags["pull_request"] = self.pull_request
        if self.run_url:
            tags["workflow_run"] = self.run_url
        if self.uncommitted:
            tags["uncommitted_changes"] = str(len(self.uncommitted))
        return tags

    def uncommitted_warning(self) -> str:
        """A warning when the code differs from the commit its runs are tagged with; '' when it does not."""
        if not self.uncommitted:
            return ""
        shown = ", ".join(self.uncommitted[:5]) + (", ..." if len(self.uncommitted) > 5 else "")
        return (f"the working tree has {len(self.uncommitted)} uncommitted change(s) ({shown}): the job is tagged "
                f"git_commit={self.commit[:12]}, which does not describe the code it runs; commit first to "
                "make the model traceable")


def read_provenance(root: Path, env: dict[str, str]) -> Provenance:
    """From GitHub Actions variables when present, else from the git checkout at ``root``."""
    commit = env.get("GITHUB_SHA") or _git(root, "rev-parse", "HEAD")
    pull_request = env.get("PR_NUMBER", "")
    ref = env.get("GITHUB_REF", "")
    if not pull_request and (match := re.fullmatch(r"refs/pull/(\d+)/merge", ref)):
        pull_request = match.group(1)
    if not pull_request:
        pull_request = pull_request_of(_git(root, "log", "-1", "--format=%s", commit or "HEAD"))
    status = _git(root, "status", "--porcelain", "--untracked-files=normal", strip=False)
    uncommitted = tuple(line[3:] for line in status.splitlines() if line.strip())
    return Provenance(commit=commit.lower(), pull_request=pull_request, run_url=workflow_run_url(env),
                      uncommitted=uncommitted)


def workflow_run_url(env: dict[str, str]) -> str:
    """The GitHub Actions run's page, or '' outside a workflow."""
    if not (env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY")):
        return ""
    server = env.get("GITHUB_SERVER_URL", "https://github.com")
    return f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"


def pull_request_of(subject: str) -> str:
    """The PR number in a merge subject (``Merge pull request #12``) or a squash subject (``... (#12)``)."""
    match = re.search(r"Merge pull request #(\d+)", subject) or re.search(r"\(#(\d+)\)\s*$", subject)
    return match.group(1) if match else ""


def _git(root: Path, *args: str, strip: bool = True) -> str:
    try:
        result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    if result.returncode != 0:
        return ""
    return result.stdout.strip() if strip else result.stdout
