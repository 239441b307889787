"""Online endpoints and deployments: ARM routes with their long-running operations, keys and logs.

Rules Azure enforces and the stand-in keeps: traffic names existing deployments that succeeded and
adds up to 0 or 100; a mirror goes to one deployment without live traffic, at most 50%; a
deployment with traffic cannot be deleted; a change to an endpoint or deployment while an operation
on it runs is a 409. Faults: quota-exceeded (create), conflict-in-flight (any change),
killed-mid-rollout (the first change that gives a deployment traffic).
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

import mlops.standin.lro as lro
from mlops.standin.app import Drop
from mlops.standin.arm import WS, Arm, quota_refusal, read_json, resource_id, stored_or_404, workspace_of
from mlops.standin.context import PROVIDER, Context, system_data
from mlops.standin.deployrunner import DeploymentRunner
from mlops.standin.routing import HttpError, Router, arm_error, json_response

ENDPOINT = WS + r"/onlineEndpoints/(?P<endpoint>[^/]+)"
DEPLOYMENT = ENDPOINT + r"/deployments/(?P<deployment>[^/]+)"
MAX_MIRROR = 50


def endpoint_id(request: Request) -> str:
    """The ARM id of the request's endpoint."""
    return f"{workspace_of_request(request)}/onlineEndpoints/{request.path_params['endpoint']}"


def workspace_of_request(request: Request) -> str:
    p = request.path_params
    return f"/subscriptions/{p['sub']}/resourceGroups/{p['rg']}/providers/{PROVIDER}/workspaces/{p['ws']}"


