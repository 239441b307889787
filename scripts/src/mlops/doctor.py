"""Find what would fail a GitHub OIDC login before a workflow runs: compare jobs with federated credentials.

Each finding names the workflow file and line, the job, the subject it will present and the Entra ID
error it would meet, so the fix is a single credential or a single line of YAML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mlops.findings import Finding
from mlops.oidc import (
    AUDIENCE,
    GITHUB_ISSUER,
    MAX_CREDENTIALS_PER_APP,
    FederatedCredential,
    LoginJob,
    Repo,
    Workflow,
)
from mlops.preflight import LOGIN_SECRETS
from mlops.trust import Credentials, identity_of, label, name_form, unapproved_logins


@dataclass
class Diagnosis:
    """What ``mlops doctor`` found: findings (errors and warnings), the jobs checked, and notes."""

    findings: list[Finding] = field(default_factory=list)
    jobs: list[LoginJob] = field(default_factory=list)
    # (workflow, job, subject) -> (credential name, identity, the subject it trusts)
    matched: dict[tuple[str, str, str], tuple[str, str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        """The findings that would fail a login."""
        return [f for f in self.findings if f.severity == "error"]

    @property
    def codes(self) -> list[str]:
        """The AADSTS codes the findings predict, in order."""
        return list(dict.fromkeys(code for f in self.findings for code in re.findall(r"AADSTS\d+", f.message)))


def adopt_immutable_form(repo: Repo, credentials: list[FederatedCredential]) -> Repo:
    """The repo with the IDs its credentials use, when they use the immutable ``OWNER@ID/NAME@ID`` form."""
    if repo.owner_id:
        return repo
    pattern = re.compile(rf"^repo:{re.escape(repo.owner)}@(\d+)/{re.escape(repo.name)}@(\d+):", re.IGNORECASE)
    for credential in credentials:
        match = pattern.match(credential.subject)
        if match:
            return Repo(repo.owner, repo.name, match.group(1), match.group(2))
    return repo


def diagnose(jobs: list[LoginJob], identities: dict[str | None, Credentials], workflows: list[Workflow],
             readme: str | None, repo: Repo, name_form_too: bool = False) -> Diagnosis:
    """Every mismatch between the jobs that log in and their identity's federated credentials, and more.

    ``identities`` maps an environment name (``None``: the repository) to its identity's credentials.
    ``repo`` carries the IDs when the repository presents the immutable form; ``name_form_too`` says it
    may present the name form instead (an older repository), so either form of a subject is accepted.
    """
    diagnosis = Diagnosis(jobs=jobs)
    for job in jobs:
        diagnosis.notes.extend(f"{job.workflow}: job {job.job}: {note}" for note in job.notes)
        if not job.id_token:
            line, col = job.id_token_position
            diagnosis.findings.append(Finding(
                job.workflow, line, col, f"jobs.{job.job}.permissions",
                f"job {job.job} logs in but lacks `permissions: id-token: write`: GitHub gives it no "
                "ACTIONS_ID_TOKEN_REQUEST_URL, so the login fails before reaching Azure; add `id-token: "
                "write` to this job's permissions (only to the jobs that log in)"))
        missing = [name for name in LOGIN_SECRETS if name not in job.secrets]
        if missing:
            diagnosis.findings.append(Finding(
                job.workflow, job.line, job.col, f"jobs.{job.job}",
                f"job {job.job} logs in but never reads {', '.join(missing)}: pass "
                f"{'them' if len(missing) > 1 else 'it'} to the step that talks to Azure (`env: "
                + missing[0] + ": ${{ secrets." + missing[0] + " }}`)"))
        if job.azure_login_action:
            diagnosis.findings.append(Finding(
                job.workflow, job.line, job.col, f"jobs.{job.job}",
                f"job {job.job} uses azure/login: the Azure CLI session it opens cannot renew its token "
                "(Azure/login#372), so a job longer than the token fails with AADSTS700024; drop it, the "
                "toolkit's commands log in themselves with a fresh GitHub token each time", "warning"))
        key = identity_of(job, identities)
        credentials = identities[key].items
        for subject in job.subjects:
            candidates = [subject, name_form(subject, repo)] if name_form_too else [subject]
            problems = [_subject_problem(job, candidate, credentials) for candidate in candidates]
            if None in problems:
                accepted = candidates[problems.index(None)]
                name = next(c.name for c in credentials if c.subject == accepted)
                diagnosis.matched[(job.workflow, job.job, subject)] = (name, label(key), accepted)
                continue
            problem = _form_problem(job, subject, credentials, repo) if repo.owner_id and not name_form_too \
                else None
            diagnosis.findings.append(Finding(job.workflow, job.line, job.col, f"jobs.{job.job}",
                                              problem or problems[0]))
    for credentials in identities.values():
        diagnosis.findings.extend(_credential_findings(credentials.items, credentials.source))
    diagnosis.findings.extend(unapproved_logins(jobs, identities, repo))
    diagnosis.findings.extend(_secret_findings(workflows, readme))
    return diagnosis


def _form_problem(job: LoginJob, subject: str, credentials: list[FederatedCredential], repo: Repo) -> str | None:
    """The subject is in the ID form the repository presents, a credential has its name form."""
    named = name_form(subject, repo)
    same = [c for c in credentials if c.subject == named]
    if not same:
        return None
    return (f"job {job.job} will present subject {subject!r}: {repo.slug} presents the immutable form "
            f"(repo:OWNER@ID/NAME@ID), but credential {same[0].name!r} has the name form {named!r}, which this "
            f"repository never presents: AADSTS700213 (`mlops bootstrap-oidc --repo {repo.slug} --apply` adds "
            "the immutable form)")


def _subject_problem(job: LoginJob, subject: str, credentials: list[FederatedCredential]) -> str | None:
    """Why ``subject`` would not log in, or ``None`` when a credential accepts it."""
    presents = f"job {job.job} will present subject {subject!r}"
    exact = [c for c in credentials if c.subject == subject]
    good = [c for c in exact if c.issuer == GITHUB_ISSUER and AUDIENCE in c.audiences]
    if good:
        return None
    if exact:
        credential = exact[0]
        return (f"{presents}: credential {credential.name!r} has that subject but issuer {credential.issuer!r} "
                f"and audiences {list(credential.audiences)}; GitHub's are {GITHUB_ISSUER!r} and "
                f"[{AUDIENCE!r}]: AADSTS70021 (fix the credential's issuer and audience)")
    by_case = [c for c in credentials if c.subject.lower() == subject.lower()]
    if by_case:
        return (f"{presents} but credential {by_case[0].name!r} has {by_case[0].subject!r}, which differs "
                "only in case; matching is case-sensitive: AADSTS7002138 (recreate it with the exact spelling "
                "above)")
    hyphen = [c for c in credentials if c.subject.replace(":pull-request", ":pull_request") == subject]
    if hyphen:
        return (f"{presents} but credential {hyphen[0].name!r} has {hyphen[0].subject!r}: GitHub writes "
                "`pull_request` with an underscore, the hyphenated form never matches: AADSTS700213")
    repo_prefix = subject.split(":environment:")[0].split(":ref:")[0].split(":pull_request")[0]
    others = [c for c in credentials if c.subject.startswith(repo_prefix + ":")]
    if job.environment and any(":ref:" in c.subject for c in others):
        branch = next(c for c in others if ":ref:" in c.subject)
        return (f"{presents}: it runs in environment {job.environment!r}, and a job with `environment:` "
                f"presents the environment subject instead of the branch; credential {branch.name!r} has the "
                f"branch subject {branch.subject!r}, which only a job without an environment presents: "
                f"AADSTS700213 (add a credential for {subject!r})")
    if not job.environment and any(":environment:" in c.subject for c in others):
        env = next(c for c in others if ":environment:" in c.subject)
        return (f"{presents}: it has no `environment:`, so it presents the branch subject; credential "
                f"{env.name!r} has {env.subject!r}, which only a job in that environment presents: "
                f"AADSTS700213 (add a credential for {subject!r}, or give the job that environment)")
    slug = subject.split(":", 2)[1] if subject.startswith("repo:") else "ORG/REPO"
    slug = re.sub(r"@\d+", "", slug)  # the immutable form names the IDs too
    return (f"{presents} but no federated credential of the app has it: AADSTS700213 (`mlops bootstrap-oidc "
            f"--repo {slug} --apply` adds it)")


def _credential_findings(credentials: list[FederatedCredential], source: str) -> list[Finding]:
    """Problems with the credentials themselves, whatever the workflows do."""
    findings = []
    for credential in credentials:
        if ":pull-request" in credential.subject:
            findings.append(Finding(source, 1, 1, credential.name,
                                    f"subject {credential.subject!r} uses `pull-request`: GitHub presents "
                                    "`pull_request`, so this credential never matches", "warning"))
    if len(credentials) > MAX_CREDENTIALS_PER_APP:
        findings.append(Finding(source, 1, 1, "", f"{len(credentials)} federated credentials: Entra ID allows "
                                f"at most {MAX_CREDENTIALS_PER_APP} per app; delete the unused ones"))
    return findings


def _secret_findings(workflows: list[Workflow], readme: str | None) -> list[Finding]:
    """Secrets a workflow reads that the README never asks the user to create, and client secrets."""
    findings = []
    for workflow in workflows:
        seen: set[str] = set()
        for number, line in enumerate(workflow.text.splitlines(), start=1):
            for match in re.finditer(r"secrets\.([A-Za-z_][A-Za-z0-9_]*)", line):
                name = match.group(1)
                if name in seen or name == "GITHUB_TOKEN":
                    continue
                seen.add(name)
                column = match.start() + 1
                if name == "AZURE_CLIENT_SECRET":
                    findings.append(Finding(workflow.relative, number, column, f"secrets.{name}",
                                            "the workflow reads a client secret: this repo logs in with OIDC "
                                            "federated credentials; remove the secret and its use"))
                elif readme is not None and name not in readme:
                    findings.append(Finding(workflow.relative, number, column, f"secrets.{name}",
                                            f"the workflow reads secret {name} but README.md never asks the "
                                            "user to create it: the job will see an empty value; document it "
                                            "or stop using it"))
    return findings

