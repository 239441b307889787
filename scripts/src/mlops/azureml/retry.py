"""Retry Azure calls that failed for a passing reason (throttling, a busy or restarting service).

azure-core already retries single HTTP requests; this covers what it cannot: a long-running
operation whose poller fails with 429/503, or a throttled call after azure-core gave up. A call is
retried blindly only when it is idempotent (PUT-style create_or_update, delete, get, invoke of a test
request); one that is not (submitting a job) passes ``recover``, which looks for what the failed
attempt may have created before anything is sent again.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
TRANSIENT_STATUS = {408, 429, 502, 503, 504}
# A 409 that says another operation on the resource is still running: it passes when that one ends.
IN_FLIGHT = re.compile(r"in progress|ongoing|another operation|conflicting operation|"
                       r"being (created|updated|deleted)", re.IGNORECASE)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry; tests pass a tiny ``base_seconds``."""

    attempts: int = 6
    base_seconds: float = 2.0
    max_seconds: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def delay(self, attempt: int, error: BaseException) -> float:
        """Exponential backoff, or the service's Retry-After when it asks for longer."""
        wait = min(self.max_seconds, self.base_seconds * 2 ** attempt)
        headers = getattr(getattr(error, "response", None), "headers", None) or {}
        try:
            asked = float(headers.get("Retry-After", 0))
        except (TypeError, ValueError):
            asked = 0.0
        return min(self.max_seconds, max(wait, asked))


DEFAULT_POLICY = RetryPolicy()


def is_transient(error: BaseException) -> bool:
    """A throttling or availability status, a conflict with an operation in flight, or a dropped connection."""
    from azure.core.exceptions import ServiceRequestError, ServiceResponseError

    if isinstance(error, (ServiceRequestError, ServiceResponseError)):
        return True
    status = getattr(error, "status_code", None)
    return status in TRANSIENT_STATUS or (status == 409 and bool(IN_FLIGHT.search(str(error))))


def call(policy: RetryPolicy, what: str, function: Callable[..., T], *args: Any, log=print,
         recover: Callable[[], T | None] | None = None, **kwargs: Any) -> T:
    """``function(*args, **kwargs)``, retried on transient errors; ``what`` names it in the log.

    After any failure, ``recover()`` (when given) may return what the call would have: the answer was
    lost but the service did the work, so it is not done twice.
    """
    for attempt in range(policy.attempts):
        try:
            return function(*args, **kwargs)
        except Exception as error:
            if recover is not None and (found := recover()) is not None:
                log(f"  {what}: the answer was lost ({type(error).__name__}), but Azure did it: carrying on")
                return found
            if not is_transient(error) or attempt == policy.attempts - 1:
                raise
            wait = policy.delay(attempt, error)
            status = getattr(error, "status_code", None) or type(error).__name__
            log(f"  {what}: Azure answered {status} (busy); retrying in {wait:.1f} s "
                f"({attempt + 1}/{policy.attempts - 1})")
            policy.sleep(wait)
    raise AssertionError("unreachable")


def find(policy: RetryPolicy, what: str, function: Callable[..., T], *args: Any, log=print, **kwargs: Any) -> T | None:
    """Like :func:`call`, but ``None`` when Azure says the resource does not exist."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return call(policy, what, function, *args, log=log, **kwargs)
    except ResourceNotFoundError:
        return None
