"""The regional data-plane host (``<region>.api.azureml.ms``): discovery, run history and data references.

``jobs.stream`` reads ``/history/v1.0{workspace}/runs/{id}/details`` until the run ends and
downloads each ``logFiles`` URL; ``jobs.download`` asks ``/rundata`` and
``/data/v1.0{workspace}/dataversion/batchGetResolvedUris`` for named outputs (a command job of this
template has none besides the default artifacts, which it reads from the artifact datastore).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mlops.standin.arm import WS, container_sas
from mlops.standin.blobs import blob_url
from mlops.standin.context import ARTIFACT_CONTAINER, Context
from mlops.standin.routing import Router, arm_error, json_response

DISCOVERY_KEYS = ("api", "catalog", "experimentation", "gallery", "history", "hyperdrive", "labeling",
                  "modelmanagement", "pipelines", "studiocoreservices")


def run_view(ctx: Context, job: dict) -> dict:
    """A job as run history shows it (RunDetails)."""
    run = job.get("run") or {}
    name = job["name"]
    status = job["properties"].get("status", "NotStarted")
    logs = {}
    for log_name in run.get("logs", []):
        logs[log_name] = (blob_url(ctx.storage_account, ARTIFACT_CONTAINER, f"ExperimentRun/dcid.{name}/{log_name}")
                          + "?" + container_sas(ctx, ARTIFACT_CONTAINER))
    details = {"runId": name, "runUuid": run.get("uuid"), "status": status, "target": job["properties"].get("computeId",
                                                                                                          "").split("/")[-1],
               "createdTimeUtc": job["systemData"]["createdAt"], "logFiles": logs, "warnings": [],
               "tags": job["properties"].get("tags") or {}, "properties": job["properties"].get("properties") or {},
               "outputs": {}, "inputs": {}, "runTypeV2": {"orchestrator": "Execution", "traits": ["azureml.command"]}}
    for key in ("startTimeUtc", "endTimeUtc"):
        if run.get(key):
            details[key] = run[key]
    if run.get("error"):
        details["error"] = {"error": run["error"]}
    return details


def add_history_routes(ctx: Context, router: Router) -> None:
    """The run-history and data routes."""
    history = "/history/v1.0" + WS
    data = "/data/v1.0" + WS

    def discovery(request: Request) -> Response:
        base = f"https://{ctx.history_host()}"
        return json_response({key: base for key in DISCOVERY_KEYS})

    def job_of(request: Request) -> dict | None:
        wid = ctx.workspace_id(request.path_params["sub"], request.path_params["rg"], request.path_params["ws"])
        return ctx.store.get("resources", f"{wid}/jobs/{request.path_params['run']}")

    def details(request: Request) -> Response:
        job = job_of(request)
        if job is None:
            return arm_error(404, "UserError", f"Run {request.path_params['run']} was not found")
        return json_response(run_view(ctx, job))

    async def rundata(request: Request) -> Response:
        body = await request.json()
        request.path_params["run"] = body.get("runId", "")
        job = job_of(request)
        if job is None:
            return arm_error(404, "UserError", f"Run {body.get('runId')} was not found")
        return json_response({"runMetadata": run_view(ctx, job), "metrics": {}})

    def resolved(request: Request) -> Response:
        return json_response({"values": {}})

    router.add("GET", r"/discovery", discovery)
    router.add("GET", history + r"/runs/(?P<run>[^/]+)/details", details)
    router.add("GET", history + r"/runs/(?P<run>[^/]+)", details)
    router.add("GET", history + r"/experiments/[^/]+/runs/(?P<run>[^/]+)/details", details)
    router.add("POST", history + r"/rundata", rundata)
    router.add("POST", data + r"/dataversion/batchGetResolvedUris", resolved)
