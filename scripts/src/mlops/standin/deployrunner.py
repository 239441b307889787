"""Run online deployments locally: score.py under azmlinfsrv, as Azure ML runs the container.

Provisioning builds the environment version's interpreter (the cache of ``mlops serve --adapter
score``), downloads the code snapshot and the model (into ``azureml-models/<name>/<version>/``,
what ``AZUREML_MODEL_DIR`` points to in Azure), starts the server on a free port and waits for its
readiness route; the deployment's operation then ends Succeeded, or Failed with the server's log
tail, as Azure's ``ResourceNotReady`` does. Servers are stopped with the deployment or the stand-in.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlops.standin.lro as lro
from mlops.errors import MlopsError
from mlops.server_process import RunningServer, free_port, log_tail, stop, wait_until_ready
from mlops.serving import ADAPTERS, Launch, score_command
from mlops.smoke import isolated_environment
from mlops.standin.client_variables import outside_environment
from mlops.standin.context import Context, Stopping
from mlops.standin.environments import environment_python
from mlops.standin.registries import is_registry_reference
from mlops.standin.uris import locate

READY_SECONDS = 120.0
NEVER_HEALTHY_SECONDS = 3


class ProvisioningFailed(Exception):
    """The deployment ends Failed with this Azure error code and message."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class Served:
    """A deployment's running server and whether an injected fault makes it answer 500."""

    server: RunningServer
    answers_500: bool = False


