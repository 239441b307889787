"""The request log: one JSON line per request the stand-in answered (method, host, path, api-version, status).

It is what `mlops rehearse` prints and what tests read to prove which REST calls the SDK made.
Query strings other than ``api-version`` are left out: SAS tokens travel in them.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class LoggedRequest:
    """One answered (or refused) request."""

    method: str
    host: str
    path: str
    api_version: str
    status: int
    fault: str = ""

    def line(self) -> str:
        """``METHOD host/path (api-version) -> status``, the form printed for people."""
        version = f" api-version={self.api_version}" if self.api_version else ""
        fault = f" [fault {self.fault}]" if self.fault else ""
        return f"{self.method} {self.host}{self.path}{version} -> {self.status}{fault}"


class RequestLog:
    """Appends to ``file`` and keeps the entries of this process in memory."""

    def __init__(self, file: Path):
        self.file = file
        self.entries: list[LoggedRequest] = []
        self._lock = threading.Lock()

    def add(self, entry: LoggedRequest) -> None:
        """Record one request."""
        with self._lock:
            self.entries.append(entry)
            with open(self.file, "a", encoding="utf-8") as out:
                out.write(json.dumps({"time": round(time.time(), 3), **asdict(entry)}) + "\n")

    def read(self) -> list[LoggedRequest]:
        """Every entry in the file (all processes that used this state folder)."""
        if not self.file.exists():
            return []
        fields = set(LoggedRequest.__dataclass_fields__)
        return [LoggedRequest(**{k: v for k, v in json.loads(line).items() if k in fields})
                for line in self.file.read_text(encoding="utf-8").splitlines() if line.strip()]
