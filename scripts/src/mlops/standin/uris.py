"""Turn the URIs Azure ML passes around into places in the stand-in's blob store.

Handled: blob URLs, ``azureml://[subscriptions/.../workspaces/W/]datastores/D/paths/P``,
``azureml://jobs/J/outputs/artifacts/paths/P`` (a job's default artifacts), and data asset
references (``azureml:name:version`` or a data version's ARM id), which resolve through the asset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from mlops.standin.arm import DATASTORES, container_name
from mlops.standin.context import ARTIFACT_CONTAINER, Context
from mlops.standin.routing import HttpError

DATASTORE_URI = re.compile(r"azureml://(?:subscriptions/[^/]+/resource[gG]roups/[^/]+/(?:providers/"
                           r"Microsoft\.MachineLearningServices/)?workspaces/[^/]+/)?datastores/([^/]+)/paths/(.*)")
JOB_URI = re.compile(r"azureml://jobs/([^/]+)/outputs/artifacts/paths/(.*)")
MODEL_ID = re.compile(r"/workspaces/[^/]+/models/([^/]+)/versions/([^/]+)$", re.IGNORECASE)
ASSET_REF = re.compile(r"(?:azureml:)?(?:.*/data/)?([^/:]+)(?::|/versions/)([^/:]+)$")


@dataclass(frozen=True)
class BlobLocation:
    """A blob, or a folder of blobs, in the stand-in's storage."""

    account: str
    container: str
    prefix: str

    def local_path(self, ctx: Context) -> Path:
        """Where those bytes are on disk (a file, or a folder)."""
        return ctx.blobs.path(self.account, self.container, self.prefix)


def locate(ctx: Context, workspace_id: str, uri: str) -> BlobLocation:
    """The blob location ``uri`` names in the workspace ``workspace_id``; HttpError 400 when it names none."""
    if uri.startswith("https://"):
        parsed = urlparse(uri)
        container, _, prefix = parsed.path.lstrip("/").partition("/")
        return BlobLocation(parsed.hostname.split(".")[0], container, unquote(prefix))
    if match := JOB_URI.fullmatch(uri):
        return BlobLocation(ctx.storage_account, ARTIFACT_CONTAINER, f"ExperimentRun/dcid.{match[1]}/{match[2]}")
    if match := DATASTORE_URI.fullmatch(uri):
        if match[1] not in DATASTORES:
            raise HttpError(400, "UserError", f"Datastore {match[1]!r} not found in the workspace.")
        return BlobLocation(ctx.storage_account, container_name(ctx, workspace_id, DATASTORES[match[1]]), match[2])
    if match := ASSET_REF.fullmatch(uri):
        asset = ctx.store.get("resources", f"{workspace_id}/data/{match[1]}/versions/{match[2]}")
        if asset is None:
            raise HttpError(400, "UserError", f"Data asset {match[1]}:{match[2]} was not found in the workspace.")
        return locate(ctx, workspace_id, asset["properties"]["dataUri"])
    if match := MODEL_ID.search(uri):  # a custom_model job input: the registered model version's files
        model = ctx.store.get("resources", f"{workspace_id}/models/{match[1]}/versions/{match[2]}")
        if model is None:
            raise HttpError(400, "UserError", f"Model {match[1]}:{match[2]} was not found in the workspace.")
        return locate(ctx, workspace_id, model["properties"]["modelUri"])
    raise HttpError(400, "UserError", f"The stand-in cannot resolve the URI {uri!r}.")