class DeploymentRunner:
    """Starts, tracks and stops the model servers of every deployment."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self._served: dict[str, Served] = {}
        self._lock = threading.Lock()

    # -- provisioning --

    def provision(self, deployment_id: str, operation: str) -> None:
        """Bring the deployment up in a thread; its operation ends when it is ready or has failed."""
        threading.Thread(target=self._provision, args=(deployment_id, operation),
                         name=f"deployment {deployment_id.rsplit('/', 1)[-1]}", daemon=True).start()

    def _provision(self, deployment_id: str, operation: str) -> None:
        try:
            self._bring_up(deployment_id, operation)
        except Stopping:  # left Creating: a stand-in started again on this state provisions it again
            self.stop_server(deployment_id)

    def _bring_up(self, deployment_id: str, operation: str) -> None:
        self.stop_server(deployment_id)
        try:
            served = self._start(deployment_id)
        except ProvisioningFailed as failure:
            self._set_state(deployment_id, "Failed")
            lro.finish_operation(self.ctx, operation, "Failed", {"code": failure.code, "message": failure.message})
            return
        except Exception as error:  # a stand-in problem fails the deployment with the reason, never hangs it
            self._set_state(deployment_id, "Failed")
            lro.finish_operation(self.ctx, operation, "Failed", {"code": "InternalServerError",
                                                                 "message": f"the stand-in could not start the "
                                                                            f"deployment: {error}"})
            return
        with self._lock:
            self._served[deployment_id.lower()] = served
        self._set_state(deployment_id, "Succeeded")
        lro.finish_operation(self.ctx, operation, "Succeeded")

    def _set_state(self, deployment_id: str, state: str) -> None:
        self.ctx.check_running()
        with self.ctx.store.lock:
            deployment = self.ctx.store.get("resources", deployment_id)
            if deployment is not None:
                deployment["properties"]["provisioningState"] = state
                self.ctx.store.put("resources", deployment_id, deployment)

    def _start(self, deployment_id: str) -> Served:
        deployment = self.ctx.store.get("resources", deployment_id)
        properties = deployment["properties"]
        workspace_id = deployment_id.split("/onlineEndpoints/", 1)[0]
        folder = self.ctx.state_dir / "deployments" / deployment_id.split("/onlineEndpoints/", 1)[1].replace(
            "/deployments/", "--")
        if self.ctx.faults.take("image-build-fails") is not None:
            raise ProvisioningFailed("ImageBuildFailure", "Image build failed (injected fault image-build-fails): "
                                     "conda env create exited with 1. See the build log of environment "
                                     f"{properties.get('environmentId', '').split('/')[-3]}.")
        never = self.ctx.faults.take("never-healthy")
        if never is not None:
            self.ctx.stopping.wait(float(never.params.get("seconds", NEVER_HEALTHY_SECONDS)))
            self.ctx.check_running()
            raise ProvisioningFailed("ResourceNotReady", "User container has crashed or terminated: the readiness "
                                     "probe failed (injected fault never-healthy). Check the deployment logs.")
        try:
            python = environment_python(self.ctx, properties["environmentId"])
        except MlopsError as error:
            raise ProvisioningFailed("ImageBuildFailure", f"Image build failed: {error}") from None
        code, model = self._materialize(workspace_id, properties, folder)
        port = free_port("0.0.0.0")
        env = {**outside_environment(isolated_environment()),
               **{k: str(v) for k, v in (properties.get("environmentVariables") or {}).items()},
               "AZUREML_MODEL_DIR": str(model), "AML_APP_ROOT": str(code), "PYTHONUNBUFFERED": "1"}
        script = (properties.get("codeConfiguration") or {}).get("scoringScript") or "score.py"
        launch = Launch(ADAPTERS["score"], score_command(python, script, model, port), code, env, "0.0.0.0", port,
                        model=model, model_dir=model)
        log_file = folder / "inference-server.log"
        output = open(log_file, "wb")  # noqa: SIM115 -- the server writes to it for as long as it runs
        process = subprocess.Popen(launch.command, cwd=code, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        output.close()
        server = RunningServer(launch, process, log_file)
        try:
            wait_until_ready(server, READY_SECONDS)
        except MlopsError as error:
            stop(server)
            raise ProvisioningFailed("ResourceNotReady", f"User container has crashed or terminated: {error}") \
                from None
        return Served(server, answers_500=self.ctx.faults.take("deployment-500") is not None)

    def _materialize(self, workspace_id: str, properties: dict[str, Any], folder: Path) -> tuple[Path, Path]:
        """Download the code snapshot and the model; return (code folder, AZUREML_MODEL_DIR)."""
        if folder.exists():
            shutil.rmtree(folder)
        code_dir = folder / "code"
        code_dir.mkdir(parents=True)
        code_id = (properties.get("codeConfiguration") or {}).get("codeId")
        if code_id:
            code = self.ctx.store.get("resources", code_id)
            where = locate(self.ctx, workspace_id, code["properties"]["codeUri"])
            self.ctx.blobs.download_folder(where.account, where.container, where.prefix, code_dir)
        model_id = properties.get("model") or ""
        known = model_id.startswith("/") or is_registry_reference(model_id)
        model = self.ctx.store.get("resources", model_id) if known else None
        if model is None:
            raise ProvisioningFailed("UserError", f"Model {model_id!r} was not found in the workspace.")
        name, version = model_id.split("/")[-3], model_id.split("/")[-1]
        where = locate(self.ctx, workspace_id, model["properties"]["modelUri"])
        model_dir = folder / "azureml-models" / name / version
        leaf = where.prefix.rstrip("/").rsplit("/", 1)[-1]
        self.ctx.blobs.download_folder(where.account, where.container, where.prefix, model_dir / leaf)
        return code_dir, model_dir

    # -- serving --

    def address(self, deployment_id: str) -> Served | None:
        """The deployment's running server, started again if the stand-in restarted since it was provisioned."""
        with self._lock:
            served = self._served.get(deployment_id.lower())
        if served is not None and served.server.process.poll() is None:
            return served
        deployment = self.ctx.store.get("resources", deployment_id)
        if deployment is None or deployment["properties"].get("provisioningState") != "Succeeded":
            return None
        try:
            served = self._start(deployment_id)
        except ProvisioningFailed:
            return None
        with self._lock:
            self._served[deployment_id.lower()] = served
        return served

    def logs(self, deployment_id: str, lines: int) -> str:
        """The last ``lines`` of the deployment's server log."""
        folder = self.ctx.state_dir / "deployments" / deployment_id.split("/onlineEndpoints/", 1)[1].replace(
            "/deployments/", "--")
        return log_tail(folder / "inference-server.log", lines)

    def stop_server(self, deployment_id: str) -> None:
        """Stop the deployment's server, if it runs."""
        with self._lock:
            served = self._served.pop(deployment_id.lower(), None)
        if served is not None:
            stop(served.server)

    def resume(self) -> None:
        """Provision again the deployments a stopped stand-in left half-provisioned."""
        for rid, resource in self.ctx.store.items("resources"):
            if "/deployments/" in rid and resource["properties"].get("provisioningState") in ("Creating", "Updating"):
                pending = lro.in_flight(self.ctx, resource["id"])
                self.provision(resource["id"], pending["id"] if pending else lro.start_operation(
                    self.ctx, resource["id"], "deployment"))

    def shutdown(self) -> None:
        """Stop every server (the stand-in is stopping)."""
        with self._lock:
            ids = list(self._served)
        for deployment_id in ids:
            self.stop_server(deployment_id)
