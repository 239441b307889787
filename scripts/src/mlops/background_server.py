"""A model server left running in the background between notebook cells: start it, call it, stop it.

It is ``mlops.server_process.running_server`` held open (the same start, readiness wait and stop of
the whole process group as ``mlops api-test``), closed by ``stop()``, at the end of a ``with`` block,
or when the interpreter exits.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from typing import Any

from mlops.server_process import RunningServer


class BackgroundServer:
    """A local model server: ``url`` to send requests to, ``predict(payload)``, ``stop()`` and ``start()``;
    ``with arun.serve() as server:`` stops it when the block ends."""

    def __init__(self, serving: Callable[[], AbstractContextManager[RunningServer]]) -> None:
        self._serving = serving
        self._stack: ExitStack | None = None
        self._finalizer: weakref.finalize | None = None
        self.server: RunningServer | None = None

    def start(self) -> BackgroundServer:
        """Start the server (again, after ``stop()``) and wait until it is ready; nothing if it runs."""
        if self._stack is None:
            with ExitStack() as stack:
                self.server = stack.enter_context(self._serving())
                self._stack = stack.pop_all()
            self._finalizer = weakref.finalize(self, self._stack.close)  # also at exit: no server left behind
        return self

    def stop(self) -> None:
        """Stop the server and every process it started; nothing if it is stopped."""
        if self._finalizer is not None:
            self._finalizer()
        self._stack = self._finalizer = self.server = None

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self.server is not None and self.server.process.poll() is None

    @property
    def url(self) -> str:
        """Where predictions are requested (POST)."""
        if self.server is None:
            raise RuntimeError("the server is stopped: call start() first")
        return self.server.base_url + self.server.launch.adapter.predict_path

    def predict(self, payload: Any, timeout: float = 30.0) -> Any:
        """POST ``payload`` (as JSON, e.g. serving/sample-request.json's content) and return the answer's JSON."""
        import httpx

        answer = httpx.post(self.url, json=payload, timeout=timeout)
        answer.raise_for_status()
        return answer.json()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<BackgroundServer {self.url if self.server else 'stopped'}>"
