"""Command jobs: submission (``PUT jobs/{name}``), reads, listing and cancel; the runner does the work.

A job name is taken once: a second PUT with the same content answers the existing job (what a
retried request meets), one with different content is Azure's 400 "A job with this name already
exists". References (compute, environment, code, data inputs) must exist, as in Azure.
The ``lost-response`` fault applies a submission and then drops its answer.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mlops.standin.app import Drop
from mlops.standin.arm import WS, Arm, read_json, resource_id, stored_or_404, workspace_of
from mlops.standin.context import PROVIDER, Context, system_data
from mlops.standin.jobrunner import JobRunner
from mlops.standin.lro import accepted, finish_operation, start_operation
from mlops.standin.routing import HttpError, Router, arm_error, json_response

# What a client sets; the rest of a job's properties are the service's.
SUBMITTED = ("jobType", "command", "codeId", "environmentId", "computeId", "inputs", "environmentVariables",
             "distribution", "resources", "experimentName", "limits")
TERMINAL = {"Completed", "Failed", "Canceled", "NotResponding"}


def submitted_part(properties: dict[str, Any]) -> dict[str, Any]:
    """The fields of a job that cannot change once it is submitted."""
    return {k: properties.get(k) for k in SUBMITTED if properties.get(k) not in (None, {}, [])}


class Jobs:
    """Job routes and the runner that executes them."""

    def __init__(self, ctx: Context, arm: Arm, runner: JobRunner):
        self.ctx, self.arm, self.runner = ctx, arm, runner

    def add_routes(self, router: Router) -> None:
        """Register the job routes."""
        router.add("GET", WS + r"/jobs", self.list)
        router.add("GET", WS + r"/jobs/(?P<name>[^/]+)", self.get)
        router.add("PUT", WS + r"/jobs/(?P<name>[^/]+)", self.put)
        router.add("POST", WS + r"/jobs/(?P<name>[^/]+)/cancel", self.cancel)

    def list(self, request: Request) -> Response:
        jobs = self.ctx.store.children("resources", f"{workspace_of(self.ctx, request)}/jobs")
        return json_response({"value": [self._public(j) for j in jobs]})

    def get(self, request: Request) -> Response:
        return json_response(self._public(stored_or_404(self.ctx, resource_id(request), "Job")))

    @staticmethod
    def _public(job: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in job.items() if k != "run"}

    async def put(self, request: Request) -> Response:
        self.arm.ensure_workspace(request)
        rid, name = resource_id(request), request.path_params["name"]
        wid = workspace_of(self.ctx, request)
        body = read_json(await request.body())
        properties = body.get("properties") or {}
        existing = self.ctx.store.get("resources", rid)
        if existing is not None:
            if submitted_part(existing["properties"]) != submitted_part(properties):
                return arm_error(400, "UserError", "A job with this name already exists. If you are trying to "
                                 "create a new job, use a different name. If you are trying to update an existing "
                                 "job, the existing job's Settings, Inputs, Outputs, Jobs, InputBindings, "
                                 "OutputBindings cannot be changed. Only description, tags, displayName, "
                                 "properties, and isArchived can be updated.")
            for key in ("description", "tags", "displayName", "properties"):
                if key in properties:
                    existing["properties"][key] = properties[key]
            self.ctx.store.put("resources", rid, existing)
            return self._answer(request, existing, 200)
        self._check_references(wid, properties)
        properties["status"] = "NotStarted"
        properties.setdefault("experimentName", "Default")
        properties.setdefault("displayName", name)
        outputs = properties.get("outputs") or {}
        outputs["default"] = {"jobOutputType": "uri_folder", "mode": "ReadWriteMount",
                              "uri": f"azureml://datastores/workspaceartifactstore/ExperimentRun/dcid.{name}"}
        properties["outputs"] = outputs
        properties["services"] = {
            "Studio": {"jobServiceType": "Studio", "endpoint": f"https://ml.azure.com/runs/{name}?wsid={wid}"},
            "Tracking": {"jobServiceType": "Tracking", "endpoint": f"azureml://{self.ctx.history_host()}/mlflow/v1.0"
                         f"{wid}?"}}
        job = {"id": rid, "name": name, "type": f"{PROVIDER}/workspaces/jobs", "systemData": system_data(),
               "properties": properties, "run": {"logs": []}}
        self.ctx.store.put("resources", rid, job)
        self.runner.start(rid)
        return self._answer(request, job, 201)

    def _answer(self, request: Request, job: dict[str, Any], status: int) -> Response:
        if self.ctx.faults.take("lost-response") is not None:
            return Drop("lost-response")
        return json_response(self._public(job), status)

    def _check_references(self, wid: str, properties: dict[str, Any]) -> None:
        for key, what in (("computeId", "Compute"), ("environmentId", "Environment"), ("codeId", "Code")):
            reference = properties.get(key)
            if not reference:
                continue
            if key == "environmentId" and reference.startswith("azureml://registries/"):
                raise HttpError(400, "UserError", "The stand-in has no registry: use a workspace environment.")
            rid = reference if reference.startswith("/subscriptions/") else f"{wid}/computes/{reference}"
            if self.ctx.store.get("resources", rid) is None:
                raise HttpError(400, "UserError", f"{what} {reference.rsplit('/', 1)[-1]!r} was not found in "
                                "the workspace: create it before submitting the job.")

    def cancel(self, request: Request) -> Response:
        """202 and an operation the SDK polls, as Azure answers; the job moves to CancelRequested, then Canceled."""
        job = stored_or_404(self.ctx, resource_id(request).removesuffix("/cancel"), "Job")
        if job["properties"]["status"] not in TERMINAL:
            self.runner.cancel(job["id"])
        operation = start_operation(self.ctx, job["id"], "cancel")
        finish_operation(self.ctx, operation, "Succeeded")  # the request is taken; the runner ends the job
        return accepted(self.ctx, request, operation, None, 202)
