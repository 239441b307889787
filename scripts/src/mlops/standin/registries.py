"""Azure ML registries in the stand-in: discovery, shared versions of models and environments, and import.

A client with ``registry_name`` first asks the registry discovery service (``eastus.api.azureml.ms`` in
Azure's cloud metadata) where the registry lives, then sends every registry request to the primary
region's resource provider under ``/mferp/managementfrontend`` with the registry data-plane api-version.
``models.share`` and ``environments.share`` POST ``registries/<r>/import`` with the source asset as
``azureml://locations/<region>/workspaces/<workspace guid>/<kind>/<name>/versions/<version>``; the copy
is stored under the key ``azureml://registries/<r>/<kind>/<name>/versions/<version>``, the reference a
deployment in any workspace uses, so the deployment runner finds the model's files and the environment's
conda file from that reference. A registry comes into being on first use, like a workspace.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

import mlops.standin.lro as lro
from mlops.standin.arm import read_json
from mlops.standin.blobs import blob_url
from mlops.standin.context import PROVIDER, Context, system_data
from mlops.standin.routing import HttpError, Router, arm_error, json_response
from mlops.standin.uris import locate

DISCOVERY_HOST = "eastus.api.azureml.ms"
MFE_PREFIX = "/mferp/managementfrontend"
REGISTRY = (rf"{MFE_PREFIX}/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/{PROVIDER}"
            r"/registries/(?P<registry>[^/]+)")
KINDS = "models|environments"
SOURCE = re.compile(r"azureml://locations/(?P<location>[^/]+)/workspaces/(?P<guid>[^/]+)/(?P<kind>models|environments)"
                    r"/(?P<name>[^/]+)/versions/(?P<version>[^/]+)")
REFERENCE = re.compile(r"azureml://registries/(?P<registry>[^/]+)/(?P<kind>models|environments)/(?P<name>[^/]+)"
                       r"/versions/(?P<version>[^/]+)", re.IGNORECASE)


def registry_reference(registry: str, kind: str, name: str, version: str) -> str:
    """The exact reference of a shared version, which is also its key in the stand-in's store."""
    return f"azureml://registries/{registry}/{kind}/{name}/versions/{version}"


def is_registry_reference(asset_id: str) -> bool:
    """Whether a deployment's model or environment names a registry version rather than a workspace asset."""
    return bool(REFERENCE.fullmatch(asset_id or ""))


def mfe_host(ctx: Context) -> str:
    """The host the discovery document names as the registry's resource provider (covered by the certificate)."""
    return f"mfe-{ctx.location}.api.azureml.ms"


def serves_registry_host(ctx: Context, host: str) -> bool:
    """The hosts whose requests these routes answer."""
    return host in (DISCOVERY_HOST, mfe_host(ctx)) and host != ctx.history_host()


class Registries:
    """Registry discovery and the registry data-plane routes the SDK's share, get and list use."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def add_routes(self, router: Router) -> None:
        """Discovery, versioned assets (get, list, container) and import."""
        r = router.add
        r("GET", r"/registrymanagement/v1\.0/registries/(?P<registry>[^/]+)/discovery", self.discovery)
        r("GET", REGISTRY + rf"/(?P<kind>{KINDS})/(?P<name>[^/]+)/versions", self.list_versions)
        r("GET", REGISTRY + rf"/(?P<kind>{KINDS})/(?P<name>[^/]+)/versions/(?P<version>[^/]+)", self.get_version)
        r("GET", REGISTRY + rf"/(?P<kind>{KINDS})/(?P<name>[^/]+)", self.container)
        r("POST", REGISTRY + r"/import", self.import_asset)

    def discovery(self, request: Request) -> Response:
        name = request.path_params["registry"]
        return json_response({
            "registryName": name, "tenantId": self.ctx.identity.tenant_id, "primaryRegion": self.ctx.location,
            "regions": [self.ctx.location], "subscriptionId": self.ctx.subscription_id,
            "resourceGroup": f"rg-{name}", "primaryRegionResourceProviderUri": f"https://{mfe_host(self.ctx)}/",
            "registryFqdns": {self.ctx.location: {"mfe": f"https://{mfe_host(self.ctx)}/"}}})

    def _versions(self, registry: str, kind: str, name: str) -> list[dict[str, Any]]:
        prefix = registry_reference(registry, kind, name, "").lower()
        return [resource for key, resource in self.ctx.store.items("resources") if key.startswith(prefix)]

    def list_versions(self, request: Request) -> Response:
        p = request.path_params
        return json_response({"value": self._versions(p["registry"], p["kind"], p["name"])})

    def get_version(self, request: Request) -> Response:
        p = request.path_params
        found = self.ctx.store.get("resources", registry_reference(p["registry"], p["kind"], p["name"], p["version"]))
        if found is None:
            return arm_error(404, "UserError", f"{p['kind'][:-1]} {p['name']}:{p['version']} was not found in "
                                               f"registry {p['registry']}.")
        return json_response(found)

    def container(self, request: Request) -> Response:
        p = request.path_params
        versions = self._versions(p["registry"], p["kind"], p["name"])
        if not versions:
            return arm_error(404, "UserError", f"{p['kind'][:-1]} {p['name']} was not found in registry "
                                               f"{p['registry']}.")
        latest = versions[-1]["name"]
        return json_response({"id": registry_reference(p["registry"], p["kind"], p["name"], "")[:-len("/versions/")],
                              "name": p["name"], "properties": {"latestVersion": latest, "isArchived": False}})

    async def import_asset(self, request: Request) -> Response:
        registry = request.path_params["registry"]
        properties = (read_json(await request.body()).get("properties") or {})
        source = SOURCE.fullmatch(properties.get("sourceAssetId") or "")
        if source is None:
            raise HttpError(400, "UserError", f"sourceAssetId {properties.get('sourceAssetId')!r} does not name a "
                                              "workspace model or environment version.")
        workspace_id = self._workspace_by_guid(source["guid"])
        kind, name = source["kind"], properties.get("destinationName") or source["name"]
        version = properties.get("destinationVersion") or source["version"]
        original = self.ctx.store.get("resources", f"{workspace_id}/{kind}/{source['name']}/versions/"
                                                   f"{source['version']}")
        if original is None:
            raise HttpError(404, "UserError", f"{kind[:-1]} {source['name']}:{source['version']} was not found in the "
                                              "workspace it is shared from.")
        key = registry_reference(registry, kind, name, version)
        if self.ctx.store.get("resources", key) is not None:
            raise HttpError(409, "UserError", f"{kind[:-1]} {name}:{version} already exists in registry {registry}; "
                                              "a registry version is never replaced.")
        copied = dict(original["properties"])
        if kind == "models":  # the copy points at the bytes themselves, readable from any workspace
            where = locate(self.ctx, workspace_id, copied["modelUri"])
            copied["modelUri"] = blob_url(where.account, where.container, where.prefix)
        self.ctx.store.put("resources", key, {"id": key, "name": version, "systemData": system_data(),
                                              "type": f"{PROVIDER}/registries/{kind}/versions", "properties": copied})
        operation = lro.start_operation(self.ctx, key, "import")
        lro.finish_operation(self.ctx, operation, "Succeeded")
        return lro.accepted(self.ctx, request, operation, None, 202)

    def _workspace_by_guid(self, guid: str) -> str:
        for key, resource in self.ctx.store.items("resources"):
            if key.endswith(f"/workspaces/{resource.get('name', '')}".lower()) and \
                    (resource.get("properties") or {}).get("workspaceId") == guid:
                return resource["id"]
        raise HttpError(404, "UserError", f"no workspace with id {guid} shares into this registry.")
