"""A local stand-in of Azure ML that the unmodified azure-ai-ml client talks to over HTTPS.

Start it with ``python -m mlops.standin --port 0 --state DIR`` or, from Python::

    with StandIn(state_dir) as standin, standin.environment():
        client = standin.ml_client("rg", "ws")      # a real MLClient with a real azure-identity credential

It answers for management.azure.com (ARM), login.microsoftonline.com, the storage account and the
regional run-history and scoring hosts through a CONNECT proxy on 127.0.0.1; jobs run locally in the
smoke run's environment, deployments run score.py under azmlinfsrv. Faults are named in
:data:`mlops.standin.injection.FAULTS`. See notes/STANDIN.md for usage.

The names below are imported on first use: a child process that runs one module of this package
(the environment builder) must not pay for the server's imports.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {"FAULTS": "mlops.standin.injection", "Fault": "mlops.standin.injection",
            "parse_fault": "mlops.standin.injection", "StandIn": "mlops.standin.server"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'mlops.standin' has no attribute {name!r}")
