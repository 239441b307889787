"""mlops doctor: say, before a workflow runs, whether each of its Azure logins will work, and what to fix."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops.doctor import Diagnosis
    from mlops.oidc import LoginJob, Repo
    from mlops.trust import Credentials

HELP = "check the workflows' OIDC logins against the app's federated credentials; explain AADSTS errors"


def add_arguments(parser) -> None:
    """Where the repo and each identity's credentials come from."""
    parser.add_argument("--repo", metavar="ORG/REPO",
                        help="the GitHub repository (default: the `origin` remote, else $GITHUB_REPOSITORY)")
    parser.add_argument("--org-id", help="owner ID: the repository presents the immutable subject form "
                        "(default: looked up with gh when credentials are read from Azure)")
    parser.add_argument("--repo-id", help="repository ID, with --org-id")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--credentials", action="append", metavar="[ENVIRONMENT=]FILE", default=[],
                        help="offline: the JSON that `az ad app federated-credential list --id APP_ID` prints, for "
                        "the repository identity, or with ENVIRONMENT= for that environment's (repeatable)")
    source.add_argument("--app-id", action="append", metavar="[ENVIRONMENT=]APP_ID", default=[],
                        help="read the credentials of this app from Azure with the Azure CLI (default: "
                        "AZURE_CLIENT_ID from .env, else the apps bootstrap-oidc names github-ORG-REPO and "
                        "github-ORG-REPO-ENVIRONMENT)")
    parser.add_argument("--default-branch", default="main", help="the branch pushes deploy from (default: main)")
    parser.add_argument("--explain", metavar="TEXT", help="explain the AADSTS codes in an error message and exit")


@dataclass
class DoctorReport:
    """What ``mlops doctor`` checked and found."""

    repo: Repo  # in the subject form checked (with its IDs when known)
    jobs: list[LoginJob]
    diagnosis: Diagnosis
    identities: dict[str | None, Credentials]  # environment (None: the repository) -> its credentials
    notes: list[str] = field(default_factory=list)


def doctor(project_dir: Path, *, repo: str | None = None, org_id: str | None = None, repo_id: str | None = None,
           credentials: list[str] = (), app_ids: list[str] = (), default_branch: str = "main") -> DoctorReport:
    """Check each workflow job that logs in against its identity's federated credentials.

    ``credentials`` (offline) and ``app_ids`` are ``[ENVIRONMENT=]VALUE``: without ``ENVIRONMENT=`` the
    repository identity's. Reading from Azure also asks gh which subject form the repository presents.
    """
    from mlops.doctor import adopt_immutable_form, diagnose
    from mlops.errors import MlopsError
    from mlops.oidc import login_jobs, read_workflows

    workflows = read_workflows(project_dir)
    if not workflows:
        raise MlopsError(f"{project_dir / '.github/workflows'}: no workflow files: run `mlops doctor` in the "
                         "generated repo (or pass -C DIR)")
    github = _repo(project_dir, repo, org_id, repo_id)
    environments = sorted({job.environment for job in login_jobs(workflows, github, default_branch)
                           if job.environment})
    online = not credentials
    identities = _identities(project_dir, github, environments, app_ids) if online else _files(credentials)
    name_form_too, notes = False, []
    if not github.owner_id and online:
        github, name_form_too, notes = _look_up_form(github)
    if not github.owner_id:
        adopted = adopt_immutable_form(github, [c for i in identities.values() for c in i.items])
        if adopted != github:
            notes.append(f"the credentials use the immutable subject form {adopted.prefix}: checking against it "
                         "(and the name form, which an older repository may present)")
            github, name_form_too = adopted, True
        else:
            notes.append("checking the name form repo:ORG/REPO; a repository created since 2026-06-18 presents "
                         "repo:ORG@ID/REPO@ID instead: pass --org-id and --repo-id (`gh api repos/ORG/REPO --jq "
                         "'.owner.id, .id'`) to check that form")
    jobs = login_jobs(workflows, github, default_branch)
    readme = project_dir / "README.md"
    diagnosis = diagnose(jobs, identities, workflows, readme.read_text("utf-8") if readme.is_file() else None,
                         github, name_form_too)
    return DoctorReport(github, jobs, diagnosis, identities, notes)


