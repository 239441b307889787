"""What GitHub OIDC presents and what Entra ID accepts: subjects, the jobs that log in, federated credentials.

GitHub's token carries a subject that depends on the job, not the workflow: ``environment:NAME`` for a
job with ``environment:`` (it replaces the branch form), ``ref:refs/heads/BRANCH`` for a job without
one on a push, ``pull_request`` for pull requests. Entra ID compares it case-sensitively with each
federated credential of the app. ``mlops doctor`` and ``mlops bootstrap-oidc`` both start here.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError
from mlops.positioned import Document, DocumentError, load_document

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
AUDIENCE = "api://AzureADTokenExchange"
MAX_CREDENTIALS_PER_APP = 20
# Repositories created, renamed or transferred on github.com since then present the immutable subject form.
IMMUTABLE_SINCE = "2026-06-18"
# what a job reads from the repository's secrets or variables: `secrets.NAME`, `vars.NAME`
SECRETS = re.compile(r"(?:secrets|vars)\.([A-Za-z_][A-Za-z0-9_]*)")
# a step that only checks whether the login secrets are set (deploy.yml's preflight job): not a login
_PREFLIGHT = re.compile(r"^\s*(?:make preflight|(?:\S*/)?mlops preflight)\s*$")
_REPO = re.compile(r"^([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)$")
_REMOTE = re.compile(r"github\.com[:/]+([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$")


@dataclass(frozen=True)
class Repo:
    """A GitHub repository; with ``owner_id`` and ``repo_id`` it presents the immutable subject form."""

    owner: str
    name: str
    owner_id: str | None = None
    repo_id: str | None = None

    @property
    def slug(self) -> str:
        """``OWNER/NAME`` as ``gh --repo`` takes it."""
        return f"{self.owner}/{self.name}"

    @property
    def prefix(self) -> str:
        """The subject's ``repo:`` part: ``repo:OWNER/NAME`` or ``repo:OWNER@ID/NAME@ID``."""
        if self.owner_id and self.repo_id:
            return f"repo:{self.owner}@{self.owner_id}/{self.name}@{self.repo_id}"
        return f"repo:{self.slug}"

    def environment_subject(self, environment: str) -> str:
        """What a job with ``environment: NAME`` presents."""
        return f"{self.prefix}:environment:{environment}"

    def branch_subject(self, branch: str) -> str:
        """What a job without an environment presents when it runs for ``branch``."""
        return f"{self.prefix}:ref:refs/heads/{branch}"

    def pull_request_subject(self) -> str:
        """What a pull-request job without an environment presents."""
        return f"{self.prefix}:pull_request"


def parse_repo(text: str, owner_id: str | None = None, repo_id: str | None = None) -> Repo:
    """``ORG/REPO`` (or a GitHub remote URL) as a :class:`Repo`, or an error saying the expected form."""
    text = text.strip()
    match = _REPO.match(text) or _REMOTE.search(text)
    if not match:
        raise MlopsError(f"--repo {text!r}: expected ORG/REPO, for example contoso/iris-classifier")
    if bool(owner_id) != bool(repo_id):
        raise MlopsError("--org-id and --repo-id go together: the immutable subject form needs both "
                         "(`gh api repos/ORG/REPO --jq '.owner.id, .id'` prints them)")
    return Repo(match.group(1), match.group(2), owner_id, repo_id)


def repo_from_git(root: Path) -> Repo | None:
    """The repository that ``origin`` points at, when it is on github.com."""
    if shutil.which("git") is None:
        return None
    result = subprocess.run(["git", "-C", str(root), "remote", "get-url", "origin"],
                            capture_output=True, text=True, check=False)
    match = _REMOTE.search(result.stdout.strip()) if result.returncode == 0 else None
    return Repo(match.group(1), match.group(2)) if match else None


