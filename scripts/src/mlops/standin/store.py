"""The stand-in's workspace state: ARM resources, operations and blob properties, kept in one JSON file.

Every change is written through (atomically: a temporary file renamed over ``state.json``), so a
second stand-in process started on the same ``--state`` folder sees the same workspace: a re-run of
``mlops train`` or ``mlops deploy`` meets what the first run left, as it would in Azure.
"""

from __future__ import annotations

import copy
import json
import os
import threading
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError

SECTIONS = ("resources", "operations", "blobs", "counters")


class Store:
    """A thread-safe dictionary of sections, persisted to ``directory/state.json``."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.file = directory / "state.json"
        self.lock = threading.RLock()
        directory.mkdir(parents=True, exist_ok=True)
        self.data: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
        if self.file.exists():
            try:
                self.data.update(json.loads(self.file.read_text(encoding="utf-8")))
            except ValueError as error:
                raise MlopsError(f"{self.file}:{getattr(error, 'lineno', 1)}: not a stand-in state file (invalid "
                                 "JSON): remove the state folder to start a fresh workspace") from None

    def get(self, section: str, key: str) -> Any:
        """A deep copy of one entry, or None."""
        with self.lock:
            value = self.data[section].get(key.lower())
            return copy.deepcopy(value)

    def put(self, section: str, key: str, value: Any) -> Any:
        """Store ``value`` under ``key`` (case-insensitive, like ARM ids) and persist."""
        with self.lock:
            self.data[section][key.lower()] = copy.deepcopy(value)
            self.save()
            return value

    def delete(self, section: str, key: str) -> Any:
        """Remove and return an entry (None when absent)."""
        with self.lock:
            value = self.data[section].pop(key.lower(), None)
            self.save()
            return value

    def children(self, section: str, collection: str) -> list[Any]:
        """Entries whose key is ``collection/<name>`` (one level down), in insertion order."""
        prefix = collection.lower().rstrip("/") + "/"
        with self.lock:
            return [copy.deepcopy(v) for k, v in self.data[section].items()
                    if k.startswith(prefix) and "/" not in k[len(prefix):]]

    def items(self, section: str) -> list[tuple[str, Any]]:
        """A snapshot of one section."""
        with self.lock:
            return copy.deepcopy(list(self.data[section].items()))

    def next_number(self, name: str) -> int:
        """1, 2, 3... per ``name``, persisted (model and code versions)."""
        with self.lock:
            number = int(self.data["counters"].get(name, 0)) + 1
            self.data["counters"][name] = number
            self.save()
            return number

    def save(self) -> None:
        """Write the state atomically."""
        with self.lock:
            scratch = self.file.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            scratch.write_text(json.dumps(self.data, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(scratch, self.file)