def run(args) -> int:
    """Print each problem as ``file:line:col: field: message``; exit 1 when a login would fail."""
    from mlops.aadsts import explain

    if args.explain is not None:
        lines = explain(args.explain)
        print("\n".join(lines) if lines else "no AADSTS code this doctor knows in that text")
        return 0 if lines else 1
    report = doctor(args.project_dir, repo=args.repo, org_id=args.org_id, repo_id=args.repo_id,
                    credentials=args.credentials, app_ids=args.app_id, default_branch=args.default_branch)
    return _report(report.diagnosis, report.jobs, report.notes, report.identities)


def _report(diagnosis, jobs, notes, identities) -> int:
    from mlops.aadsts import explain

    for note in [*notes, *diagnosis.notes]:
        print(f"note: {note}")
    in_actions = os.environ.get("GITHUB_ACTIONS") == "true"
    for job in jobs:
        for subject in job.subjects:
            match = diagnosis.matched.get((job.workflow, job.job, subject))
            status = "NO MATCH"
            if match:
                name, identity, accepted = match
                status = f"ok, credential {name!r} of {identity}" + ("" if accepted == subject else
                                                                    f" (the name form {accepted})")
            print(f"{job.workflow}: job {job.job} presents {subject}: {status}")
    for finding in diagnosis.findings:
        print(finding)
        if in_actions:
            print(finding.annotation())
    for line in explain(" ".join(diagnosis.codes)):
        print(f"  {line}")
    if diagnosis.errors:
        print(f"{len(diagnosis.errors)} problem(s) to fix before the workflows can log in safely; "
              "then run `mlops doctor` again.")
        return 1
    sources = ", ".join(i.source for i in identities.values())
    print(f"all well: {len(jobs)} job(s) log in, each subject has a matching credential ({sources}), and no job "
          "outside an environment can log in as that environment's identity" if jobs else
          "all well: no workflow job logs in to Azure")
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


def _split(value: str) -> tuple[str | None, str]:
    """``ENVIRONMENT=VALUE`` or ``VALUE`` (the repository identity's)."""
    environment, sep, rest = value.partition("=")
    return (environment, rest) if sep and "/" not in environment else (None, value)


def _files(values: list[str]) -> dict:
    """Each identity's credentials from saved ``az ad app federated-credential list`` output."""
    from mlops.errors import MlopsError
    from mlops.oidc import load_credentials_file
    from mlops.trust import Credentials

    identities = {}
    for value in values:
        environment, file = _split(value)
        identities[environment] = Credentials(load_credentials_file(Path(file)), file)
    if None not in identities:
        raise MlopsError("doctor: --credentials FILE (without ENVIRONMENT=) is missing: the repository identity's "
                         "credentials, which the jobs without an environment use")
    return identities


def _identities(root: Path, repo, environments: list[str], app_ids: list[str]) -> dict:
    """Each identity's credentials read from Azure: the apps given, else found by the names bootstrap-oidc gives."""
    from mlops.config import AzureConfig
    from mlops.errors import MlopsError
    from mlops.oidc import fetch_credentials, find_app
    from mlops.trust import Credentials

    given = dict(_split(value) for value in app_ids)
    base = f"github-{repo.owner}-{repo.name}"
    app_ids = {None: given.get(None) or AzureConfig(root).get("client_id") or find_app(base)}
    if not app_ids[None]:
        raise MlopsError(f"doctor: which app? no app registration is named {base}: pass --app-id APP_ID, or "
                         "--credentials FILE to work offline, or run `mlops bootstrap-oidc`")
    for environment in environments:
        app_id = given.get(environment) or find_app(f"{base}-{environment}")
        if app_id:
            app_ids[environment] = app_id
    return {environment: Credentials(fetch_credentials(app_id), f"app {app_id}")
            for environment, app_id in app_ids.items()}


def _look_up_form(repo):
    """The repository with its IDs and whether it may present the name form, asked of GitHub with gh."""
    from mlops.oidc import Repo, repository_ids

    found = repository_ids(repo)
    if found is None:
        return repo, False, ["gh could not tell the repository's IDs: checking the name form only"]
    owner_id, repo_id, may_use_name_form = found
    note = (f"{repo.slug} was created before 2026-06-18: it presents the name form unless an admin opted in, "
            "so either form is accepted" if may_use_name_form else
            f"{repo.slug} presents the immutable form repo:{repo.owner}@{owner_id}/{repo.name}@{repo_id}")
    return Repo(repo.owner, repo.name, owner_id, repo_id), may_use_name_form, [note]