@dataclass
class LoginJob:
    """A workflow job that logs in to Azure (or can), with the subjects it presents."""

    workflow: str
    job: str
    line: int
    col: int
    environment: str | None
    subjects: list[str]
    id_token: bool
    id_token_position: tuple[int, int]
    secrets: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    azure_login_action: bool = False
    checks_only: bool = False

    @property
    def logs_in(self) -> bool:
        """Whether the job can request an ID token, or reads the login secrets for more than checking them."""
        return self.id_token or ("AZURE_CLIENT_ID" in self.secrets and not self.checks_only)


@dataclass
class Workflow:
    """One workflow file: where it is, its parsed document and its raw text."""

    path: Path
    relative: str
    document: Document
    text: str


def read_workflows(root: Path) -> list[Workflow]:
    """The repo's ``.github/workflows/*.yml`` and ``*.yaml``, parsed with positions."""
    folder = root / ".github" / "workflows"
    workflows = []
    for path in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
        relative = path.relative_to(root).as_posix()
        try:
            document = load_document(path)
        except DocumentError as error:
            raise MlopsError(findings=[error.finding(relative)]) from None
        workflows.append(Workflow(path, relative, document, path.read_text("utf-8")))
    return workflows


def login_jobs(workflows: list[Workflow], repo: Repo, default_branch: str = "main") -> list[LoginJob]:
    """Every job that logs in or may request an ID token, with the subject(s) it presents."""
    jobs = []
    for workflow in workflows:
        data = workflow.document.data
        triggers = _triggers(data.get("on", data.get("True")))
        top_permissions = data.get("permissions")
        for name, job in (data.get("jobs") or {}).items():
            if not isinstance(job, dict):
                continue
            permissions = job.get("permissions", top_permissions)
            where = ("jobs", name, "permissions") if "permissions" in job else ("permissions",)
            line, col = workflow.document.position(("jobs", name), key=True)
            environment = _environment(job.get("environment"))
            steps = [step for step in job.get("steps") or [] if isinstance(step, dict)]
            runs = [str(step["run"]) for step in steps if "run" in step]
            azure_login = any(str(step.get("uses", "")).lower().startswith("azure/login@") for step in steps)
            login = LoginJob(workflow.relative, name, line, col, environment, [], _grants_id_token(permissions),
                             workflow.document.position(where, key=True),
                             set(SECRETS.findall(json.dumps(job))), azure_login_action=azure_login,
                             checks_only=bool(runs) and not azure_login and all(_PREFLIGHT.match(r) for r in runs))
            if not login.logs_in:
                continue
            login.subjects, login.notes = _subjects(repo, environment, triggers, default_branch)
            jobs.append(login)
    return jobs


def _triggers(on: Any) -> dict[str, Any]:
    if isinstance(on, str):
        return {on: {}}
    if isinstance(on, list):
        return {event: {} for event in on}
    return {event: (spec or {}) for event, spec in (on or {}).items()} if isinstance(on, dict) else {}


