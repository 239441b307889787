"""Turn Azure's errors into one line that says what is wrong and what to do.

Quota errors name the quota (the VM family, the region, usage against the limit) because the fix
is a quota request or a smaller size; an endpoint name held by another workspace in the region gets
a name to use instead, replacing the original workflow's hand-bumped digit.
"""

from __future__ import annotations

import re

from mlops.errors import MlopsError

QUOTA = re.compile(r"quota|exceed(s|ed|ing)? .*limit|OutOfQuota|NotEnoughCores", re.IGNORECASE)
FAMILY = re.compile(r"\b(standard\w*Family|Standard_[A-Za-z0-9_]+)\b", re.IGNORECASE)
USAGE = re.compile(r"(?:usage/limit|usage:? ?/ ?limit)\D*(\d+)\s*/\s*(\d+)", re.IGNORECASE)
NEEDED = re.compile(r"additional (?:needed|required)\D*(\d+)", re.IGNORECASE)
NAME_TAKEN = re.compile(r"unique (with)?in (a|the) region|already (exists|in use|taken)|NameNotAvailable|"
                        r"EndpointNameConflict", re.IGNORECASE)
SUBSCRIPTION = re.compile(r"(/subscriptions/|SubscriptionId )[0-9a-fA-F-]{36}", re.IGNORECASE)  # ids, quota texts
COMPUTE_ROLE = "AzureML Compute Operator"
WORKSPACE_ROLE = "AzureML Data Scientist"


class QuotaError(MlopsError):
    """Azure refused for lack of quota; the message names the quota, the region and the way out."""


def message_of(error: BaseException) -> str:
    """The service's own message on one line: ``(code) message`` when Azure sent a structured error.

    A resource id (or a quota error) in it shows the subscription id, which is replaced by ``***`` (logs and
    summaries are read by everyone with access to the repository).
    """
    odata = getattr(error, "error", None)
    if getattr(odata, "message", None):
        text = f"({odata.code}) {odata.message}"
    else:
        text = getattr(error, "message", None) or str(error)
    return SUBSCRIPTION.sub(r"\1***", " ".join(str(text).split()))


def is_forbidden(error: BaseException) -> bool:
    """Azure refused because the identity lacks a role (403)."""
    return getattr(error, "status_code", None) == 403


def is_quota_error(error: BaseException) -> bool:
    """Azure refused because a subscription quota would be exceeded."""
    return bool(QUOTA.search(message_of(error)))


def quota_error(error: BaseException, what: str, region: str, size_hint: str) -> QuotaError:
    """Name the quota, the region and the numbers when Azure gave them, and the two ways out."""
    text = message_of(error)
    family = FAMILY.search(text)
    quota = family.group(1) if family else f"the vCPU quota of {size_hint}"
    numbers = ""
    if usage := USAGE.search(text):
        numbers += f" (in use {usage.group(1)} of {usage.group(2)} vCPUs"
        numbers += f", {needed.group(1)} more needed)" if (needed := NEEDED.search(text)) else ")"
    return QuotaError(
        f"{what}: not enough quota: {quota} in {region}{numbers}. Request more under Subscription > "
        f"Usage + quotas, or choose a smaller size or count in azure-compute-config.json "
        f"(deployments reserve about 20% extra for upgrades). Azure said: {text[:300]}")


def is_name_taken(error: BaseException) -> bool:
    """Another workspace in the region already holds the endpoint name.

    Only Azure's wording says so: a 409 also means "another operation on this endpoint is in
    progress", which is retried instead (``mlops.azureml.retry``).
    """
    return getattr(error, "status_code", None) in (400, 409) and bool(NAME_TAKEN.search(message_of(error)))


def explain_refusal(error: BaseException) -> MlopsError | None:
    """An expected refusal from Azure or azure-ai-ml as one line with the fix; ``None`` for anything else.

    A 403 means a missing role, a 400 a field Azure will not take, a ``ValidationException`` an entity
    the SDK refuses before sending it: none of them is a bug to report.
    """
    from azure.ai.ml.exceptions import ValidationException
    from azure.core.exceptions import HttpResponseError

    if isinstance(error, ValidationException):
        return MlopsError(f"azure-ai-ml refused the request before sending it: {message_of(error)[:400]} "
                          "(`mlops plan` writes what is sent to build/azureml/)")
    if not isinstance(error, HttpResponseError):
        return None
    status = error.status_code
    if status == 403:
        return MlopsError(
            f"Azure refused it (403): {message_of(error)[:300]}. The identity that logged in needs the "
            f"{WORKSPACE_ROLE} role on the workspace (`mlops bootstrap-oidc` assigns it; creating or changing "
            f"the cluster also needs {COMPUTE_ROLE}, `--compute-operator`); check the login with `mlops doctor`")
    if status == 404 and "workspace" in message_of(error).lower():
        return MlopsError(f"Azure has no such workspace (404): {message_of(error)[:300]}: check workspace_name "
                          "and resource_group in azure-config.json and the subscription")
    if status == 400:
        return MlopsError(f"Azure refused the request (400): {message_of(error)[:400]}: fix the value it names in "
                          "the experiment file or azure-*config.json (`mlops plan` shows what is sent)")
    return None
