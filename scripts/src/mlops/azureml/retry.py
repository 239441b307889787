"""Retry Azure calls that failed for a passing reason (throttling, a busy or restarting service).

azure-core already retries single HTTP requests; this covers what it cannot: a long-running
operation whose poller fails with 429/503, or a throttled call after azure-core gave up. Every call
retried here is idempotent (PUT-style create_or_update, delete, get, invoke of a test request).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
TRANSIENT_STATUS = {408, 429, 502, 503, 504}


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
    """A throttling or availability status, or a connection that dropped."""
    from azure.core.exceptions import ServiceRequestError, ServiceResponseError

    if isinstance(error, (ServiceRequestError, ServiceResponseError)):
        return True
    return getattr(error, "status_code", None) in TRANSIENT_STATUS


def call(policy: RetryPolicy, what: str, function: Callable[..., T], *args: Any, log=print, **kwargs: Any) -> T:
    """``function(*args, **kwargs)``, retried on transient errors; ``what`` names it in the log."""
    for attempt in range(policy.attempts):
        try:
            return function(*args, **kwargs)
        except Exception as error:
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
