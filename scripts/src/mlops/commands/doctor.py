"""mlops doctor: say, before a workflow runs, whether each of its Azure logins will work, and what to fix."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops.doctor import Diagnosis
    from mlops.oidc import FederatedCredential, LoginJob, Repo

HELP = "check the workflows' OIDC logins against the app's federated credentials; explain AADSTS errors"


def add_arguments(parser) -> None:
    """Where the repo and the credentials come from."""
    parser.add_argument("--repo", metavar="ORG/REPO",
                        help="the GitHub repository (default: the `origin` remote, else $GITHUB_REPOSITORY)")
    parser.add_argument("--org-id", help="owner ID, for repositories that present the immutable subject form")
    parser.add_argument("--repo-id", help="repository ID, with --org-id")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--credentials", type=Path, metavar="FILE",
                        help="offline: the JSON that `az ad app federated-credential list --id APP_ID` prints")
    source.add_argument("--app-id", help="read the credentials of this app from Azure with the Azure CLI "
                        "(default: AZURE_CLIENT_ID from .env or the environment)")
    parser.add_argument("--default-branch", default="main", help="the branch pushes deploy from (default: main)")
    parser.add_argument("--explain", metavar="TEXT", help="explain the AADSTS codes in an error message and exit")


@dataclass(frozen=True)
class DoctorReport:
    """The workflows' login jobs checked against the app's federated credentials."""

    repo: Repo
    adopted: Repo  # ``repo`` in the subject form the credentials use
    jobs: list[LoginJob]
    diagnosis: Diagnosis
    source: str  # where the credentials came from: a file, or the app in Azure


def doctor(project_dir: Path, *, repo: str | None = None, org_id: str | None = None, repo_id: str | None = None,
           credentials: Path | None = None, app_id: str | None = None,
           default_branch: str = "main") -> DoctorReport:
    """Check each workflow job that logs in against the federated credentials (``credentials``: offline JSON)."""
    from mlops.doctor import adopt_immutable_form, diagnose
    from mlops.errors import MlopsError
    from mlops.oidc import login_jobs, read_workflows

    workflows = read_workflows(project_dir)
    if not workflows:
        raise MlopsError(f"{project_dir / '.github/workflows'}: no workflow files: run `mlops doctor` in the "
                         "generated repo (or pass -C DIR)")
    found, source = _credentials(project_dir, credentials, app_id)
    github = _repo(project_dir, repo, org_id, repo_id)
    adopted = adopt_immutable_form(github, found)
    jobs = login_jobs(workflows, adopted, default_branch)
    readme = project_dir / "README.md"
    diagnosis = diagnose(jobs, found, workflows, readme.read_text("utf-8") if readme.is_file() else None, source)
    return DoctorReport(github, adopted, jobs, diagnosis, source)


def run(args) -> int:
    """Print each problem as ``file:line:col: field: message``; exit 1 when a login would fail."""
    from mlops.aadsts import explain

    if args.explain is not None:
        lines = explain(args.explain)
        print("\n".join(lines) if lines else "no AADSTS code this doctor knows in that text")
        return 0 if lines else 1

    report = doctor(args.project_dir, repo=args.repo, org_id=args.org_id, repo_id=args.repo_id,
                    credentials=args.credentials, app_id=args.app_id, default_branch=args.default_branch)
    diagnosis, jobs = report.diagnosis, report.jobs
    if report.adopted != report.repo:
        print(f"note: the credentials use the immutable subject form {report.adopted.prefix}: checking against it")
    for note in diagnosis.notes:
        print(f"note: {note}")
    in_actions = os.environ.get("GITHUB_ACTIONS") == "true"
    for job in jobs:
        for subject in job.subjects:
            name = diagnosis.matched.get((job.workflow, job.job, subject))
            status = f"ok, credential {name!r}" if name else "NO MATCH"
            print(f"{job.workflow}: job {job.job} presents {subject}: {status}")
    for finding in diagnosis.findings:
        print(finding)
        if in_actions:
            print(finding.annotation())
    for line in explain(" ".join(diagnosis.codes)):
        print(f"  {line}")
    if diagnosis.errors:
        print(f"{len(diagnosis.errors)} problem(s) to fix before the workflows can log in; "
          "then run `mlops doctor` again.")
        return 1
    print(f"all well: {len(jobs)} job(s) log in, each subject has a matching credential in {report.source}"
          if jobs else "all well: no workflow job logs in to Azure")
    return 0


def _repo(root: Path, repo: str | None, org_id: str | None, repo_id: str | None) -> Repo:
    from mlops.errors import MlopsError
    from mlops.oidc import parse_repo, repo_from_git

    if repo:
        return parse_repo(repo, org_id, repo_id)
    found = repo_from_git(root)
    if found is None and os.environ.get("GITHUB_REPOSITORY"):
        found = parse_repo(os.environ["GITHUB_REPOSITORY"])
    if found is None:
        raise MlopsError("doctor: which GitHub repository? pass --repo ORG/REPO (no github.com `origin` remote)")
    return parse_repo(found.slug, org_id, repo_id)


def _credentials(root: Path, file: Path | None, app_id: str | None) -> tuple[list[FederatedCredential], str]:
    """The federated credentials and where they came from: a file, or Azure through the Azure CLI."""
    from mlops.config import AzureConfig
    from mlops.errors import MlopsError
    from mlops.oidc import fetch_credentials, load_credentials_file

    if file is not None:
        return load_credentials_file(file), str(file)
    app_id = app_id or AzureConfig(root).get("client_id")
    if not app_id:
        raise MlopsError("doctor: which app? pass --credentials FILE (offline) or --app-id APP_ID, or set "
                         "AZURE_CLIENT_ID in .env")
    return fetch_credentials(app_id), f"app {app_id}"
