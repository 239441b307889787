"""Azure Blob Storage, the part azure-storage-blob uses for Azure ML's artifacts, code and logs.

Served: create container; list blobs (prefix, delimiter, metadata); put blob (single shot, or
blocks and a block list); set metadata; get properties; download, whole or by range (``206`` with
``Content-Range``, ``416`` on an empty blob, as the SDK's downloader expects); delete.
Requests must carry a SAS (``sig=``) or a SharedKey ``Authorization`` for the account; signatures
are not recomputed (see the note in the issue: what the stand-in cannot reproduce).
Blob bytes live under ``STATE/blobs/<account>/<container>/<name>``; properties in the store.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import time
import uuid
from email.utils import formatdate
from pathlib import Path
from urllib.parse import quote
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import Response

from mlops.standin.routing import Router
from mlops.standin.store import Store

XML = "application/xml"
RANGE = re.compile(r"bytes=(\d+)-(\d*)")
API_VERSION = "2025-01-05"


def _now() -> str:
    return formatdate(time.time(), usegmt=True)


def storage_error(status: int, code: str, message: str) -> Response:
    """Azure Storage's error shape: XML body plus ``x-ms-error-code``."""
    body = (f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
            f"<Message>{escape(message)}\nRequestId:{uuid.uuid4()}</Message></Error>")
    return Response(body, status, headers={"x-ms-error-code": code, "x-ms-version": API_VERSION}, media_type=XML)


