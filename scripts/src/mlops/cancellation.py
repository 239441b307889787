"""Turn a cancelled GitHub job into an exception, so a release can put things back before the process ends.

When a run is cancelled or reaches its ``timeout-minutes``, the runner sends SIGINT, about 7.5 s later
SIGTERM, and about 2.5 s after that kills the process. Inside :func:`cancellable` the first of those
signals raises :class:`Cancelled` in the main thread wherever the command is (waiting on Azure, polling,
sleeping between rollout steps); later ones are ignored so the clean-up itself is not interrupted.
The clean-up must therefore be quick: send the request that restores the state, not wait for it.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

from mlops.errors import MlopsError

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Cancelled(MlopsError):
    """The job was cancelled (SIGINT or SIGTERM) while the command ran."""

    exit_code = 130


@contextmanager
def cancellable(command: str) -> Iterator[None]:
    """Within the block, SIGINT or SIGTERM raises :class:`Cancelled` once, naming ``command`` and the signal."""
    received: list[int] = []

    def handler(signum: int, frame: object) -> None:
        received.append(signum)
        if len(received) == 1:
            raise Cancelled(f"{command}: cancelled ({signal.Signals(signum).name})")

    previous = {number: signal.signal(number, handler) for number in SIGNALS}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
