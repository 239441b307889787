"""Send this process the signals a GitHub runner sends when it cancels a job."""

from __future__ import annotations

import os
import threading
import time


def signal_when(condition, signum: int) -> threading.Thread:
    """A thread that sends ``signum`` to this process, as the runner does on cancel, once ``condition()`` holds."""
    def watch():
        deadline = time.monotonic() + 60
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signum)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread
