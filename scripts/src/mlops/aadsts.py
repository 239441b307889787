"""What the Entra ID (AADSTS) error codes a GitHub OIDC login meets mean, and what to do about each.

Entra ID's messages name the code and the failing subject, but not the fix; most of these failures are
a federated credential that does not match what the workflow's job presents (see ``mlops doctor``).
"""

from __future__ import annotations

import re

# code -> (what it means, what to do); the codes that GitHub OIDC logins hit in public issue trackers
EXPLANATIONS: dict[str, tuple[str, str]] = {
    "AADSTS70021": (
        "no federated credential on the app matches the issuer, subject and audience the job presented",
        ("run `mlops doctor` to compare the subjects the workflows present with the app's federated "
         "credentials, then add the missing one (`mlops bootstrap-oidc` prints the command)"),
    ),
    "AADSTS700213": (
        "no federated credential on the app matches the subject the job presented",
        ("a job with `environment:` presents `repo:ORG/REPO:environment:NAME` and logs in with that environment's "
         "AZURE_CLIENT_ID secret, a job without one on main presents `repo:ORG/REPO:ref:refs/heads/main`; "
         "repositories created since 2026-06-18 write `repo:ORG@ORG_ID/REPO@REPO_ID:...`: run `mlops doctor` "
         "to see which one is missing"),
    ),
    "AADSTS7002138": (
        "a federated credential matches the subject only when case is ignored; matching is case-sensitive",
        ("recreate the credential with the exact case GitHub uses for the organisation, repository and "
         "environment (`mlops doctor` shows both spellings)"),
    ),
    "AADSTS700024": (
        "the client assertion (the GitHub ID token) expired before Entra ID received it",
        ("long jobs must not log in once with the Azure CLI (Azure/login#372): the toolkit's "
         "`get_credential()` fetches a fresh GitHub ID token for every Azure token, use it"),
    ),
    "AADSTS700016": (
        "the application (client) ID was not found in the tenant",
        ("check the AZURE_CLIENT_ID and AZURE_TENANT_ID secrets: they must be the app registration's "
         "Application ID and the tenant ID that holds it"),
    ),
    "AADSTS90002": (
        "the tenant was not found",
        "check the AZURE_TENANT_ID secret (and AZURE_AUTHORITY_HOST for a sovereign cloud)",
    ),
    "AADSTS7000215": (
        "the client secret is wrong",
        "on a laptop, copy the secret value (not its ID) into .env; in GitHub Actions use OIDC, no secret",
    ),
    "AADSTS7000222": (
        "the client secret has expired",
        "create a new secret for local use, or log in with `az login` instead",
    ),
}

NO_SUBSCRIPTION = (
    "the login worked but the app has no role on any subscription",
    "assign the role on the workspace (`mlops bootstrap-oidc` prints the `az role assignment create`)",
)

_CODE = re.compile(r"AADSTS\d+")


def codes_in(text: str) -> list[str]:
    """The distinct AADSTS codes mentioned in ``text``, in order of appearance."""
    return list(dict.fromkeys(_CODE.findall(text)))


def explain(text: str) -> list[str]:
    """One line per known failure mentioned in ``text``: ``CODE: meaning: what to do``."""
    lines = [f"{code}: {EXPLANATIONS[code][0]}: {EXPLANATIONS[code][1]}"
             for code in codes_in(text) if code in EXPLANATIONS]
    if "No subscriptions found" in text:
        lines.append(f"No subscriptions found: {NO_SUBSCRIPTION[0]}: {NO_SUBSCRIPTION[1]}")
    return lines
