"""A small router for the stand-in's ASGI apps: routes are (method, path pattern, handler).

Azure's paths are long and case-insensitive (``resourceGroups`` and ``resourcegroups`` both occur),
so patterns are regular expressions matched case-insensitively against the decoded path; named
groups reach the handler as ``request.path_params``.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

Handler = Callable[[Request], Response | Awaitable[Response]]


class HttpError(Exception):
    """An answer other than success, raised from deep inside a handler."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class Router:
    """Routes in the order added; the first whose method and pattern match wins."""

    def __init__(self, not_found: Callable[[Request], Response]):
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.not_found = not_found

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        """Serve ``method`` (or ``*``) on paths fully matching ``pattern``."""
        self.routes.append((method, re.compile(pattern, re.IGNORECASE), handler))

    async def dispatch(self, request: Request) -> Response:
        """Call the matching handler (sync or async) and return its response."""
        path = request.url.path
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(path)
            if match and method in ("*", request.method):
                request.scope["path_params"] = match.groupdict()
                answer = handler(request)
                return await answer if inspect.isawaitable(answer) else answer
        return self.not_found(request)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer as Azure sends it."""
    return Response(json.dumps(body), status, headers=headers, media_type="application/json")


def arm_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """Azure Resource Manager's error shape: ``{"error": {"code", "message"}}``."""
    return json_response({"error": {"code": code, "message": message}}, status, headers)