class BlobService:
    """Blob containers of every storage account the stand-in's workspaces use."""

    def __init__(self, store: Store, root: Path, account_keys: dict[str, str]):
        self.store, self.root, self.account_keys = store, root, account_keys
        self._blocks: dict[str, dict[str, bytes]] = {}
        self._lock = threading.Lock()

    def add_routes(self, router: Router) -> None:
        """Container and blob routes (the account comes from the host name)."""
        router.add("*", r"/(?P<container>[^/]+)/?", self.container)
        router.add("*", r"/(?P<container>[^/]+)/(?P<blob>.+)", self.blob)

    # -- helpers other modules use (jobs write logs and outputs, deployments read code and models) --

    def path(self, account: str, container: str, name: str) -> Path:
        """Where a blob's bytes are kept."""
        return self.root / account / container / name

    def write(self, account: str, container: str, name: str, data: bytes, metadata: dict | None = None,
              content_type: str = "application/octet-stream") -> None:
        """Store a blob (used by the job runner for logs and outputs)."""
        target = self.path(account, container, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        key = f"{account}/{container}/{name}"
        old = self.store.get("blobs", key) or {}
        self.store.put("blobs", key, {
            "name": name, "size": len(data), "etag": f'"0x{uuid.uuid4().hex[:16].upper()}"',
            "modified": _now(), "created": old.get("created") or _now(), "content_type": content_type,
            "md5": base64.b64encode(hashlib.md5(data).digest()).decode(),
            "metadata": metadata if metadata is not None else old.get("metadata", {})})

    def names(self, account: str, container: str, prefix: str = "") -> list[str]:
        """Blob names in a container starting with ``prefix``, sorted."""
        head = f"{account}/{container}/".lower()
        return sorted(v["name"] for k, v in self.store.items("blobs")
                      if k.startswith(head) and v["name"].startswith(prefix))

    def download_folder(self, account: str, container: str, prefix: str, into: Path) -> list[Path]:
        """Copy every blob under ``prefix`` into ``into`` (keeping the layout below the prefix)."""
        copied = []
        for name in self.names(account, container, prefix):
            relative = name[len(prefix):].lstrip("/") or Path(name).name
            target = into / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.path(account, container, name).read_bytes())
            copied.append(target)
        return copied

    # -- routes --

    def _authorized(self, request: Request, account: str) -> Response | None:
        auth = request.headers.get("authorization", "")
        if "sig" in request.query_params:
            expiry = request.query_params.get("se", "")
            if expiry and expiry < time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()):
                return storage_error(403, "AuthenticationFailed", "Signed expiry time has to be after signed start.")
            return None
        if auth.startswith(f"SharedKey {account}:"):
            return None
        if auth.lower().startswith("bearer "):
            return None
        return storage_error(403, "NoAuthenticationInformation", "Server failed to authenticate the request. "
                             "Please refer to the information in the www-authenticate header.")

    @staticmethod
    def _account(request: Request) -> str:
        return (request.headers.get("host") or "").split(".")[0].lower()

    async def container(self, request: Request) -> Response:
        account = self._account(request)
        container = request.path_params["container"]
        refused = self._authorized(request, account)
        if refused:
            return refused
        query = request.query_params
        if request.method == "PUT" and query.get("restype") == "container":
            marker = self.root / account / container
            if marker.exists():
                return storage_error(409, "ContainerAlreadyExists", "The specified container already exists.")
            marker.mkdir(parents=True)
            return Response(status_code=201, headers={"ETag": f'"{uuid.uuid4().hex}"', "Last-Modified": _now()})
        if request.method == "GET" and query.get("comp") == "list":
            return self._list(account, container, query.get("prefix", ""), query.get("delimiter", ""),
                              "metadata" in query.get("include", ""))
        if request.method in ("GET", "HEAD") and query.get("restype") == "container":
            return Response(status_code=200, headers={"ETag": '"0x1"', "Last-Modified": _now(),
                                                      "x-ms-version": API_VERSION})
        return storage_error(400, "UnsupportedHttpVerb", f"the stand-in does not serve {request.method} on a container")

    def _list(self, account: str, container: str, prefix: str, delimiter: str, metadata: bool) -> Response:
        blobs, prefixes = [], []
        for name in self.names(account, container, prefix):
            rest = name[len(prefix):]
            if delimiter and delimiter in rest:
                folder = prefix + rest.split(delimiter)[0] + delimiter
                if folder not in prefixes:
                    prefixes.append(folder)
                continue
            props = self.store.get("blobs", f"{account}/{container}/{name}")
            meta = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in props.get("metadata", {}).items())
            blobs.append(
                f"<Blob><Name>{escape(name)}</Name><Properties><Creation-Time>{props['created']}</Creation-Time>"
                f"<Last-Modified>{props['modified']}</Last-Modified><Etag>{props['etag']}</Etag>"
                f"<Content-Length>{props['size']}</Content-Length><Content-Type>{props['content_type']}"
                f"</Content-Type><Content-MD5>{props['md5']}</Content-MD5><BlobType>BlockBlob</BlobType>"
                f"<LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState></Properties>"
                + (f"<Metadata>{meta}</Metadata>" if metadata else "") + "</Blob>")
        listed = "".join(blobs) + "".join(f"<BlobPrefix><Name>{escape(p)}</Name></BlobPrefix>" for p in prefixes)
        body = (f'<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint='
                f'"https://{account}.blob.core.windows.net/" ContainerName="{escape(container)}">'
                f"<Prefix>{escape(prefix)}</Prefix><Delimiter>{escape(delimiter)}</Delimiter>"
                f"<Blobs>{listed}</Blobs><NextMarker /></EnumerationResults>")
        return Response(body, 200, headers={"x-ms-version": API_VERSION}, media_type=XML)

    async def blob(self, request: Request) -> Response:
        account = self._account(request)
        container, name = request.path_params["container"], request.path_params["blob"]
        refused = self._authorized(request, account)
        if refused:
            return refused
        key = f"{account}/{container}/{name}"
        comp = request.query_params.get("comp", "")
        props = self.store.get("blobs", key)
        if request.method == "PUT" and comp == "block":
            with self._lock:
                self._blocks.setdefault(key, {})[request.query_params["blockid"]] = await request.body()
            return Response(status_code=201, headers={"x-ms-request-server-encrypted": "true"})
        if request.method == "PUT" and comp == "blocklist":
            ids = [e.text or "" for e in ElementTree.fromstring(await request.body())]
            with self._lock:
                staged = self._blocks.pop(key, {})
            if any(i not in staged for i in ids):
                return storage_error(400, "InvalidBlockList", "The specified block list is invalid.")
            self.write(account, container, name, b"".join(staged[i] for i in ids), self._metadata(request),
                       request.headers.get("x-ms-blob-content-type", "application/octet-stream"))
            return self._written(key)
        if request.method == "PUT" and comp == "metadata":
            if props is None:
                return storage_error(404, "BlobNotFound", "The specified blob does not exist.")
            props["metadata"] = self._metadata(request)
            self.store.put("blobs", key, props)
            return Response(status_code=200, headers={"ETag": props["etag"], "Last-Modified": props["modified"]})
        if request.method == "PUT" and not comp:
            if request.headers.get("if-none-match") == "*" and props is not None:
                return storage_error(409, "BlobAlreadyExists", "The specified blob already exists.")
            self.write(account, container, name, await request.body(), self._metadata(request),
                       request.headers.get("x-ms-blob-content-type", "application/octet-stream"))
            return self._written(key)
        if props is None:
            return storage_error(404, "BlobNotFound", "The specified blob does not exist.")
        if request.method == "DELETE":
            self.store.delete("blobs", key)
            self.path(account, container, name).unlink(missing_ok=True)
            return Response(status_code=202)
        if request.method in ("GET", "HEAD") and comp in ("", "metadata"):
            return self._read(request, account, container, name, props)
        return storage_error(400, "UnsupportedQueryParameter", f"the stand-in does not serve comp={comp}")

    @staticmethod
    def _metadata(request: Request) -> dict[str, str]:
        return {k[len("x-ms-meta-"):]: v for k, v in request.headers.items() if k.startswith("x-ms-meta-")}

    def _written(self, key: str) -> Response:
        props = self.store.get("blobs", key)
        return Response(status_code=201, headers={"ETag": props["etag"], "Last-Modified": props["modified"],
                                                  "Content-MD5": props["md5"], "x-ms-request-server-encrypted": "true",
                                                  "x-ms-version": API_VERSION})

    def _read(self, request: Request, account: str, container: str, name: str, props: dict) -> Response:
        headers = {"ETag": props["etag"], "Last-Modified": props["modified"], "x-ms-blob-type": "BlockBlob",
                   "x-ms-creation-time": props["created"], "x-ms-version": API_VERSION, "Accept-Ranges": "bytes",
                   "x-ms-lease-state": "available", "x-ms-lease-status": "unlocked", "Content-Type":
                   props["content_type"], "x-ms-server-encrypted": "true"}
        headers.update({f"x-ms-meta-{k}": v for k, v in props.get("metadata", {}).items()})
        size = props["size"]
        wanted = request.headers.get("x-ms-range") or request.headers.get("range")
        if request.method == "HEAD":
            return Response(status_code=200, headers={**headers, "Content-Length": str(size),
                                                      "Content-MD5": props["md5"]})
        data = self.path(account, container, name).read_bytes()
        match = RANGE.fullmatch(wanted or "")
        if match:
            start = int(match.group(1))
            if start >= size:
                return storage_error(416, "InvalidRange", "The range specified is invalid for the current size "
                                     "of the resource.")
            end = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            headers["x-ms-blob-content-md5"] = props["md5"]
            return Response(data[start:end + 1], 206, headers=headers)
        return Response(data, 200, headers={**headers, "Content-MD5": props["md5"]})


def blob_url(account: str, container: str, name: str = "") -> str:
    """The https URL of a container or blob."""
    return f"https://{account}.blob.core.windows.net/{container}" + (f"/{quote(name)}" if name else "")
