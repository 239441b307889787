"""What every part of the stand-in shares: its settings, state, faults, identity and storage."""

from __future__ import annotations

import base64
import hashlib
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops.standin.blobs import BlobService
from mlops.standin.identity import Identity
from mlops.standin.injection import Faults
from mlops.standin.requestlog import RequestLog
from mlops.standin.store import Store

PROVIDER = "Microsoft.MachineLearningServices"
ARM_HOST = "https://management.azure.com"
WORKSPACE_CONTAINER = "azureml-blobstore"
ARTIFACT_CONTAINER = "azureml"


def now_iso() -> str:
    """The current UTC time as Azure writes it."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", time.gmtime())


def system_data(existing: dict | None = None) -> dict[str, Any]:
    """ARM's ``systemData`` block (creation kept from ``existing``)."""
    stamp = now_iso()
    created = (existing or {}).get("systemData", {})
    return {"createdAt": created.get("createdAt", stamp), "createdBy": created.get("createdBy", "standin"),
            "createdByType": "Application", "lastModifiedAt": stamp, "lastModifiedBy": "standin",
            "lastModifiedByType": "Application"}


class Stopping(Exception):
    """The stand-in is stopping: a background runner leaves its job or deployment in flight, as it is."""


@dataclass
class Context:
    """The stand-in's settings and shared services, handed to every route module."""

    state_dir: Path
    store: Store
    faults: Faults
    identity: Identity
    log: RequestLog
    blobs: BlobService
    location: str
    subscription_id: str
    storage_account: str
    storage_key: str
    # set when killed-mid-rollout fires; a harness waits on it to kill the caller for real
    caller_killed: threading.Event = field(default_factory=threading.Event)
    # set while the stand-in stops: background runners then leave their jobs and deployments as they are
    stopping: threading.Event = field(default_factory=threading.Event)

    def check_running(self) -> None:
        """Raise :class:`Stopping` once the stand-in stops: a runner's thread must not change state after that
        (its folder may be gone; a stand-in started again on it resumes what was left in flight)."""
        if self.stopping.is_set():
            raise Stopping

    @classmethod
    def create(cls, state_dir: Path, *, location: str, subscription_id: str, tenant_id: str) -> Context:
        """Open (or start) the state in ``state_dir``; identity and storage key persist with it."""
        store = Store(state_dir)
        settings = store.get("counters", "settings")
        if not settings:
            identity = Identity.create(tenant_id)
            settings = {"tenant_id": identity.tenant_id, "client_id": identity.client_id,
                        "client_secret": identity.client_secret,
                        "signing_key": base64.b64encode(identity.signing_key).decode(),
                        "storage_key": base64.b64encode(hashlib.sha256(uuid.uuid4().bytes).digest() * 2).decode(),
                        "location": location, "subscription_id": subscription_id,
                        "storage_account": "standin" + uuid.uuid4().hex[:12]}
            store.put("counters", "settings", settings)
        identity = Identity(settings["tenant_id"], settings["client_id"], settings["client_secret"],
                            base64.b64decode(settings["signing_key"]))
        account = settings["storage_account"]
        blobs = BlobService(store, state_dir / "blobs", {account: settings["storage_key"]})
        return cls(state_dir, store, Faults(), identity, RequestLog(state_dir / "requests.jsonl"), blobs,
                   settings["location"], settings["subscription_id"], account, settings["storage_key"])

    def workspace_id(self, subscription: str, group: str, workspace: str) -> str:
        """The ARM id of a workspace."""
        return f"/subscriptions/{subscription}/resourceGroups/{group}/providers/{PROVIDER}/workspaces/{workspace}"

    def storage_account_id(self, subscription: str, group: str) -> str:
        """The ARM id of the workspace's storage account."""
        return (f"/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.Storage/"
                f"storageAccounts/{self.storage_account}")

    def history_host(self) -> str:
        """The regional host of run history and data (what the discovery document names)."""
        return f"{self.location}.api.azureml.ms"
