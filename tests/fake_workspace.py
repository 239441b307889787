"""An in-memory Azure ML workspace with MLClient's operation groups and method shapes, and fault switches.

It stores the real azure-ai-ml entities the toolkit sends, hands back copies (as the service
does), and can inject what Azure does to a release: a failed job, a deployment that never gets
ready, a scoring script that answers 500, an endpoint name held by another workspace, a quota
refusal, transient 429/503 answers, and a crash (the process dying) after any change.
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from azure.ai.ml.exceptions import ErrorCategory, ErrorTarget, JobException
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

STUDIO = "https://ml.azure.com/runs/{}"


class Crash(BaseException):
    """The process died: nothing catches it, no clean-up runs."""


class _Response:
    """Just enough of an HTTP response for azure-core's HttpResponseError to read its body."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        self.status_code, self.reason, self.headers = status, code, headers or {}
        self._body = json.dumps({"error": {"code": code, "message": message}})
        self.request = None
        self.content_type = "application/json"

    def text(self, encoding=None):
        return self._body

    def body(self):
        return self._body.encode()


def http_error(status: int, code: str, message: str, error_type=HttpResponseError, **headers) -> HttpResponseError:
    """The error azure-core raises for an HTTP answer with this status and body."""
    return error_type(response=_Response(status, code, message, headers))


def not_found(what: str) -> ResourceNotFoundError:
    return http_error(404, "UserError", f"{what} not found", ResourceNotFoundError)


class Poller:
    """An LROPoller stand-in: ``result(timeout)`` returns, or raises the operation's failure."""

    def __init__(self, value: Any = None, error: BaseException | None = None, done: bool = True):
        self._value, self._error, self._done = value, error, done

    def result(self, timeout: float | None = None) -> Any:
        if self._error is not None:
            raise self._error
        return self._value

    def done(self) -> bool:
        return self._done

    def wait(self, timeout: float | None = None) -> None:
        self.result(timeout)


class Workspace:
    """The state of one workspace, the calls made to it, and the faults to inject."""

    def __init__(self, subscription_id: str = "00000000-0000-0000-0000-000000000000"):
        self.subscription_id = subscription_id
        self.calls: list[str] = []
        self.mutations = 0
        self.crash_after: int | None = None
        self.transient: dict[str, list[int]] = defaultdict(list)
        self.errors: dict[str, list[BaseException]] = defaultdict(list)
        self.job_failure: str | None = None
        self.deployment_never_ready = False
        self.deployment_fails: str | None = None
        self.smoke_status = 200
        self.smoke_fails_after: int | None = None
        self.names_taken_in_region: set[str] = set()
        self.computes: dict[str, Any] = {}
        self.environments: dict[tuple[str, str], Any] = {}
        self.data_assets: dict[tuple[str, str], Any] = {}
        self.jobs: dict[str, Any] = {}
        self.models: dict[tuple[str, str], Any] = {}
        self.endpoints: dict[str, Any] = {}
        self.deployments: dict[str, dict[str, Any]] = defaultdict(dict)
        self.invocations: list[tuple[str, str, dict[str, int]]] = []
        self.while_streaming: Callable[[], None] | None = None  # runs while jobs.stream waits for the job

    def enter(self, operation: str) -> None:
        """Record a call; raise the next injected transient or error for it."""
        self.calls.append(operation)
        if self.transient[operation]:
            status = self.transient[operation].pop(0)
            raise http_error(status, "TooManyRequests" if status == 429 else "ServiceUnavailable",
                             "try again later", **{"Retry-After": "0"})
        if self.errors[operation]:
            raise self.errors[operation].pop(0)

    def changed(self) -> None:
        """A change reached the workspace; the process may die right after it."""
        self.mutations += 1
        if self.crash_after is not None and self.mutations >= self.crash_after:
            self.crash_after = None
            raise Crash(f"crash after change {self.mutations}")

    def traffic(self, endpoint: str) -> dict[str, int]:
        """The endpoint's live traffic, without zero entries."""
        return {k: v for k, v in (self.endpoints[endpoint].traffic or {}).items() if v}


class _Group:
    def __init__(self, workspace: Workspace, group: str):
        self._ws, self._group = workspace, group

    def _enter(self, method: str) -> None:
        self._ws.enter(f"{self._group}.{method}")


class ComputeOperations(_Group):
    def get(self, name: str):
        self._enter("get")
        if name not in self._ws.computes:
            raise not_found(f"compute {name}")
        return copy.deepcopy(self._ws.computes[name])

    def list(self, *, compute_type: str | None = None):
        self._enter("list")
        return [copy.deepcopy(c) for c in self._ws.computes.values()]

    def begin_create_or_update(self, compute):
        self._enter("begin_create_or_update")
        self._ws.computes[compute.name] = copy.deepcopy(compute)
        self._ws.changed()
        return Poller(copy.deepcopy(compute))

    def begin_delete(self, name: str, *, action: str = "Delete"):
        self._enter("begin_delete")
        self._ws.computes.pop(name, None)
        self._ws.changed()
        return Poller()


