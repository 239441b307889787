"""The commands that set up GitHub OIDC for a repo: app, service principal, federated credentials, role, secrets.

The plan is a list of Azure CLI and GitHub CLI commands. ``render`` writes it as a bash script an admin
can review and run; ``apply`` runs the same commands. Both skip what already exists (the app by name,
the service principal, credentials by subject), so running either again converges.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

from mlops import oidc
from mlops.errors import MlopsError
from mlops.oidc import AUDIENCE, GITHUB_ISSUER, MAX_CREDENTIALS_PER_APP, Repo

DATA_SCIENTIST = "AzureML Data Scientist"
COMPUTE_OPERATOR = "AzureML Compute Operator"
_VARIABLE = re.compile(r"\$([A-Z_]+)")


@dataclass
class Step:
    """One CLI command; ``capture`` names a variable set from its output.

    ``unless`` skips the step when that variable is already non-empty (create only what is missing);
    ``unless_listed`` = (variable, value) skips it when ``value`` is one of the variable's lines.
    """

    comment: str
    argv: list[str]
    capture: str | None = None
    unless: str | None = None
    unless_listed: tuple[str, str] | None = None


@dataclass
class BootstrapPlan:
    """The steps, plus what the admin should know before running them."""

    repo: Repo
    subjects: list[str]
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def credential_name(subject: str) -> str:
    """A federated credential name for ``subject`` (unique per app; letters, digits and hyphens)."""
    tail = subject.split(":", 2)[2] if subject.count(":") >= 2 else subject
    return ("github-" + re.sub(r"[^A-Za-z0-9]+", "-", tail).strip("-"))[:120]


def workspace_scope(subscription: str, resource_group: str, workspace: str) -> str:
    """The Azure resource ID of the workspace: the narrowest scope the role can have."""
    return (f"/subscriptions/{subscription}/resourceGroups/{resource_group}"
            f"/providers/Microsoft.MachineLearningServices/workspaces/{workspace}")


def plan_bootstrap(repo: Repo, subjects: list[str], *, resource_group: str, workspace: str,
                   subscription: str | None, app_name: str, compute_operator: bool = False) -> BootstrapPlan:
    """The steps that make every subject in ``subjects`` log in to the workspace, and nothing more."""
    if len(subjects) > MAX_CREDENTIALS_PER_APP:
        raise MlopsError(f"bootstrap-oidc: {len(subjects)} subjects, but an app holds at most "
                         f"{MAX_CREDENTIALS_PER_APP} federated credentials: use fewer environments or branches")
    plan = BootstrapPlan(repo, subjects)
    add = plan.steps.append
    add(Step("the tenant that will trust GitHub", ["az", "account", "show", "--query", "tenantId",
                                                   "--output", "tsv"], capture="TENANT_ID"))
    if subscription is None:
        add(Step("the subscription of the workspace: the one `az account set` selected",
                 ["az", "account", "show", "--query", "id", "--output", "tsv"], capture="SUBSCRIPTION_ID"))
    subscription_ref = subscription or "$SUBSCRIPTION_ID"
    add(Step("the app registration, if it exists already",
             ["az", "ad", "app", "list", "--display-name", app_name, "--query", "[0].appId", "--output", "tsv"],
             capture="APP_ID"))
    add(Step("else create it (no client secret is ever created)",
             ["az", "ad", "app", "create", "--display-name", app_name, "--query", "appId", "--output", "tsv"],
             capture="APP_ID", unless="APP_ID"))
    add(Step("its service principal, if it exists already",
             ["az", "ad", "sp", "list", "--filter", "appId eq '$APP_ID'", "--query", "[0].id", "--output", "tsv"],
             capture="SP_ID"))
    add(Step("else create it", ["az", "ad", "sp", "create", "--id", "$APP_ID", "--query", "id", "--output", "tsv"],
             capture="SP_ID", unless="SP_ID"))
    add(Step("the subjects that already have a federated credential",
             ["az", "ad", "app", "federated-credential", "list", "--id", "$APP_ID", "--query", "[].subject",
              "--output", "tsv"], capture="EXISTING_SUBJECTS"))
    for subject in subjects:
        parameters = {"name": credential_name(subject), "issuer": GITHUB_ISSUER, "subject": subject,
                      "audiences": [AUDIENCE], "description": f"GitHub Actions of {repo.slug}"}
        add(Step(f"trust GitHub tokens with subject {subject}",
                 ["az", "ad", "app", "federated-credential", "create", "--id", "$APP_ID",
                  "--parameters", json.dumps(parameters)], unless_listed=("EXISTING_SUBJECTS", subject)))
    scope = workspace_scope(subscription_ref, resource_group, workspace)
    roles = [DATA_SCIENTIST] + ([COMPUTE_OPERATOR] if compute_operator else [])
    for role in roles:
        add(Step(f"{role} on the workspace only (not Contributor on the subscription)",
                 ["az", "role", "assignment", "create", "--assignee-object-id", "$SP_ID",
                  "--assignee-principal-type", "ServicePrincipal", "--role", role, "--scope", scope,
                  "--output", "none"]))
    if not compute_operator:
        plan.notes.append(f"{DATA_SCIENTIST} cannot create compute: create the training cluster once as an "
                          f"admin (`mlops train` reuses it), or pass --compute-operator to also grant "
                          f"{COMPUTE_OPERATOR} on the workspace")
    for environment in sorted({s.split(":environment:", 1)[1] for s in subjects if ":environment:" in s}):
        add(Step(f"the GitHub environment {environment} (add required reviewers in the repo's settings)",
                 ["gh", "api", "--method", "PUT", f"repos/{repo.slug}/environments/{environment}", "--silent"]))
    for name, value in (("AZURE_CLIENT_ID", "$APP_ID"), ("AZURE_TENANT_ID", "$TENANT_ID"),
                        ("AZURE_SUBSCRIPTION_ID", subscription_ref)):
        add(Step(f"the repository secret {name} (an ID, not a password)",
                 ["gh", "secret", "set", name, "--repo", repo.slug, "--body", value]))
    return plan


def _quote(arg: str) -> str:
    if "$" in arg and not re.search(r'["`\\]', arg):
        return f'"{arg}"'
    return shlex.quote(arg)


def render(plan: BootstrapPlan, command_line: str) -> str:
    """The plan as a bash script: each command with its reason, runnable as it stands."""
    lines = ["#!/usr/bin/env bash", f"# {command_line}", "# Review, then run as an admin of the tenant and the "
             "repository (or rerun with --apply). Rerunning skips what exists.", "set -euo pipefail", ""]
    lines += [f"# note: {note}" for note in plan.notes]
    for step in plan.steps:
        command = " ".join(_quote(arg) for arg in step.argv)
        if step.capture:
            command = f"{step.capture}=$({command})"
        if step.unless:
            command = f'[ -n "${step.unless}" ] || {command}'
        if step.unless_listed:
            variable, value = step.unless_listed
            command = f'printf "%s\\n" "${variable}" | grep -qxF -- {shlex.quote(value)} || {command}'
        lines += [f"# {step.comment}", command]
    return "\n".join(lines) + "\n"


Runner = Callable[[list[str]], str]


def run_step(argv: list[str]) -> str:
    """Run one step's ``az`` or ``gh`` command; a failure says a rerun resumes."""
    return oidc.run_cli(argv, "bootstrap-oidc", ": fix it and rerun; steps already done are skipped")


def apply(plan: BootstrapPlan, runner: Runner = run_step, echo: Callable[[str], None] = print) -> dict[str, str]:
    """Run the plan's commands in order, skipping what exists; return the variables it learned."""
    variables: dict[str, str] = {}
    for step in plan.steps:
        if step.unless and variables.get(step.unless):
            continue
        if step.unless_listed:
            variable, value = step.unless_listed
            if value in variables.get(variable, "").splitlines():
                echo(f"# exists: {step.comment}")
                continue
        argv = [_VARIABLE.sub(lambda m: variables.get(m.group(1), m.group(0)), arg) for arg in step.argv]
        echo("$ " + " ".join(shlex.quote(arg) for arg in argv))
        output = runner(argv).strip()
        if step.capture:
            variables[step.capture] = output
            if step.capture in ("APP_ID", "SP_ID", "TENANT_ID", "SUBSCRIPTION_ID") and step.unless and not output:
                raise MlopsError(f"bootstrap-oidc: `{' '.join(argv[:4])}` printed no ID: check the Azure CLI login")
    return variables
