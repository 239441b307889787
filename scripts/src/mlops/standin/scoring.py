"""Scoring URIs (``https://<endpoint>.<region>.inference.ml.azure.com/score``) with the endpoint's traffic rules.

A request needs the endpoint's key as a bearer token. The ``azureml-model-deployment`` header
sends it to that deployment (whatever its traffic, as in Azure); otherwise a deployment is drawn
by the traffic weights, and a mirror copy goes to the mirrored deployment in the background.
The answer is the deployment's own (status, body), with the deployment named in a response header.
"""

from __future__ import annotations

import contextlib
import random
import threading

import httpx
from starlette.requests import Request
from starlette.responses import Response

from mlops.standin.context import Context
from mlops.standin.deployrunner import DeploymentRunner
from mlops.standin.routing import Router, json_response

DEPLOYMENT_HEADER = "azureml-model-deployment"
TIMEOUT = 60.0


class Scoring:
    """Routes requests to deployments' servers."""

    def __init__(self, ctx: Context, runner: DeploymentRunner):
        self.ctx, self.runner = ctx, runner

    def add_routes(self, router: Router) -> None:
        """Every path on a scoring host."""
        router.add("*", r"/.*", self.score)

    def _endpoint(self, host: str) -> dict | None:
        name = host.split(".")[0]
        for rid, resource in self.ctx.store.items("resources"):
            if rid.endswith(f"/onlineendpoints/{name.lower()}") and resource.get("type", "").endswith(
                    "onlineEndpoints"):
                return resource
        return None

    async def score(self, request: Request) -> Response:
        endpoint = self._endpoint((request.headers.get("host") or "").split(":")[0])
        if endpoint is None:
            return json_response({"message": "Endpoint not found."}, 404)
        keys = endpoint["keys"].values()
        if request.headers.get("authorization", "").removeprefix("Bearer ") not in keys:
            return json_response({"message": "Authentication failed: a valid endpoint key is required."}, 401)
        properties = endpoint["properties"]
        wanted = request.headers.get(DEPLOYMENT_HEADER)
        if wanted:
            name = wanted
        else:
            weights = {k: int(v) for k, v in properties.get("traffic", {}).items() if int(v)}
            if not weights:
                return json_response({"message": "No valid deployments to route to. Please check that the endpoint "
                                      "has at least one deployment with positive weight values or use a deployment "
                                      "specific header to route."}, 424)
            name = random.choices(list(weights), list(weights.values()))[0]
        deployment_id = f"{endpoint['id']}/deployments/{name}"
        served = self.runner.address(deployment_id)
        if served is None:
            return json_response({"message": f"Deployment {name} not found or not ready."}, 404)
        body = await request.body()
        if served.answers_500:
            return Response(b'{"message": "An unexpected error occurred in scoring script. Check the logs for more '
                            b'info."}', 500, {DEPLOYMENT_HEADER: name}, media_type="application/json")
        if not wanted:
            self._mirror(endpoint, request, body)
        headers = {"content-type": request.headers.get("content-type", "application/json")}
        async with httpx.AsyncClient(timeout=TIMEOUT, trust_env=False) as client:
            try:
                answer = await client.request(request.method, served.server.base_url + request.url.path,
                                              content=body, headers=headers, params=request.query_params)
            except httpx.TransportError as error:
                return json_response({"message": f"Upstream request failed: {error}"}, 502)
        return Response(answer.content, answer.status_code,
                        {DEPLOYMENT_HEADER: name, "content-type": answer.headers.get("content-type", "text/plain")})

    def _mirror(self, endpoint: dict, request: Request, body: bytes) -> None:
        for name, share in (endpoint["properties"].get("mirrorTraffic") or {}).items():
            if int(share) and random.uniform(0, 100) < int(share):
                served = self.runner.address(f"{endpoint['id']}/deployments/{name}")
                if served is not None:
                    url = served.server.base_url + request.url.path
                    threading.Thread(target=_send_copy, args=(url, body), daemon=True).start()


def _send_copy(url: str, body: bytes) -> None:
    # a mirror copy's answer is never seen by the caller, nor its failure
    with contextlib.suppress(httpx.TransportError):
        httpx.post(url, content=body, headers={"content-type": "application/json"}, timeout=TIMEOUT, trust_env=False)


