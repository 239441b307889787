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


class QuotaError(MlopsError):
    """Azure refused for lack of quota; the message names the quota, the region and the way out."""


def message_of(error: BaseException) -> str:
    """The service's own message on one line: ``(code) message`` when Azure sent a structured error."""
    odata = getattr(error, "error", None)
    if getattr(odata, "message", None):
        return " ".join(f"({odata.code}) {odata.message}".split())
    text = getattr(error, "message", None) or str(error)
    return " ".join(str(text).split())


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
    """Another workspace in the region already holds the endpoint name."""
    return getattr(error, "status_code", None) == 409 or bool(NAME_TAKEN.search(message_of(error)))