def _environment(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("name")
    return str(value) if value else None


def _grants_id_token(permissions: Any) -> bool:
    if permissions == "write-all":
        return True
    return isinstance(permissions, dict) and permissions.get("id-token") == "write"


def _subjects(repo: Repo, environment: str | None, triggers: dict[str, Any],
              default_branch: str) -> tuple[list[str], list[str]]:
    """The subjects a job presents under the workflow's triggers, plus notes on what cannot be known."""
    notes: list[str] = []
    if environment:
        if "${{" in environment:
            notes.append(f"the environment {environment!r} is an expression: its subject is known only at run time")
            return [], notes
        return [repo.environment_subject(environment)], notes
    subjects: list[str] = []
    for event, spec in triggers.items():
        if event == "push":
            branches = spec.get("branches") if isinstance(spec, dict) else None
            for branch in branches or [default_branch]:
                if any(char in str(branch) for char in "*?[!"):
                    notes.append(f"push branches pattern {branch!r}: each matching branch presents its own "
                                 "subject; only the default branch is checked")
                    branch = default_branch
                subjects.append(repo.branch_subject(str(branch)))
        elif event in ("workflow_dispatch", "schedule", "workflow_run", "repository_dispatch"):
            subjects.append(repo.branch_subject(default_branch))
        elif event in ("pull_request", "pull_request_target"):
            subjects.append(repo.pull_request_subject())
    return list(dict.fromkeys(subjects)), notes


@dataclass(frozen=True)
class FederatedCredential:
    """One federated identity credential of an app registration, as ``az ad app federated-credential list`` shows it."""

    name: str
    subject: str
    issuer: str
    audiences: tuple[str, ...]


def parse_credentials(data: Any, source: str) -> list[FederatedCredential]:
    """The credentials in the JSON that ``az ad app federated-credential list`` prints."""
    if isinstance(data, dict) and isinstance(data.get("value"), list):
        data = data["value"]  # the raw Microsoft Graph answer
    if not isinstance(data, list) or not all(isinstance(item, dict) and "subject" in item for item in data):
        raise MlopsError(f"{source}: expected the JSON list that `az ad app federated-credential list --id "
                         "APP_ID` prints (objects with name, issuer, subject, audiences)")
    return [FederatedCredential(str(item.get("name", "")), str(item["subject"]), str(item.get("issuer", "")),
                                tuple(item.get("audiences") or ())) for item in data]


def load_credentials_file(path: Path) -> list[FederatedCredential]:
    """Credentials from a saved ``az ad app federated-credential list`` output."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise MlopsError(f"{path}: no such file: save it with `az ad app federated-credential list --id "
                         f"APP_ID > {path.name}`") from None
    except json.JSONDecodeError as error:
        raise MlopsError(f"{path}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}") from None
    return parse_credentials(data, str(path))


INSTALL = {"az": "the Azure CLI (https://aka.ms/azure-cli)", "gh": "the GitHub CLI (https://cli.github.com)"}


def run_cli(argv: list[str], where: str, hint: str = "", stdin: str | None = None) -> str:
    """Run ``az`` or ``gh`` and return its output; raise with its last error line (and ``hint``) on failure."""
    executable = shutil.which(argv[0])
    if executable is None:
        raise MlopsError(f"{where}: {argv[0]} is not on PATH: install {INSTALL.get(argv[0], argv[0])}{hint}")
    result = subprocess.run([executable, *argv[1:]], capture_output=True, text=True, check=False, input=stdin)
    if result.returncode != 0:
        last = next((line for line in reversed(result.stderr.splitlines()) if line.strip()), "no message")
        raise MlopsError(f"{where}: `{' '.join(argv[:5])} ...` failed (exit {result.returncode}): "
                         f"{last.strip()}{hint}")
    return result.stdout


def fetch_credentials(app_id: str) -> list[FederatedCredential]:
    """The app's federated credentials, read from Azure with the Azure CLI."""
    output = run_cli(["az", "ad", "app", "federated-credential", "list", "--id", app_id, "--output", "json"],
                     "doctor", ": or pass --credentials FILE to work offline")
    try:
        return parse_credentials(json.loads(output or "[]"), f"az ad app federated-credential list --id {app_id}")
    except json.JSONDecodeError:
        raise MlopsError("az ad app federated-credential list printed something that is not JSON: "
                         "run it yourself and pass the file with --credentials") from None


def find_app(display_name: str) -> str:
    """The application ID of the app registration named exactly ``display_name``, or ``""``.

    ``az ad app list --display-name`` matches by prefix (``github-org-ml`` also finds
    ``github-org-ml-platform``), so this filters on equality.
    """
    return run_cli(["az", "ad", "app", "list", "--filter", f"displayName eq '{display_name}'", "--query",
                    "[0].appId", "--output", "tsv"], "doctor", ": or pass --credentials FILE to work offline").strip()


def repository_ids(repo: Repo) -> tuple[str, str, bool] | None:
    """The owner's and repository's IDs, and whether it may present the name form; ``None`` if gh cannot say."""
    try:
        output = run_cli(["gh", "api", f"repos/{repo.slug}", "--jq", ".owner.id, .id, .created_at"], "doctor")
    except MlopsError:
        return None
    lines = output.split()
    if len(lines) != 3 or not lines[0].isdigit() or not lines[1].isdigit():
        return None
    return lines[0], lines[1], lines[2] < IMMUTABLE_SINCE
