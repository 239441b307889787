"""The stand-in's ASGI application: one server answering for every Azure host by its ``Host`` header.

Each request is routed to the login, management (ARM), storage, run-history or scoring routes,
checked against the armed faults that act on whole requests (throttling, a killed caller), and
recorded in the request log. A handler may answer :data:`DROP`: the connection is then closed with
no answer at all, which is how a response gets lost.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from mlops.standin.identity import Identity
from mlops.standin.injection import Faults
from mlops.standin.requestlog import LoggedRequest, RequestLog
from mlops.standin.routing import HttpError, Router, arm_error, json_response

LOG = logging.getLogger("mlops.standin")


class Drop(Response):
    """Close the connection without answering (a lost response, a caller that died)."""

    def __init__(self, fault: str):
        super().__init__(status_code=599)
        self.fault = fault


@dataclass
class HostRoutes:
    """Which router serves a host, and whether its requests need the stand-in's bearer token."""

    match: Callable[[str], bool]
    router: Router
    kind: str
    needs_token: Callable[[str], bool] = lambda path: False


@dataclass
class StandInApp:
    """Dispatches by host; logs every request; applies the request-level faults."""

    hosts: list[HostRoutes]
    log: RequestLog
    faults: Faults
    control: Router
    identity: Identity
    killed: threading.Event = field(default_factory=threading.Event)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        host = (request.headers.get("host") or "").split(":")[0].lower()
        routes = next((h for h in self.hosts if h.match(host)), None)
        fault = ""
        try:
            if routes is None:
                response = await self.control.dispatch(request)
            else:
                if routes.needs_token(request.url.path):
                    self.identity.verify(request.headers.get("authorization"))
                response = self._request_fault(routes.kind, request)
                if response is None:
                    response = await routes.router.dispatch(request)
        except HttpError as error:
            response = arm_error(error.status, error.code, error.message, error.headers)
        except Exception as error:  # a stand-in bug must show as a 500 with its reason, never hang the client
            LOG.error("stand-in error on %s %s\n%s", request.method, request.url.path, traceback.format_exc())
            response = arm_error(500, "StandInError", f"{type(error).__name__}: {error}")
        fault = getattr(response, "fault", "")
        if routes is not None:  # the control routes are the stand-in's own, not Azure's: not logged
            self.log.add(LoggedRequest(request.method, host, request.url.path,
                                       request.query_params.get("api-version", ""), response.status_code, fault))
        if isinstance(response, Drop):
            transport = getattr(getattr(send, "__self__", None), "transport", None)
            if transport is not None:
                transport.abort()
                return
            response = arm_error(502, "ConnectionDropped", "the stand-in dropped this answer")
        await response(scope, receive, send)

    def _request_fault(self, kind: str, request: Request) -> Response | None:
        if kind != "arm":
            return None
        if self.killed.is_set():
            if self.faults.armed("killed-mid-rollout") is None:
                self.killed.clear()
            else:
                return Drop("killed-mid-rollout")
        throttle = self.faults.take("throttle")
        if throttle is not None:
            status = int(throttle.params.get("status", 429))
            seconds = int(throttle.params.get("retry_after", 1))
            headers = {"Retry-After": str(seconds), "retry-after-ms": str(int(throttle.params.get("retry_after_ms",
                                                                                                     100)))}
            code = "TooManyRequests" if status == 429 else "ServiceUnavailable"
            response = arm_error(status, code, f"The request was throttled (injected fault: throttle {status}); "
                                 f"retry after {seconds} s.", headers)
            response.fault = "throttle"
            return response
        return None


def not_found(request: Request) -> Response:
    """What Azure answers for a path it does not know; named so a missing stand-in route is obvious."""
    return json_response({"error": {"code": "NoRegisteredProviderFound" if "/providers/" in request.url.path
                                    else "NotFound",
                                    "message": f"the stand-in does not serve {request.method} {request.url.path}"}},
                         404)
