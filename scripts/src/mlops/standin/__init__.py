"""A local stand-in of Azure ML that the unmodified azure-ai-ml client talks to over HTTPS.

Start it with ``python -m mlops.standin --port 0 --state DIR`` or, from Python::

    with StandIn(state_dir) as standin, standin.environment():
        client = standin.ml_client("rg", "ws")      # a real MLClient with a real azure-identity credential

It answers for management.azure.com (ARM), login.microsoftonline.com, the storage account and the
regional run-history and scoring hosts through a CONNECT proxy on 127.0.0.1; jobs run locally in the
smoke run's environment, deployments run score.py under azmlinfsrv. Faults are named in
:data:`mlops.standin.faults.FAULTS`. See notes/STANDIN.md for usage.
"""

from mlops.standin.faults import FAULTS, Fault, parse_fault
from mlops.standin.server import StandIn

__all__ = ["FAULTS", "Fault", "StandIn", "parse_fault"]
