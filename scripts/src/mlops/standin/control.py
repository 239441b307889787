"""The stand-in's own routes, on its proxy port (plain HTTP, 127.0.0.1): faults and the request log.

``GET /_standin`` what a client needs (no secret); ``GET /_standin/requests`` the request log;
``GET /_standin/faults`` the faults and which are armed; ``POST /_standin/faults`` with
``{"fault": "throttle:times=3"}`` arms one; ``DELETE /_standin/faults`` disarms all.
"""

from __future__ import annotations

from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import Response

from mlops.errors import MlopsError
from mlops.standin.context import Context
from mlops.standin.injection import FAULTS
from mlops.standin.routing import Router, json_response


def add_control_routes(ctx: Context, router: Router) -> None:
    """Register the control routes."""

    def about(request: Request) -> Response:
        return json_response({"subscription_id": ctx.subscription_id, "tenant_id": ctx.identity.tenant_id,
                              "client_id": ctx.identity.client_id, "location": ctx.location,
                              "state": str(ctx.state_dir)})

    def requests(request: Request) -> Response:
        return json_response([asdict(entry) for entry in ctx.log.read()])

    def faults(request: Request) -> Response:
        return json_response({"known": FAULTS, "armed": ctx.faults.describe(), "fired": ctx.faults.fired,
                              "caller_killed": ctx.caller_killed.is_set()})

    async def arm(request: Request) -> Response:
        body = await request.json()
        try:
            fault = ctx.faults.inject(str(body.get("fault", "")))
        except MlopsError as error:
            return json_response({"error": str(error)}, 400)
        return json_response({"armed": asdict(fault)}, 201)

    def disarm(request: Request) -> Response:
        ctx.faults.clear(request.query_params.get("name"))
        return Response(status_code=204)

    router.add("GET", r"/_standin", about)
    router.add("GET", r"/_standin/requests", requests)
    router.add("GET", r"/_standin/faults", faults)
    router.add("POST", r"/_standin/faults", arm)
    router.add("DELETE", r"/_standin/faults", disarm)