class _Versioned(_Group):
    store: str

    def _items(self) -> dict:
        return getattr(self._ws, self.store)

    def get(self, name: str, version: str | None = None, label: str | None = None):
        self._enter("get")
        versions = [v for (n, v) in self._items() if n == name]
        if version is None and versions:
            version = max(versions, key=lambda v: int(v) if v.isdigit() else 0)
        if (name, version) not in self._items():
            raise not_found(f"{self.store} {name}:{version}")
        return copy.deepcopy(self._items()[(name, version)])

    def list(self, name: str | None = None, **kwargs):
        self._enter("list")
        return [copy.deepcopy(item) for (n, _), item in self._items().items() if name in (None, n)]

    def create_or_update(self, entity):
        self._enter("create_or_update")
        stored = copy.deepcopy(entity)
        if not stored.version:
            taken = [int(v) for (n, v) in self._items() if n == stored.name and v.isdigit()]
            stored.version = str(max(taken, default=0) + 1)
        self._items()[(stored.name, str(stored.version))] = stored
        self._ws.changed()
        return copy.deepcopy(stored)


class EnvironmentOperations(_Versioned):
    store = "environments"


class DataOperations(_Versioned):
    store = "data_assets"


class ModelOperations(_Versioned):
    store = "models"


@dataclass
class SubmittedJob:
    """What jobs.get returns for a submitted command job (the service's view, not the entity sent)."""

    name: str
    status: str
    experiment_name: str
    compute: str
    tags: dict
    submitted: Any

    @property
    def studio_url(self) -> str:
        return STUDIO.format(self.name)


class JobOperations(_Group):
    def get(self, name: str):
        self._enter("get")
        if name not in self._ws.jobs:
            raise not_found(f"job {name}")
        return copy.copy(self._ws.jobs[name])

    def list(self, **kwargs):
        self._enter("list")
        return [copy.copy(j) for j in self._ws.jobs.values()]

    def create_or_update(self, job, **kwargs):
        self._enter("create_or_update")
        stored = SubmittedJob(job.name, "Queued", job.experiment_name, job.compute, dict(job.tags or {}), job)
        self._ws.jobs[job.name] = stored
        self._ws.changed()
        return copy.copy(stored)

    def stream(self, name: str) -> None:
        self._enter("stream")
        job = self._ws.jobs[name]
        if job.status == "Queued":
            job.status = "Running"
        if self._ws.while_streaming is not None:
            self._ws.while_streaming()
        if job.status in ("Queued", "Running"):
            job.status = "Failed" if self._ws.job_failure else "Completed"
        print(f"RunId: {name}\nWeb View: {STUDIO.format(name)}")
        if job.status == "Failed":
            error = {"error": {"code": "UserError", "message": self._ws.job_failure}}
            raise JobException(message=f"Exception : \n {json.dumps(error, indent=4)} ", target=ErrorTarget.JOB,
                               no_personal_data_message="failed job", error_category=ErrorCategory.SYSTEM_ERROR)

    def begin_cancel(self, name: str) -> Poller:
        self._enter("begin_cancel")
        if name not in self._ws.jobs:
            raise not_found(f"job {name}")
        self._ws.jobs[name].status = "Canceled"
        self._ws.changed()
        return Poller()

    def download(self, name: str, *, download_path=".", output_name=None, all=False) -> None:
        self._enter("download")
        job = self._ws.jobs[name]
        root = Path(download_path) / "artifacts"
        (root / "user_logs").mkdir(parents=True, exist_ok=True)
        lines = [f"training line {i}" for i in range(1, 61)]
        if job.status == "Failed":
            lines += ["Traceback (most recent call last):", f"ValueError: {self._ws.job_failure}"]
        else:
            (root / "outputs").mkdir(parents=True, exist_ok=True)
            (root / "outputs" / "metrics.json").write_text(json.dumps({"accuracy": 0.9737, "f1_macro": 0.9733}))
        (root / "user_logs" / "std_log.txt").write_text("\n".join(lines) + "\n")


