"""Which identity each login job uses, and whether a job that needs no approval could log in as an approved one.

A job in environment ``E`` reads ``E``'s ``AZURE_CLIENT_ID`` secret when ``E`` has one (environment
secrets override repository secrets of the same name), else the repository's. The identity of an
environment must trust only that environment's subject: any other subject (a branch, pull requests,
another environment) is one that jobs outside it present, without its approvals.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlops.findings import Finding
from mlops.oidc import FederatedCredential, LoginJob, Repo


@dataclass
class Credentials:
    """The federated credentials of one identity and where they were read from."""

    items: list[FederatedCredential]
    source: str


def label(environment: str | None) -> str:
    """How messages name the identity of ``environment`` (``None``: the repository's)."""
    return "the repository identity" if environment is None else f"the {environment} identity"


def identity_of(job: LoginJob, identities: dict[str | None, Credentials]) -> str | None:
    """The key of the identity ``job`` logs in as: its environment's when known, else the repository's."""
    return job.environment if job.environment in identities else None


def name_form(subject: str, repo: Repo) -> str:
    """``subject`` with the repository named without IDs (``repo:OWNER/NAME:...``)."""
    prefix = repo.prefix + ":"
    return f"repo:{repo.slug}:" + subject[len(prefix):] if subject.startswith(prefix) else subject


def unapproved_logins(jobs: list[LoginJob], identities: dict[str | None, Credentials],
                      repo: Repo) -> list[Finding]:
    """Errors for each way a job outside an environment could log in as that environment's identity."""
    findings = []
    for environment, credentials in identities.items():
        if environment is None:
            continue
        own = {f"{form.prefix}:environment:{environment}" for form in (repo, Repo(repo.owner, repo.name))}
        outside = [job.job for job in jobs if job.environment != environment]
        for credential in credentials.items:
            if credential.subject in own:
                continue
            who = (f"job {outside[0]}" if outside else "a job") + f" (or any job outside {environment})"
            findings.append(Finding(
                credentials.source, 1, 1, credential.name,
                f"{label(environment)} trusts {credential.subject!r}, which {who} can present without "
                f"{environment}'s approvals and branch policy, and then act as {label(environment)}: delete "
                f"this credential (`az ad app federated-credential delete --id APP_ID --federated-credential-id "
                f"{credential.name}`); the identity must trust only {sorted(own)[0]!r}"))
    for job in jobs:
        if not job.environment or job.environment in identities:
            continue
        unapproved = [other.job for other in jobs if other.environment != job.environment]
        if unapproved:
            findings.append(Finding(
                job.workflow, job.line, job.col, f"jobs.{job.job}",
                f"job {job.job} runs in environment {job.environment!r} but logs in as the repository identity, "
                f"which job {unapproved[0]} also uses without {job.environment}'s approvals: give "
                f"{job.environment} its own identity (`mlops bootstrap-oidc --apply` sets its AZURE_CLIENT_ID "
                f"environment secret), or, if it has one, pass its credentials with --credentials "
                f"{job.environment}=FILE or --app-id {job.environment}=APP_ID"))
    return findings