class Endpoints:
    """Routes of online endpoints and their deployments."""

    def __init__(self, ctx: Context, arm: Arm, runner: DeploymentRunner):
        self.ctx, self.arm, self.runner = ctx, arm, runner

    def add_routes(self, router: Router) -> None:
        """Register the endpoint and deployment routes."""
        r = router.add
        r("GET", WS + r"/onlineEndpoints", self.list_endpoints)
        r("GET", ENDPOINT, self.get_endpoint)
        r("PUT", ENDPOINT, self.put_endpoint)
        r("DELETE", ENDPOINT, self.delete_endpoint)
        r("POST", ENDPOINT + r"/listKeys", self.list_keys)
        r("GET", ENDPOINT + r"/deployments", self.list_deployments)
        r("GET", DEPLOYMENT, self.get_deployment)
        r("PUT", DEPLOYMENT, self.put_deployment)
        r("DELETE", DEPLOYMENT, self.delete_deployment)
        r("POST", DEPLOYMENT + r"/getLogs", self.get_logs)

    # -- shared checks --

    def _before_change(self, rid: str, what: str) -> Response | None:
        """A 409 when an operation runs on ``rid`` (or the conflict fault fires); else None."""
        running = lro.in_flight(self.ctx, rid)
        fault = self.ctx.faults.take("conflict-in-flight")
        if running is None and fault is None:
            return None
        response = arm_error(409, "Conflict", f"There is an operation in progress on {what} "
                             f"{rid.rsplit('/', 1)[-1]}: wait for it to finish, then try again."
                             + (" (injected fault conflict-in-flight)" if running is None else ""))
        if running is None:
            response.fault = "conflict-in-flight"
        return response

    # -- endpoints --

    def list_endpoints(self, request: Request) -> Response:
        wid = workspace_of(self.ctx, request)
        return json_response({"value": [self._public(e) for e in
                                        self.ctx.store.children("resources", f"{wid}/onlineEndpoints")]})

    def get_endpoint(self, request: Request) -> Response:
        return json_response(self._public(stored_or_404(self.ctx, resource_id(request), "Endpoint")))

    @staticmethod
    def _public(endpoint: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in endpoint.items() if k != "keys"}

    async def put_endpoint(self, request: Request) -> Response:
        self.arm.ensure_workspace(request)
        rid, name = resource_id(request), request.path_params["endpoint"]
        body = read_json(await request.body())
        existing = self.ctx.store.get("resources", rid)
        refused = self._before_change(rid, "endpoint")
        if refused is not None:
            return refused
        if existing is None and self.ctx.faults.take("quota-exceeded") is not None:
            return quota_refusal(self.ctx, body, "endpoint")
        properties = body.get("properties") or {}
        traffic = {k: int(v) for k, v in (properties.get("traffic") or {}).items()}
        mirror = {k: int(v) for k, v in (properties.get("mirrorTraffic") or {}).items()}
        self._check_traffic(rid, traffic, mirror)
        host = f"{name}.{self.ctx.location}.inference.ml.azure.com"
        keys = (existing or {}).get("keys") or {"primaryKey": secrets.token_urlsafe(24),
                                                "secondaryKey": secrets.token_urlsafe(24)}
        endpoint = {
            "id": rid, "name": name, "type": f"{PROVIDER}/workspaces/onlineEndpoints",
            "location": body.get("location") or self.ctx.location, "kind": body.get("kind") or "Managed",
            "tags": body.get("tags") or {}, "systemData": system_data(existing), "keys": keys,
            "identity": (existing or {}).get("identity") or {"type": "SystemAssigned", "principalId": str(uuid.uuid4()),
                                                            "tenantId": self.ctx.identity.tenant_id},
            "properties": {**properties, "authMode": properties.get("authMode") or "Key", "traffic": traffic,
                           "mirrorTraffic": mirror, "scoringUri": f"https://{host}/score",
                           "swaggerUri": f"https://{host}/swagger.json", "provisioningState": "Succeeded",
                           "publicNetworkAccess": properties.get("publicNetworkAccess") or "Enabled"}}
        operation = lro.start_operation(self.ctx, rid, "endpoint")
        self.ctx.store.put("resources", rid, endpoint)
        lro.finish_operation(self.ctx, operation, "Succeeded")
        if self._gives_new_traffic(existing, traffic, mirror) and self.ctx.faults.fire("killed-mid-rollout"):
            self.ctx.caller_killed.set()
            return Drop("killed-mid-rollout")
        shown = {**self._public(endpoint), "properties": {**endpoint["properties"],
                                                          "provisioningState": "Creating" if existing is None
                                                          else "Updating"}}
        return lro.accepted(self.ctx, request, operation, shown, 200 if existing else 201)

    @staticmethod
    def _gives_new_traffic(existing: dict | None, traffic: dict[str, int], mirror: dict[str, int]) -> bool:
        before = (existing or {}).get("properties", {})
        old = {k for k, v in {**before.get("traffic", {}), **before.get("mirrorTraffic", {})}.items() if int(v)}
        return any(v and k not in old for k, v in {**traffic, **mirror}.items())

    def _check_traffic(self, rid: str, traffic: dict[str, int], mirror: dict[str, int]) -> None:
        for name, share in {**traffic, **mirror}.items():
            if share < 0 or share > 100:
                raise HttpError(400, "BadArgument", f"Traffic for deployment {name} must be between 0 and 100.")
            if not share:
                continue
            deployment = self.ctx.store.get("resources", f"{rid}/deployments/{name}")
            if deployment is None:
                raise HttpError(400, "BadArgument", f"Deployment {name} does not exist on the endpoint: traffic "
                                "can only go to existing deployments.")
            state = deployment["properties"].get("provisioningState")
            if state != "Succeeded":
                raise HttpError(400, "BadArgument", f"Deployment {name} is {state}: traffic can only go to a "
                                "deployment that succeeded.")
        if sum(traffic.values()) not in (0, 100):
            raise HttpError(400, "BadArgument", f"The traffic values add up to {sum(traffic.values())}: they must "
                            "add up to 100 (or 0 when no deployment takes traffic).")
        if len([v for v in mirror.values() if v]) > 1 or any(v > MAX_MIRROR for v in mirror.values()):
            raise HttpError(400, "BadArgument", f"Mirror traffic can go to one deployment, at most {MAX_MIRROR}%.")
        if any(v and traffic.get(k) for k, v in mirror.items()):
            raise HttpError(400, "BadArgument", "A deployment that takes live traffic cannot also receive mirror "
                            "traffic.")

    def delete_endpoint(self, request: Request) -> Response:
        rid = resource_id(request)
        stored_or_404(self.ctx, rid, "Endpoint")
        refused = self._before_change(rid, "endpoint")
        if refused is not None:
            return refused
        operation = lro.start_operation(self.ctx, rid, "endpoint-delete")
        for deployment in self.ctx.store.children("resources", f"{rid}/deployments"):
            self.runner.stop_server(deployment["id"])
            self.ctx.store.delete("resources", deployment["id"])
        self.ctx.store.delete("resources", rid)
        lro.finish_operation(self.ctx, operation, "Succeeded")
        return lro.accepted(self.ctx, request, operation, None, 202)

    def list_keys(self, request: Request) -> Response:
        endpoint = stored_or_404(self.ctx, endpoint_id(request), "Endpoint")
        return json_response(endpoint["keys"])

    # -- deployments --

    def list_deployments(self, request: Request) -> Response:
        stored_or_404(self.ctx, endpoint_id(request), "Endpoint")
        return json_response({"value": self.ctx.store.children("resources", f"{endpoint_id(request)}/deployments")})

    def get_deployment(self, request: Request) -> Response:
        return json_response(stored_or_404(self.ctx, resource_id(request), "Deployment"))

    async def put_deployment(self, request: Request) -> Response:
        rid = resource_id(request)
        stored_or_404(self.ctx, endpoint_id(request), "Endpoint")
        body = read_json(await request.body())
        existing = self.ctx.store.get("resources", rid)
        refused = self._before_change(rid, "deployment")
        if refused is not None:
            return refused
        if existing is None and self.ctx.faults.take("quota-exceeded") is not None:
            return quota_refusal(self.ctx, body, "deployment")
        properties = body.get("properties") or {}
        self._check_references(workspace_of(self.ctx, request), properties)
        properties.setdefault("scaleSettings", {"scaleType": "Default"})
        properties.setdefault("endpointComputeType", "Managed")
        properties["provisioningState"] = "Creating" if existing is None else "Updating"
        deployment = {"id": rid, "name": request.path_params["deployment"],
                      "type": f"{PROVIDER}/workspaces/onlineEndpoints/deployments",
                      "location": body.get("location") or self.ctx.location, "kind": body.get("kind") or "Managed",
                      "sku": body.get("sku") or {"name": "Default", "capacity": 1}, "tags": body.get("tags") or {},
                      "systemData": system_data(existing), "properties": properties}
        self.ctx.store.put("resources", rid, deployment)
        operation = lro.start_operation(self.ctx, rid, "deployment")
        self.runner.provision(rid, operation)
        return lro.accepted(self.ctx, request, operation, deployment, 200 if existing else 201)

    def _check_references(self, wid: str, properties: dict[str, Any]) -> None:
        references = {"Model": properties.get("model"), "Environment": properties.get("environmentId"),
                      "Code": (properties.get("codeConfiguration") or {}).get("codeId")}
        for what, reference in references.items():
            if reference and reference.startswith("/") and self.ctx.store.get("resources", reference) is None:
                raise HttpError(400, "UserError", f"{what} {reference.rsplit('/', 3)[-3]} version "
                                f"{reference.rsplit('/', 1)[-1]} was not found in the workspace.")

    def delete_deployment(self, request: Request) -> Response:
        rid = resource_id(request)
        stored_or_404(self.ctx, rid, "Deployment")
        refused = self._before_change(rid, "deployment")
        if refused is not None:
            return refused
        endpoint = self.ctx.store.get("resources", endpoint_id(request))
        name = request.path_params["deployment"]
        shares = {**endpoint["properties"].get("traffic", {}), **endpoint["properties"].get("mirrorTraffic", {})}
        if int(shares.get(name, 0)):
            return arm_error(400, "BadArgument", f"Deployment {name} has {shares[name]}% of the endpoint's traffic: "
                             "set its traffic to 0 before deleting it.")
        operation = lro.start_operation(self.ctx, rid, "deployment-delete")
        self.runner.stop_server(rid)
        self.ctx.store.delete("resources", rid)
        lro.finish_operation(self.ctx, operation, "Succeeded")
        return lro.accepted(self.ctx, request, operation, None, 202)

    async def get_logs(self, request: Request) -> Response:
        rid = resource_id(request).rsplit("/getLogs", 1)[0]
        stored_or_404(self.ctx, rid, "Deployment")
        body = read_json(await request.body())
        return json_response({"content": self.runner.logs(rid, int(body.get("tail") or 100))})
