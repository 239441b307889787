"""Where a run comes from: the git commit, the pull request and the workflow run, for names and tags."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Provenance:
    """The commit being trained or deployed, its pull request if known, and the CI run if any."""

    commit: str
    pull_request: str = ""
    run_url: str = ""

    def tags(self) -> dict[str, str]:
        """Tags put on jobs and models so each can be traced back to its change."""
        tags = {"git_commit": self.commit}
        if self.pull_request:
            tags["pull_request"] = self.pull_request
        if self.run_url:
            tags["workflow_run"] = self.run_url
        return tags


def read_provenance(root: Path, env: dict[str, str]) -> Provenance:
    """From GitHub Actions variables when present, else from the git checkout at ``root``."""
    commit = env.get("GITHUB_SHA") or _git(root, "rev-parse", "HEAD")
    pull_request = env.get("PR_NUMBER", "")
    ref = env.get("GITHUB_REF", "")
    if not pull_request and (match := re.fullmatch(r"refs/pull/(\d+)/merge", ref)):
        pull_request = match.group(1)
    if not pull_request:
        pull_request = pull_request_of(_git(root, "log", "-1", "--format=%s", commit or "HEAD"))
    return Provenance(commit=commit.lower(), pull_request=pull_request, run_url=workflow_run_url(env))


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


def _git(root: Path, *args: str) -> str:
    try:
        result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""
