"""Start and stop the stand-in: its TLS server and proxy on 127.0.0.1, in a background thread.

:class:`StandIn` is the Python API (a context manager) that tests and ``mlops rehearse`` use; it
yields the variables a client needs (:meth:`StandIn.client_environment`) and can build the
unmodified ``MLClient`` with a real azure-identity credential (:meth:`StandIn.ml_client`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn

import mlops.standin.lro as lro
from mlops.standin.app import HostRoutes, StandInApp, not_found
from mlops.standin.arm import Arm
from mlops.standin.client_variables import STANDIN_URL
from mlops.standin.context import Context
from mlops.standin.control import add_control_routes
from mlops.standin.deployrunner import DeploymentRunner
from mlops.standin.endpoints import Endpoints
from mlops.standin.history import add_history_routes
from mlops.standin.injection import FAULTS, Fault
from mlops.standin.jobrunner import JobRunner
from mlops.standin.jobs import Jobs
from mlops.standin.proxy import ProxyRoutes, start_proxy
from mlops.standin.registries import Registries, serves_registry_host
from mlops.standin.requestlog import LoggedRequest
from mlops.standin.routing import Router
from mlops.standin.scoring import Scoring
from mlops.standin.tls import issue_certificates, served_hosts

DEFAULT_SUBSCRIPTION = "00000000-0000-4000-8000-000000000001"
DEFAULT_TENANT = "00000000-0000-4000-8000-0000000000aa"
DEFAULT_LOCATION = "westeurope"


def _listening_socket(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class StandIn:
    """A running stand-in of Azure ML on 127.0.0.1 (use as a context manager, or start()/stop())."""

    def __init__(self, state_dir: Path | str, *, port: int = 0, location: str = DEFAULT_LOCATION,
                 subscription_id: str = DEFAULT_SUBSCRIPTION, tenant_id: str = DEFAULT_TENANT,
                 faults: list[str | Fault] = ()):
        self.state_dir = Path(state_dir).resolve()
        self.ctx = Context.create(self.state_dir, location=location, subscription_id=subscription_id,
                                  tenant_id=tenant_id)
        for fault in faults:
            self.ctx.faults.inject(fault)
        self._wanted_port = port
        self.port = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._servers: list[uvicorn.Server] = []
        self._stopped = threading.Event()
        self.runners: list[Any] = []

    # -- lifecycle --

    def start(self) -> StandIn:
        """Issue certificates, open the sockets and serve in a background thread; return when ready."""
        certificates = issue_certificates(self.state_dir / "tls", served_hosts(self.ctx.location))
        self.ca_bundle = certificates.ca_bundle
        tls_socket, control_socket = _listening_socket(), _listening_socket()
        proxy_socket = _listening_socket(self._wanted_port)
        self.port = proxy_socket.getsockname()[1]
        app = self._build_app()
        tls = uvicorn.Config(app, ssl_certfile=str(certificates.server_chain),
                             ssl_keyfile=str(certificates.server_key), log_level="warning", access_log=False,
                             lifespan="off", proxy_headers=False, timeout_keep_alive=30)
        plain = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", proxy_headers=False)
        self._servers = [uvicorn.Server(tls), uvicorn.Server(plain)]
        self._routes = routes = ProxyRoutes(tls_socket.getsockname()[1], control_socket.getsockname()[1],
                                            self._is_served, self._refused)
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)

            async def main() -> None:
                proxy = await start_proxy(proxy_socket, routes)
                tasks = [asyncio.create_task(self._servers[0].serve(sockets=[tls_socket])),
                         asyncio.create_task(self._servers[1].serve(sockets=[control_socket]))]
                while not all(s.started for s in self._servers):
                    await asyncio.sleep(0.01)
                ready.set()
                await asyncio.gather(*tasks)
                proxy.close()

            try:
                loop.run_until_complete(main())
            except BaseException as error:  # reported to start(), which re-raises in the caller's thread
                failure.append(error)
                ready.set()
            finally:
                loop.close()
                self._stopped.set()

        self._thread = threading.Thread(target=serve, name="mlops-standin", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failure:
            raise failure[0]
        self.ctx.stopping.clear()
        for runner in self.runners:
            runner.resume()
        return self

    def stop(self) -> None:
        """Stop the servers and every job and deployment process the stand-in started."""
        self.ctx.stopping.set()
        for runner in self.runners:
            with contextlib.suppress(Exception):
                runner.shutdown()
        for server in self._servers:
            server.should_exit = True
        if self._loop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._routes.abort_all)
        self._stopped.wait(10)

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what clients need --

    @property
    def proxy_url(self) -> str:
        """The proxy clients send every Azure request through."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def subscription_id(self) -> str:
        """The subscription the stand-in's service principal works in."""
        return self.ctx.subscription_id

    def client_environment(self) -> dict[str, str]:
        """Variables that point an unmodified Azure SDK client (and azure-identity) at this stand-in."""
        identity = self.ctx.identity
        return {
            "HTTPS_PROXY": self.proxy_url, "https_proxy": self.proxy_url,
            "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
            "REQUESTS_CA_BUNDLE": str(self.ca_bundle), "SSL_CERT_FILE": str(self.ca_bundle),
            "AZURE_TENANT_ID": identity.tenant_id, "AZURE_CLIENT_ID": identity.client_id,
            "AZURE_CLIENT_SECRET": identity.client_secret, "AZURE_SUBSCRIPTION_ID": self.ctx.subscription_id,
            # jobs.stream polls run history every 2-60 s by default; the stand-in's jobs take seconds.
            "AZUREML_RUN_POLLING_INTERVAL_MIN": "1", "AZUREML_RUN_POLLING_INTERVAL_MAX": "1",
            STANDIN_URL: self.proxy_url,
        }

    @contextlib.contextmanager
    def environment(self) -> Iterator[dict[str, str]]:
        """Set :meth:`client_environment` in ``os.environ`` for the block, then restore it."""
        variables = self.client_environment()
        saved = {k: os.environ.get(k) for k in variables}
        os.environ.update(variables)
        try:
            yield variables
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def credential(self) -> Any:
        """A real azure-identity ClientSecretCredential for the stand-in's service principal."""
        from azure.identity import ClientSecretCredential

        identity = self.ctx.identity
        return ClientSecretCredential(identity.tenant_id, identity.client_id, identity.client_secret)

    def ml_client(self, resource_group: str = "rg-standin", workspace: str = "ws-standin",
                  credential: Any = None) -> Any:
        """The unmodified azure-ai-ml MLClient for a workspace of this stand-in (needs :meth:`environment`)."""
        from azure.ai.ml import MLClient

        return MLClient(credential or self.credential(), self.ctx.subscription_id, resource_group, workspace)

    # -- faults and the request log --

    def inject(self, fault: str | Fault) -> Fault:
        """Arm a named fault (see ``mlops.standin.injection.FAULTS``)."""
        return self.ctx.faults.inject(fault)

    def clear(self, name: str | None = None) -> None:
        """Disarm one fault, or all; clearing killed-mid-rollout lets the caller (a re-run) in again."""
        self.ctx.faults.clear(name)
        if name in (None, "killed-mid-rollout"):
            self.ctx.caller_killed.clear()

    @property
    def caller_killed(self) -> threading.Event:
        """Set when killed-mid-rollout fired: a harness waits on it, then kills the caller's process."""
        return self.ctx.caller_killed

    def requests(self) -> list[LoggedRequest]:
        """Every request logged in this stand-in's state folder, oldest first."""
        return self.ctx.log.read()

    # -- internals --

    def _is_served(self, host: str) -> bool:
        return host in ("management.azure.com", "login.microsoftonline.com") or \
            host.endswith((".blob.core.windows.net", ".api.azureml.ms", f".{self.ctx.location}.inference.ml.azure.com"))

    def _refused(self, method: str, target: str) -> None:
        self.ctx.log.add(LoggedRequest(method, target, "", "", 403, "refused: not an Azure host the stand-in plays"))

    def _build_app(self) -> StandInApp:
        ctx = self.ctx
        login, arm, storage, history, scoring, control = (Router(not_found) for _ in range(6))
        ctx.identity.add_routes(login)
        workspace = Arm(ctx)
        workspace.add_routes(arm)
        lro.add_operation_routes(ctx, arm)
        job_runner = JobRunner(ctx)
        self.runners.append(job_runner)
        Jobs(ctx, workspace, job_runner).add_routes(arm)
        deployment_runner = DeploymentRunner(ctx)
        self.runners.append(deployment_runner)
        Endpoints(ctx, workspace, deployment_runner).add_routes(arm)
        Scoring(ctx, deployment_runner).add_routes(scoring)
        ctx.blobs.add_routes(storage)
        add_history_routes(ctx, history)
        add_control_routes(ctx, control)
        registries = Router(not_found)
        Registries(ctx).add_routes(registries)
        hosts = [HostRoutes(lambda h: h == "login.microsoftonline.com", login, "login"),
                 HostRoutes(lambda h: h == "management.azure.com", arm, "arm", lambda path: True),
                 HostRoutes(lambda h: h.endswith(".blob.core.windows.net"), storage, "blob"),
                 HostRoutes(lambda h: serves_registry_host(ctx, h), registries, "registry", lambda path: True),
                 HostRoutes(lambda h: h == ctx.history_host(), history, "history", lambda path: path != "/discovery"),
                 HostRoutes(lambda h: h.endswith(f".{ctx.location}.inference.ml.azure.com"), scoring, "scoring")]
        return StandInApp(hosts, ctx.log, ctx.faults, control, ctx.identity, ctx.caller_killed)


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` passes; return its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


__all__ = ["FAULTS", "StandIn", "wait_for"]
