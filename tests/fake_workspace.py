"""An in-memory Azure ML workspace with MLClient's operation groups and method signatures, and fault switches.

For fast unit tests only: what the real SDK does over HTTP (serialization, polling, error parsing)
is tested through the stand-in. The method signatures equal azure-ai-ml's (a test compares them with
``inspect.signature``), and where the SDK is known to change what it is given or returned, the fake
does the same: ``online_deployments.begin_create_or_update`` rewrites the entity's model into a
resource id, a Kubernetes endpoint read back has no mirror traffic, a job's status moves only when it
is read. It can inject what Azure does to a release: a failed job, a job that never starts, a lost
answer after a job submission, a deployment that never gets ready, a scoring script that answers
500, an endpoint name held by another workspace, a quota refusal, transient 429/503 answers, and a
crash (the process dying) after any change. Scoring requests reach a small HTTP server on 127.0.0.1.

A job's model scores ``Workspace.next_scores`` (pop one per job, else ``SCORES``) on the evaluation
data; a job with the quality gate's step writes the verdict the staged gate code gives.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
from collections import defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from azure.ai.ml._restclient.arm_ml_service.models import JobStatus
from azure.ai.ml.constants import ListViewType
from azure.ai.ml.entities import EndpointAuthKeys, KubernetesOnlineEndpoint
from azure.ai.ml.exceptions import ErrorCategory, ErrorTarget, JobException
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, ServiceResponseError

from mlops.gate_evaluation import make_record

STUDIO = "https://ml.azure.com/runs/{}"
SCORES = {"accuracy": 0.9737, "f1_macro": 0.9733}
ENDPOINT_KEY = "fake-endpoint-key"
WORKSPACES: dict[str, Workspace] = {}
_ids = itertools.count(1)
_server: ThreadingHTTPServer | None = None


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

    def status(self) -> str:
        return "Failed" if self._error is not None else "Succeeded" if self._done else "InProgress"

    def wait(self, timeout: float | None = None) -> None:
        self.result(timeout)


class _Scoring(BaseHTTPRequestHandler):
    """``POST /<workspace id>/<endpoint>/score``: the deployment named in ``azureml-model-deployment`` answers."""

    def do_POST(self):  # noqa: N802 - the name http.server calls
        _, workspace_id, endpoint, _ = self.path.split("/", 3)
        ws = WORKSPACES[workspace_id]
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status, answer = ws.score(endpoint, self.headers.get("azureml-model-deployment", ""),
                                  self.headers.get("Authorization", ""), body)
        data = (answer if isinstance(answer, str) else json.dumps(answer)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def scoring_base() -> str:
    """The fake's scoring server (one per test process), started on first use."""
    global _server
    if _server is None:
        _server = ThreadingHTTPServer(("127.0.0.1", 0), _Scoring)
        threading.Thread(target=_server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{_server.server_address[1]}"


class Workspace:
    """The state of one workspace, the calls made to it, and the faults to inject."""

    def __init__(self, subscription_id: str = "00000000-0000-0000-0000-000000000000"):
        self.id = str(next(_ids))
        WORKSPACES[self.id] = self
        self.subscription_id = subscription_id
        self.job_never_starts = False
        self.score_statuses: list[int] = []  # answered (with a non-JSON body) before the deployment itself
        self.lose_job_answer = False
        self.calls: list[str] = []
        self.mutations = 0
        self.crash_after: int | None = None
        self.transient: dict[str, list[int]] = defaultdict(list)
        self.errors: dict[str, list[BaseException]] = defaultdict(list)
        self.job_failure: str | None = None
        self.next_scores: list[dict[str, float]] = []
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

    def score(self, endpoint: str, deployment_name: str, authorization: str, body: Any) -> tuple[int, Any]:
        """What the deployment answers to a scoring request, in the scoring contract's shape."""
        self.calls.append("score")
        if authorization != f"Bearer {ENDPOINT_KEY}":
            return 401, {"error": "unauthorized", "detail": "missing or wrong key"}
        if deployment_name not in self.deployments[endpoint]:
            return 404, {"error": "not_found", "detail": f"deployment {deployment_name} not found"}
        if self.score_statuses:
            return self.score_statuses.pop(0), "<html>502 Bad Gateway</html>"
        self.invocations.append((endpoint, deployment_name, self.traffic(endpoint)))
        status = self.smoke_status
        if self.smoke_fails_after is not None and len(self.invocations) > self.smoke_fails_after:
            status = 500
        if status != 200:
            return status, {"error": "internal_error", "detail": "scoring script raised KeyError: 'rows'"}
        return 200, {"predictions": ["setosa"] * len(body.get("rows", []))}

    def arm_id(self, kind: str, name: str, version: str) -> str:
        """The resource id the SDK puts in place of ``azureml:name:version``."""
        return (f"/subscriptions/{self.subscription_id}/resourceGroups/rg-iris-classifier/providers/"
                f"Microsoft.MachineLearningServices/workspaces/mlw-iris-classifier/{kind}/{name}/versions/{version}")


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

    def begin_create_or_update(self, compute):
        self._enter("begin_create_or_update")
        self._ws.computes[compute.name] = copy.deepcopy(compute)
        self._ws.changed()
        return Poller(copy.deepcopy(compute))



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

    def _create(self, entity):
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

    def create_or_update(self, environment):
        return self._create(environment)


class DataOperations(_Versioned):
    store = "data_assets"

    def create_or_update(self, data):
        return self._create(data)


class ModelOperations(_Versioned):
    store = "models"

    def list(self, name: str | None = None, stage: str | None = None, *,
             list_view_type: ListViewType = ListViewType.ACTIVE_ONLY):
        self._enter("list")
        return [copy.deepcopy(item) for (n, _), item in self._items().items() if name in (None, n)]

    def create_or_update(self, model):
        return self._create(model)


@dataclass
class SubmittedJob:
    """What jobs.get returns for a submitted command job (the service's view, not the entity sent)."""

    name: str
    status: str
    experiment_name: str
    compute: str
    tags: dict
    submitted: Any
    scores: dict = None

    @property
    def studio_url(self) -> str:
        return STUDIO.format(self.name)


class JobOperations(_Group):
    def get(self, name: str):
        """The job as it is now; each read moves a job on (Queued, Running, then Completed or Failed)."""
        self._enter("get")
        if name not in self._ws.jobs:
            raise not_found(f"job {name}")
        job = self._ws.jobs[name]
        seen = copy.copy(job)
        seen.status = JobStatus(job.status)  # the SDK's status is an enum member: str() is "JobStatus.QUEUED"
        if job.status == "Queued" and not self._ws.job_never_starts:
            job.status = "Running"
        elif job.status == "Running":
            job.status = "Failed" if self._ws.job_failure else "Completed"
        return seen

    def create_or_update(self, job, *, description: str | None = None, compute: str | None = None,
                         tags: dict | None = None, experiment_name: str | None = None, skip_validation: bool = False,
                         **kwargs: Any):
        self._enter("create_or_update")
        scores = self._ws.next_scores.pop(0) if self._ws.next_scores else dict(SCORES)
        stored = SubmittedJob(job.name, "Queued", job.experiment_name, job.compute, dict(job.tags or {}), job, scores)
        self._ws.jobs[job.name] = stored
        self._ws.changed()
        if self._ws.lose_job_answer:
            self._ws.lose_job_answer = False
            raise ServiceResponseError("Connection aborted: the answer to the job submission was lost")
        return copy.copy(stored)

    def stream(self, name: str) -> None:
        self._enter("stream")
        job = self._ws.jobs[name]
        while job.status in ("Queued", "Running") and not self._ws.job_never_starts:
            job.status = {"Queued": "Running", "Running": "Failed" if self._ws.job_failure else "Completed"}[job.status]
        print(f"RunId: {name}\nWeb View: {STUDIO.format(name)}")
        if job.status == "Failed":
            error = {"error": {"code": "UserError", "message": self._ws.job_failure}}
            raise JobException(message=f"Exception : \n {json.dumps(error, indent=4)} ", target=ErrorTarget.JOB,
                               no_personal_data_message="failed job", error_category=ErrorCategory.SYSTEM_ERROR)

    def download(self, name: str, *, download_path=".", output_name: str | None = None, all: bool = False) -> None:
        self._enter("download")
        job = self._ws.jobs[name]
        root = Path(download_path) / "artifacts"
        (root / "user_logs").mkdir(parents=True, exist_ok=True)
        lines = [f"training line {i}" for i in range(1, 61)]
        if job.status == "Failed":
            lines += ["Traceback (most recent call last):", f"ValueError: {self._ws.job_failure}"]
        else:
            (root / "outputs").mkdir(parents=True, exist_ok=True)
            (root / "outputs" / "metrics.json").write_text(json.dumps(job.scores))
            if "evaluation_data" in (job.submitted.inputs or {}):
                (root / "outputs" / "gate.json").write_text(json.dumps(self._gate_record(job)))
        (root / "user_logs" / "std_log.txt").write_text("\n".join(lines) + "\n")


    def _gate_record(self, job: SubmittedJob) -> dict:
        """What the staged gate step writes: the job's score judged with the staged rule against the champion's."""
        staged = Path(job.submitted.base_path) / job.submitted.code / "mlops_gate" / "rule.json"
        champion_input = (job.submitted.inputs or {}).get("champion_model")
        label = str(champion_input.path).removeprefix("azureml:") if champion_input is not None else None
        champion_scores = None
        if label:
            name, version = label.split(":")
            champion_scores = self._ws.jobs[self._ws.models[(name, version)].tags["job"]].scores
        return make_record(json.loads(staged.read_text()), "evaluation_data", job.scores, champion_scores, label)


class OnlineEndpointOperations(_Group):
    def __init__(self, workspace: Workspace, group: str):
        super().__init__(workspace, group)
        self._online_operation = SimpleNamespace(get=self._rest_get)  # what the SDK's own get reads

    def get(self, name: str, *, local: bool = False):
        self._enter("get")
        if name not in self._ws.endpoints:
            raise not_found(f"endpoint {name}")
        endpoint = copy.deepcopy(self._ws.endpoints[name])
        if isinstance(endpoint, KubernetesOnlineEndpoint):
            endpoint.mirror_traffic = {}  # as the SDK's _from_rest_object does for Kubernetes endpoints
        return endpoint

    def _rest_get(self, *, resource_group_name: str, workspace_name: str, endpoint_name: str):
        self._ws.calls.append("online_endpoints._online_operation.get")
        stored = self._ws.endpoints[endpoint_name]
        return SimpleNamespace(properties=SimpleNamespace(traffic=dict(stored.traffic or {}),
                                                          mirror_traffic=dict(stored.mirror_traffic or {})))

    def get_keys(self, name: str):
        self._enter("get_keys")
        return EndpointAuthKeys(primary_key=ENDPOINT_KEY, secondary_key="fake-secondary-key")

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
        stored._scoring_uri = f"{scoring_base()}/{self._ws.id}/{endpoint.name}/score"
        self._ws.endpoints[endpoint.name] = stored
        self._ws.changed()
        return Poller(copy.deepcopy(stored))



class OnlineDeploymentOperations(_Group):
    def get(self, name: str, endpoint_name: str, *, local: bool | None = False):
        self._enter("get")
        if name not in self._ws.deployments[endpoint_name]:
            raise not_found(f"deployment {name}")
        return copy.deepcopy(self._ws.deployments[endpoint_name][name])

    def list(self, endpoint_name: str, *, local: bool = False):
        self._enter("list")
        return [copy.deepcopy(d) for d in self._ws.deployments[endpoint_name].values()]

    def begin_create_or_update(self, deployment, *, local: bool = False, vscode_debug: bool = False,
                               skip_script_validation: bool = False, local_enable_gpu: bool = False, **kwargs: Any):
        self._enter("begin_create_or_update")
        if deployment.endpoint_name not in self._ws.endpoints:
            raise not_found(f"endpoint {deployment.endpoint_name}")
        current = self._ws.deployments[deployment.endpoint_name].get(deployment.name)
        if current is not None and current.provisioning_state in ("Creating", "Updating"):
            return Poller(error=http_error(409, "Conflict", f"An operation on deployment {deployment.name} is in "
                                                            "progress"))
        reference = str(deployment.model or "")
        if reference and not reference.startswith("/subscriptions/"):  # the SDK resolves it in the entity given
            name, version = reference.removeprefix("azureml:").split(":")
            deployment.model = self._ws.arm_id("models", name, version)
        stored = copy.deepcopy(deployment)
        self._ws.deployments[deployment.endpoint_name][deployment.name] = stored
        if self._ws.deployment_fails:
            stored._provisioning_state = "Failed"
            self._ws.changed()
            return Poller(error=http_error(400, "DeploymentFailed", self._ws.deployment_fails))
        if self._ws.deployment_never_ready:
            stored._provisioning_state = "Creating"
            self._ws.changed()
            return Poller(done=False)
        stored._provisioning_state = "Succeeded"
        self._ws.changed()
        return Poller(copy.deepcopy(stored))

    def get_logs(self, name: str, endpoint_name: str, lines: int, *, container_type: str | None = None,
                 local: bool = False) -> str:
        self._enter("get_logs")
        return f"Liveness probe failed for {name}\nscore.py init() raised FileNotFoundError: model.joblib"

    def begin_delete(self, name: str, endpoint_name: str, *, local: bool | None = False):
        self._enter("begin_delete")
        if name not in self._ws.deployments[endpoint_name]:
            raise not_found(f"deployment {name}")
        if self._ws.deployments[endpoint_name][name].provisioning_state in ("Creating", "Updating"):
            raise http_error(409, "Conflict", f"An operation on deployment {name} is in progress")
        endpoint = self._ws.endpoints.get(endpoint_name)
        if endpoint and ((endpoint.traffic or {}).get(name) or (endpoint.mirror_traffic or {}).get(name)):
            return Poller(error=http_error(400, "BadRequest", f"deployment {name} still takes (mirrored) traffic"))
        del self._ws.deployments[endpoint_name][name]
        self._ws.changed()
        return Poller()


class FakeMLClient:
    """What the toolkit uses of ``azure.ai.ml.MLClient``, backed by one :class:`Workspace`."""

    def __init__(self, workspace: Workspace | None = None):
        self.workspace = workspace or Workspace()
        self.subscription_id = self.workspace.subscription_id
        self.resource_group_name, self.workspace_name = "rg-iris-classifier", "mlw-iris-classifier"
        self.compute = ComputeOperations(self.workspace, "compute")
        self.environments = EnvironmentOperations(self.workspace, "environments")
        self.data = DataOperations(self.workspace, "data")
        self.models = ModelOperations(self.workspace, "models")
        self.jobs = JobOperations(self.workspace, "jobs")
        self.online_endpoints = OnlineEndpointOperations(self.workspace, "online_endpoints")
        self.online_deployments = OnlineDeploymentOperations(self.workspace, "online_deployments")
