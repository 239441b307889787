"""Azure Resource Manager routes of a workspace: the workspace itself, datastores, versioned assets, computes.

Workspaces come into being on first use (any subscription, group and name), in the stand-in's
region, with two datastores on the stand-in's storage account. Versioned assets (environments,
data, code, models) are stored as sent, with the fields Azure adds (id, systemData,
provisioningState); their containers (``latestVersion``, ``nextVersion``) are derived from the
versions. Jobs and online endpoints have modules of their own (:mod:`jobs`, :mod:`endpoints`).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.storage.blob import ContainerSasPermissions, generate_container_sas
from starlette.requests import Request
from starlette.responses import Response

import mlops.standin.lro as lro
from mlops.standin.blobs import blob_url
from mlops.standin.context import ARTIFACT_CONTAINER, PROVIDER, WORKSPACE_CONTAINER, Context, now_iso, system_data
from mlops.standin.routing import HttpError, Router, arm_error, json_response

WS = rf"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/{PROVIDER}/workspaces/(?P<ws>[^/]+)"
ASSETS = "environments|data|codes|models|components"
DATASTORES = {"workspaceblobstore": WORKSPACE_CONTAINER, "workspaceartifactstore": ARTIFACT_CONTAINER}


def workspace_of(ctx: Context, request: Request) -> str:
    """The ARM id of the workspace in the request's path (case as the client wrote it)."""
    p = request.path_params
    return ctx.workspace_id(p["sub"], p["rg"], p["ws"])


def resource_id(request: Request) -> str:
    """The ARM id the request addresses (its path, without any action suffix)."""
    return request.url.path


def read_json(raw: bytes) -> dict[str, Any]:
    """A request body as JSON; a body that is not a JSON object is Azure's 400."""
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise HttpError(400, "BadRequest", "The request content was invalid and could not be deserialized.") from None
    if not isinstance(body, dict):
        raise HttpError(400, "BadRequest", "The request content was invalid: expected a JSON object.")
    return body


def stored_or_404(ctx: Context, rid: str, what: str) -> dict[str, Any]:
    """The stored resource, else Azure's 404 for it."""
    found = ctx.store.get("resources", rid)
    if found is None:
        raise HttpError(404, "UserError" if "/versions/" in rid or "/jobs/" in rid else "ResourceNotFound",
                        f"{what} {rid.rsplit('/', 1)[-1]!r} not found in the workspace.")
    return found


def container_name(ctx: Context, workspace_id: str, container: str) -> str:
    """The blob container of a datastore: one per workspace, as Azure names them."""
    workspace = ctx.store.get("resources", workspace_id)
    suffix = workspace["properties"]["workspaceId"] if workspace else "0"
    return f"{container}-{suffix}" if container == WORKSPACE_CONTAINER else container


def container_sas(ctx: Context, container: str, hours: int = 2) -> str:
    """A real SAS token for a container, signed with the stand-in account's key."""
    return generate_container_sas(ctx.storage_account, container, account_key=ctx.storage_key,
                                  permission=ContainerSasPermissions(read=True, write=True, list=True, add=True,
                                                                     create=True),
                                  expiry=datetime.now(UTC) + timedelta(hours=hours))


