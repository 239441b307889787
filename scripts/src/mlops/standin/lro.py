"""Long-running operations as ARM runs them: 201/202 with ``Azure-AsyncOperation``, then polls.

An operation is a record in the store (``operations`` section) whose status the runner of the
resource moves to Succeeded or Failed. The SDK polls the status URL until it is terminal, waiting
what ``retry-after-ms`` says (short: the stand-in's operations take seconds), then GETs the resource.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mlops.standin.context import ARM_HOST, PROVIDER, Context, now_iso
from mlops.standin.routing import Router, arm_error, json_response

POLL_MS = "200"
TERMINAL = {"Succeeded", "Failed", "Canceled"}


def start_operation(ctx: Context, resource_id: str, kind: str) -> str:
    """Record an in-progress operation on ``resource_id``; return its id."""
    operation = str(uuid.uuid4())
    ctx.store.put("operations", operation, {"id": operation, "resource": resource_id, "kind": kind,
                                            "status": "InProgress", "startTime": now_iso()})
    return operation


def finish_operation(ctx: Context, operation: str, status: str, error: dict | None = None) -> None:
    """Move an operation to a terminal status (with Azure's error block when it failed)."""
    record = ctx.store.get("operations", operation)
    if record is None or record["status"] in TERMINAL:
        return
    record.update(status=status, endTime=now_iso())
    if error:
        record["error"] = error
    ctx.store.put("operations", operation, record)


def in_flight(ctx: Context, resource_prefix: str) -> dict | None:
    """An unfinished operation on a resource at or under ``resource_prefix``."""
    prefix = resource_prefix.lower()
    for _, record in ctx.store.items("operations"):
        if record["status"] not in TERMINAL and record["resource"].lower().startswith(prefix):
            return record
    return None


def accepted(ctx: Context, request: Request, operation: str, body: Any | None, status: int = 201) -> Response:
    """The answer that starts an LRO: the resource (if any) plus the polling headers."""
    version = request.query_params.get("api-version", "")
    base = f"{ARM_HOST}/subscriptions/{ctx.subscription_id}/providers/{PROVIDER}/locations/{ctx.location}"
    headers = {"Azure-AsyncOperation": f"{base}/mfeOperationsStatus/{operation}?api-version={version}",
               "Location": f"{base}/mfeOperationResults/{operation}?api-version={version}",
               "retry-after-ms": POLL_MS, "Retry-After": "1"}
    if body is None:
        return Response(status_code=status, headers=headers)
    return json_response(body, status, headers)


def add_operation_routes(ctx: Context, router: Router) -> None:
    """The status and result URLs the SDK polls."""
    prefix = rf"/subscriptions/[^/]+/providers/{PROVIDER}/locations/[^/]+"

    def status(request: Request) -> Response:
        record = ctx.store.get("operations", request.path_params["operation"])
        if record is None:
            return arm_error(404, "NotFound", "no such operation")
        body = {"id": record["id"], "name": record["id"], "status": record["status"],
                "startTime": record["startTime"], **({"endTime": record["endTime"]} if "endTime" in record else {}),
                **({"error": record["error"]} if "error" in record else {})}
        headers = {} if record["status"] in TERMINAL else {"retry-after-ms": POLL_MS}
        return json_response(body, 200, headers)

    def result(request: Request) -> Response:
        record = ctx.store.get("operations", request.path_params["operation"])
        if record is None:
            return arm_error(404, "NotFound", "no such operation")
        if record["status"] not in TERMINAL:
            return Response(status_code=202, headers={"retry-after-ms": POLL_MS,
                                                      "Location": str(request.url)})
        return Response(status_code=204) if record["status"] == "Succeeded" else \
            json_response({"error": record.get("error", {})}, 400)

    router.add("GET", prefix + r"/mfeOperationsStatus/(?P<operation>[^/]+)", status)
    router.add("GET", prefix + r"/mfeOperationResults/(?P<operation>[^/]+)", result)
