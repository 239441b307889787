"""Run a model server as a child process: start it, wait until it is ready, and always stop all of it.

The server gets its own session (process group), so stopping it reaches every process it started
(gunicorn's workers, uvicorn's reloader) and nothing else. Stopping is in a ``finally``: a failed
check, an exception or Ctrl-C still leaves no process running and no port listening.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from mlops.errors import MlopsError
from mlops.serving import Launch

# A server of its own on Windows too, so a Ctrl-C meant for the toolkit does not reach it first.
NEW_PROCESS_GROUP = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)


@dataclass
class RunningServer:
    """A started server: its process, where to reach it and how long it took to answer ready."""

    launch: Launch
    process: subprocess.Popen
    log_file: Path
    ready_seconds: float = 0.0

    @property
    def base_url(self) -> str:
        """The server's address on this machine."""
        return self.launch.base_url


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could bind ``host:port`` now (nothing else holds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def port_is_listening(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


@contextmanager
def running_server(launch: Launch, log_file: Path, *, ready_timeout: float = 60.0,
                   log=print) -> Iterator[RunningServer]:
    """Start ``launch``, wait for its health route to say ready, yield it, then stop its whole process group."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "wb") as output:
        started = time.monotonic()
        process = subprocess.Popen(launch.command, cwd=launch.cwd, env=launch.env, stdout=output,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                   creationflags=NEW_PROCESS_GROUP)
        server = RunningServer(launch, process, log_file)
        try:
            log(f"{launch.adapter.name}: started process group {process.pid} on port {launch.port}")
            wait_until_ready(server, ready_timeout)
            server.ready_seconds = time.monotonic() - started
            yield server
        finally:
            stop(server)


def wait_until_ready(server: RunningServer, timeout: float) -> None:
    """Poll the health route until it answers 200; fail early if the process dies or reports a failed load."""
    url = server.base_url + server.launch.adapter.health_path
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise MlopsError(f"the {server.launch.adapter.name} server exited with code "
                                 f"{server.process.returncode} before it was ready:\n{log_tail(server.log_file)}")
            try:
                answer = client.get(url)
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            if answer.status_code == 200:
                return
            if answer.status_code == 503 and _json(answer).get("status") == "failed":
                raise MlopsError(f"the {server.launch.adapter.name} server is up but not ready: "
                                 f"{_json(answer).get('detail')}")
            time.sleep(0.05)
    raise MlopsError(f"the {server.launch.adapter.name} server was not ready within {timeout:.0f} s "
                     f"(GET {url}):\n{log_tail(server.log_file)}")


def stop(server: RunningServer, grace: float = 10.0) -> None:
    """Stop the server and every process it started (terminate, then kill after ``grace`` s); wait for its port."""
    process = server.process
    stop_processes(server_processes(process.pid), grace)
    process.wait()
    deadline = time.monotonic() + grace
    while server_processes(process.pid) or port_is_listening(server.launch.port):
        if time.monotonic() > deadline:
            raise MlopsError(f"the {server.launch.adapter.name} server (process group {process.pid}) did not stop: "
                             f"port {server.launch.port} is still in use")
        time.sleep(0.05)


def server_processes(pid: int) -> list[psutil.Process]:
    """The live processes of the server started as ``pid``: it, its descendants and, on POSIX, its process group.

    psutil finds them on every OS; the group (the server leads its own session on POSIX) also catches
    a worker whose parent died first.
    """
    found: dict[int, psutil.Process] = {}
    with suppress(psutil.Error):
        root = psutil.Process(pid)
        found.update({p.pid: p for p in (root, *root.children(recursive=True))})
    if hasattr(os, "getpgid"):
        for candidate in psutil.process_iter():
            with suppress(OSError, psutil.Error):
                if candidate.pid not in found and os.getpgid(candidate.pid) == pid:
                    found[candidate.pid] = candidate
    return [p for p in found.values() if _alive(p)]


def group_members(pid: int) -> list[int]:
    """The process ids :func:`server_processes` finds for ``pid`` (what a test checks is gone)."""
    return sorted(p.pid for p in server_processes(pid))


def stop_processes(processes: list[psutil.Process], grace: float) -> None:
    """Terminate ``processes``, and kill those still running after ``grace`` seconds."""
    for process in processes:
        with suppress(psutil.Error):
            process.terminate()
    _, alive = psutil.wait_procs(processes, timeout=grace)
    for process in alive:
        with suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(alive, timeout=grace)


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def log_tail(path: Path, lines: int = 20) -> str:
    """The last lines of a server log, to show why it failed."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def _json(answer: httpx.Response) -> dict:
    try:
        data = answer.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class LogFollower:
    """Reads what a server appends to its log file, a piece at a time."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0

    def new_text(self) -> str:
        """What the log gained since the last call."""
        try:
            with open(self.path, "rb") as log:
                log.seek(self.offset)
                data = log.read()
        except OSError:
            return ""
        self.offset += len(data)
        return data.decode("utf-8", errors="replace")