class Arm:
    """The generic workspace routes."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def add_routes(self, router: Router) -> None:
        """Workspace, datastores, assets, computes."""
        r = router.add
        r("GET", WS, self.workspace)
        r("GET", WS + r"/datastores", self.list_datastores)
        r("GET", WS + r"/datastores/(?P<name>[^/]+)", self.datastore)
        r("POST", WS + r"/datastores/(?P<name>[^/]+)/listSecrets", self.datastore_secrets)
        r("GET", WS + rf"/(?P<kind>{ASSETS})", self.list_containers)
        r("GET", WS + rf"/(?P<kind>{ASSETS})/(?P<name>[^/]+)", self.asset_container)
        r("GET", WS + rf"/(?P<kind>{ASSETS})/(?P<name>[^/]+)/versions", self.list_versions)
        r("GET", WS + rf"/(?P<kind>{ASSETS})/(?P<name>[^/]+)/versions/(?P<version>[^/]+)", self.get_version)
        r("PUT", WS + rf"/(?P<kind>{ASSETS})/(?P<name>[^/]+)/versions/(?P<version>[^/]+)", self.put_version)
        r("POST", WS + rf"/(?P<kind>{ASSETS})/(?P<name>[^/]+)/versions/(?P<version>[^/]+)/startPendingUpload",
          self.start_pending_upload)
        r("GET", WS + r"/computes", self.list_computes)
        r("GET", WS + r"/computes/(?P<name>[^/]+)", self.get_compute)
        r("PUT", WS + r"/computes/(?P<name>[^/]+)", self.put_compute)

    # -- workspace and datastores --

    def ensure_workspace(self, request: Request) -> dict[str, Any]:
        """The workspace of the request's path, created on first use."""
        wid = workspace_of(self.ctx, request)
        workspace = self.ctx.store.get("resources", wid)
        if workspace is None:
            p = request.path_params
            location, host = self.ctx.location, self.ctx.history_host()
            workspace = {
                "id": wid, "name": p["ws"], "type": f"{PROVIDER}/workspaces", "location": location, "kind": "Default",
                "sku": {"name": "Basic", "tier": "Basic"}, "tags": {}, "systemData": system_data(),
                "identity": {"type": "SystemAssigned", "principalId": str(uuid.uuid4()),
                             "tenantId": self.ctx.identity.tenant_id},
                "properties": {
                    "friendlyName": p["ws"], "provisioningState": "Succeeded", "workspaceId": str(uuid.uuid4()),
                    "storageAccount": self.ctx.storage_account_id(p["sub"], p["rg"]),
                    "keyVault": f"/subscriptions/{p['sub']}/resourceGroups/{p['rg']}/providers/Microsoft.KeyVault/"
                                f"vaults/kv-{p['ws']}"[:200],
                    "applicationInsights": f"/subscriptions/{p['sub']}/resourceGroups/{p['rg']}/providers/"
                                           f"Microsoft.Insights/components/ai-{p['ws']}",
                    "discoveryUrl": f"https://{host}/discovery", "hbiWorkspace": False, "v1LegacyMode": False,
                    "mlFlowTrackingUri": f"azureml://{host}/mlflow/v1.0{wid}", "publicNetworkAccess": "Enabled",
                    "creationTime": now_iso(), "enableDataIsolation": False}}
            self.ctx.store.put("resources", wid, workspace)
        return workspace

    def workspace(self, request: Request) -> Response:
        return json_response(self.ensure_workspace(request))

    def _datastore(self, request: Request, name: str) -> dict[str, Any]:
        wid = workspace_of(self.ctx, request)
        self.ensure_workspace(request)
        if name not in DATASTORES:
            raise HttpError(404, "UserError", f"Datastore {name!r} not found in the workspace.")
        return {"id": f"{wid}/datastores/{name}", "name": name, "type": f"{PROVIDER}/workspaces/datastores",
                "systemData": system_data(),
                "properties": {"datastoreType": "AzureBlob", "accountName": self.ctx.storage_account,
                               "containerName": container_name(self.ctx, wid, DATASTORES[name]),
                               "endpoint": "core.windows.net", "protocol": "https",
                               "credentials": {"credentialsType": "AccountKey"},
                               "isDefault": name == "workspaceblobstore", "serviceDataAccessAuthIdentity": "None",
                               "tags": {}, "properties": {}}}

    def list_datastores(self, request: Request) -> Response:
        return json_response({"value": [self._datastore(request, n) for n in DATASTORES]})

    def datastore(self, request: Request) -> Response:
        return json_response(self._datastore(request, request.path_params["name"]))

    def datastore_secrets(self, request: Request) -> Response:
        self._datastore(request, request.path_params["name"])
        return json_response({"secretsType": "AccountKey", "key": self.ctx.storage_key})

    # -- versioned assets --

    def _versions(self, request: Request) -> list[dict[str, Any]]:
        wid = workspace_of(self.ctx, request)
        p = request.path_params
        return self.ctx.store.children("resources", f"{wid}/{p['kind']}/{p['name']}/versions")

    def list_containers(self, request: Request) -> Response:
        wid = workspace_of(self.ctx, request)
        kind = request.path_params["kind"]
        names = sorted({rid.split("/")[-3] for rid, _ in self.ctx.store.items("resources")
                        if rid.startswith(f"{wid}/{kind}/".lower()) and "/versions/" in rid})
        return json_response({"value": [self._container(wid, kind, n) for n in names]})

    def _container(self, wid: str, kind: str, name: str) -> dict[str, Any] | None:
        versions = self.ctx.store.children("resources", f"{wid}/{kind}/{name}/versions")
        if not versions:
            return None
        numbers = [int(v["name"]) for v in versions if str(v["name"]).isdigit()]
        latest = versions[-1]["name"]
        return {"id": f"{wid}/{kind}/{name}", "name": name, "type": f"{PROVIDER}/workspaces/{kind}",
                "systemData": versions[0]["systemData"],
                "properties": {"latestVersion": str(latest), "nextVersion": str(max(numbers, default=0) + 1),
                               "isArchived": False, "tags": {}, "properties": {}, "provisioningState": "Succeeded"}}

    def asset_container(self, request: Request) -> Response:
        p = request.path_params
        container = self._container(workspace_of(self.ctx, request), p["kind"], p["name"])
        if container is None:
            return arm_error(404, "UserError", f"{p['kind']} container {p['name']!r} not found.")
        return json_response(container)

    def list_versions(self, request: Request) -> Response:
        versions = self._versions(request)
        query = request.query_params
        if "hash" in query:
            versions = [v for v in versions
                        if (v["properties"].get("properties") or {}).get("hash_sha256") == query["hash"]]
        if "$orderBy" in query or "$orderby" in query:
            versions.sort(key=lambda v: v["systemData"]["createdAt"], reverse=True)
        if "$top" in query:
            versions = versions[: int(query["$top"])]
        return json_response({"value": versions})

    def get_version(self, request: Request) -> Response:
        rid = resource_id(request)
        return json_response(stored_or_404(self.ctx, rid, request.path_params["kind"].rstrip("s") + " version"))

    async def put_version(self, request: Request) -> Response:
        p = request.path_params
        self.ensure_workspace(request)
        rid = resource_id(request)
        body = read_json(await request.body())
        existing = self.ctx.store.get("resources", rid)
        properties = body.get("properties") or {}
        if existing is not None and p["kind"] != "codes" and self._immutable_change(existing, properties):
            return arm_error(409, "UserError", f"{p['kind']} {p['name']}:{p['version']} already exists and its "
                             "content cannot be changed; only description and tags can be updated.")
        properties.setdefault("isArchived", False)
        properties.setdefault("isAnonymous", False)
        properties["provisioningState"] = "Succeeded"
        if p["kind"] == "models":
            properties.setdefault("flavors", {})
        if p["kind"] == "environments":
            properties.setdefault("environmentType", "UserCreated")
            properties.setdefault("osType", "Linux")
        resource = {"id": rid, "name": p["version"], "type": f"{PROVIDER}/workspaces/{p['kind']}/versions",
                    "systemData": system_data(existing), "properties": properties}
        self.ctx.store.put("resources", rid, resource)
        return json_response(resource, 200 if existing else 201)

    @staticmethod
    def _immutable_change(existing: dict[str, Any], properties: dict[str, Any]) -> bool:
        mutable = {"description", "tags", "isArchived", "provisioningState", "stage", "properties"}
        old = {k: v for k, v in existing["properties"].items() if k not in mutable}
        new = {k: v for k, v in properties.items() if k not in mutable}
        return any(old.get(k) != v for k, v in new.items() if v is not None)

    def start_pending_upload(self, request: Request) -> Response:
        self.ensure_workspace(request)
        container = str(uuid.uuid4())  # Azure hands out a fresh container per pending upload
        folder = container
        url = blob_url(self.ctx.storage_account, container)
        p = request.path_params
        return json_response({
            "blobReferenceForConsumption": {
                "blobUri": url, "storageAccountArmId": self.ctx.storage_account_id(p["sub"], p["rg"]),
                "credential": {"credentialType": "SAS", "sasUri": f"{url}?{container_sas(self.ctx, container)}"}},
            "temporaryDataReferenceId": folder, "temporaryDataReferenceType": "TemporaryBlobReference"})

    # -- computes --

    def list_computes(self, request: Request) -> Response:
        wid = workspace_of(self.ctx, request)
        return json_response({"value": self.ctx.store.children("resources", f"{wid}/computes")})

    def get_compute(self, request: Request) -> Response:
        return json_response(stored_or_404(self.ctx, resource_id(request), "Compute"))

    async def put_compute(self, request: Request) -> Response:
        self.ensure_workspace(request)
        rid = resource_id(request)
        body = read_json(await request.body())
        existing = self.ctx.store.get("resources", rid)
        quota = self.ctx.faults.take("quota-exceeded") if existing is None else None
        if quota is not None:
            return quota_refusal(self.ctx, body, "compute")
        if existing is not None and self.ctx.faults.take("compute-update-forbidden") is not None:
            response = arm_error(403, "AuthorizationFailed", f"The client '{self.ctx.identity.client_id}' does not "
                                 "have authorization to perform action 'Microsoft.MachineLearningServices/workspaces/"
                                 f"computes/write' over scope '{rid}' or the scope is invalid.")
            response.fault = "compute-update-forbidden"
            return response
        properties = body.get("properties") or {}
        properties.update(provisioningState="Creating" if existing is None else "Updating",
                          createdOn=now_iso(), modifiedOn=now_iso())
        inner = properties.setdefault("properties", {})
        inner.setdefault("scaleSettings", {"minNodeCount": 0, "maxNodeCount": 1})
        inner.update(allocationState="Steady", currentNodeCount=0, targetNodeCount=0)
        resource = {"id": rid, "name": request.path_params["name"], "type": f"{PROVIDER}/workspaces/computes",
                    "location": body.get("location") or self.ctx.location, "tags": body.get("tags") or {},
                    "identity": body.get("identity"), "sku": body.get("sku"), "systemData": system_data(existing),
                    "properties": properties}
        operation = lro.start_operation(self.ctx, rid, "compute")
        resource["properties"]["provisioningState"] = "Succeeded"
        self.ctx.store.put("resources", rid, resource)
        lro.finish_operation(self.ctx, operation, "Succeeded")
        return lro.accepted(self.ctx, request, operation, resource, 200 if existing else 201)


def quota_refusal(ctx: Context, body: dict[str, Any], what: str) -> Response:
    """Azure's quota refusal, with the family, region and numbers its real message carries."""
    size = ((body.get("properties") or {}).get("properties") or {}).get("vmSize") or \
        (body.get("sku") or {}).get("name") or (body.get("properties") or {}).get("instanceType") or "Standard_DS3_v2"
    family = "standard" + re.sub(r"^Standard_|\d.*$", "", str(size)).upper() + "Family"
    response = arm_error(400, "QuotaExceeded",
                         f"Not enough quota available for {size} in SubscriptionId {ctx.subscription_id}. "
                         f"Current usage/limit: 24/24. Additional needed: 4. Please adjust or delete some "
                         f"existing {what}s or request a quota increase for {family} in {ctx.location}.")
    response.fault = "quota-exceeded"
    return response