class OnlineEndpointOperations(_Group):
    def get(self, name: str, *, local: bool = False):
        self._enter("get")
        if name not in self._ws.endpoints:
            raise not_found(f"endpoint {name}")
        return copy.deepcopy(self._ws.endpoints[name])

    def list(self, *, local: bool = False):
        self._enter("list")
        return [copy.deepcopy(e) for e in self._ws.endpoints.values()]

    def begin_create_or_update(self, endpoint, *, local: bool = False):
        self._enter("begin_create_or_update")
        if endpoint.name in self._ws.names_taken_in_region:
            return Poller(error=http_error(
                409, "Conflict", f"Endpoint name {endpoint.name} already exists in this region: an endpoint name "
                                 "needs to be unique within a region"))
        deployments = self._ws.deployments[endpoint.name]
        for name, share in {**(endpoint.traffic or {}), **(endpoint.mirror_traffic or {})}.items():
            if share and name not in deployments:
                return Poller(error=http_error(400, "BadRequest", f"deployment {name} does not exist"))
            if share and deployments[name].provisioning_state != "Succeeded":
                return Poller(error=http_error(400, "BadRequest", f"deployment {name} is not ready for traffic"))
        if sum((endpoint.traffic or {}).values()) not in (0, 100):
            return Poller(error=http_error(400, "BadRequest", "traffic must add up to 0 or 100"))
        stored = copy.deepcopy(endpoint)
        stored._provisioning_state = "Succeeded"
        stored._scoring_uri = f"https://{endpoint.name}.westeurope.inference.ml.azure.com/score"
        self._ws.endpoints[endpoint.name] = stored
        self._ws.changed()
        return Poller(copy.deepcopy(stored))

    def invoke(self, endpoint_name: str, *, request_file: str | None = None, deployment_name: str | None = None,
               **kwargs) -> str:
        self._enter("invoke")
        body = json.loads(Path(request_file).read_text())
        deployment = self._ws.deployments[endpoint_name].get(deployment_name)
        if deployment is None:
            raise http_error(404, "NotFound", f"deployment {deployment_name} not found")
        self._ws.invocations.append((endpoint_name, deployment_name, self._ws.traffic(endpoint_name)))
        status = self._ws.smoke_status
        if self._ws.smoke_fails_after is not None and len(self._ws.invocations) > self._ws.smoke_fails_after:
            status = 500
        if status != 200:
            raise http_error(status, "InternalServerError", "scoring script raised KeyError: 'rows'")
        return json.dumps({"predictions": ["setosa"] * len(body.get("rows", []))})

    def begin_delete(self, name: str | None = None, *, local: bool = False):
        self._enter("begin_delete")
        self._ws.endpoints.pop(name, None)
        self._ws.changed()
        return Poller()


class OnlineDeploymentOperations(_Group):
    def get(self, name: str, endpoint_name: str, *, local: bool = False):
        self._enter("get")
        if name not in self._ws.deployments[endpoint_name]:
            raise not_found(f"deployment {name}")
        return copy.deepcopy(self._ws.deployments[endpoint_name][name])

    def list(self, endpoint_name: str, *, local: bool = False):
        self._enter("list")
        return [copy.deepcopy(d) for d in self._ws.deployments[endpoint_name].values()]

    def begin_create_or_update(self, deployment, **kwargs):
        self._enter("begin_create_or_update")
        if deployment.endpoint_name not in self._ws.endpoints:
            raise not_found(f"endpoint {deployment.endpoint_name}")
        stored = copy.deepcopy(deployment)
        self._ws.deployments[deployment.endpoint_name][deployment.name] = stored
        if self._ws.deployment_fails:
            stored._provisioning_state = "Failed"
            self._ws.changed()
            return Poller(error=http_error(400, "DeploymentFailed", self._ws.deployment_fails))
        if self._ws.deployment_never_ready:
            stored._provisioning_state = "Updating"
            self._ws.changed()
            return Poller(done=False)
        stored._provisioning_state = "Succeeded"
        self._ws.changed()
        return Poller(copy.deepcopy(stored))

    def get_logs(self, name: str, endpoint_name: str, lines: int, *, container_type=None, local=False) -> str:
        self._enter("get_logs")
        return f"Liveness probe failed for {name}\nscore.py init() raised FileNotFoundError: model.joblib"

    def begin_delete(self, name: str, endpoint_name: str, *, local: bool = False):
        self._enter("begin_delete")
        if name not in self._ws.deployments[endpoint_name]:
            raise not_found(f"deployment {name}")
        if self._ws.endpoints.get(endpoint_name) and (self._ws.endpoints[endpoint_name].traffic or {}).get(name):
            return Poller(error=http_error(400, "BadRequest", f"deployment {name} still takes traffic"))
        del self._ws.deployments[endpoint_name][name]
        self._ws.changed()
        return Poller()


class FakeMLClient:
    """What the toolkit uses of ``azure.ai.ml.MLClient``, backed by one :class:`Workspace`."""

    def __init__(self, workspace: Workspace | None = None):
        self.workspace = workspace or Workspace()
        self.subscription_id = self.workspace.subscription_id
        self.compute = ComputeOperations(self.workspace, "compute")
        self.environments = EnvironmentOperations(self.workspace, "environments")
        self.data = DataOperations(self.workspace, "data")
        self.models = ModelOperations(self.workspace, "models")
        self.jobs = JobOperations(self.workspace, "jobs")
        self.online_endpoints = OnlineEndpointOperations(self.workspace, "online_endpoints")
        self.online_deployments = OnlineDeploymentOperations(self.workspace, "online_deployments")
