"""Send a request to one deployment of an online endpoint, with the endpoint's key, and read the answer.

``online_endpoints.invoke`` is not used: it parses an error body as ``{"error": {"message": ...}}``,
so the scoring contract's 4xx (``{"error": "<code>", "detail": ...}``) raises ``AttributeError``
inside the SDK, and a non-JSON 502/504 from the gateway becomes an ``MlException`` without a status
code, which no retry can recognise. The SDK's own calls still find the scoring URI and the key; the
request itself is one httpx POST, whose status and body are reported as they are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlops.azureml.retry import RetryPolicy, call
from mlops.errors import MlopsError

TIMEOUT_SECONDS = 90.0


class ScoringError(MlopsError):
    """The deployment answered with an error status; ``status_code`` lets the retry see 502/503/504."""

    def __init__(self, deployment: str, status_code: int, body: str, response: Any = None):
        super().__init__(f"deployment {deployment} answered {status_code}: {' '.join(body.split())[:300]}")
        self.status_code, self.response = status_code, response


def endpoint_key(client: Any, endpoint_name: str, policy: RetryPolicy, log=print) -> str:
    """The key (or token) a request to the endpoint presents."""
    keys = call(policy, f"online_endpoints.get_keys {endpoint_name}", client.online_endpoints.get_keys,
                endpoint_name, log=log)
    return getattr(keys, "primary_key", None) or getattr(keys, "access_token", None) or ""


def score_deployment(client: Any, endpoint_name: str, deployment_name: str, request_file: Path, policy: RetryPolicy,
          log=print, timeout: float = TIMEOUT_SECONDS) -> str:
    """POST ``request_file`` to ``deployment_name`` behind the endpoint; its answer, or :class:`ScoringError`."""
    import httpx

    endpoint = call(policy, f"online_endpoints.get {endpoint_name}", client.online_endpoints.get, endpoint_name,
                    log=log)
    key = endpoint_key(client, endpoint_name, policy, log)
    headers = {"Content-Type": "application/json", "azureml-model-deployment": deployment_name}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    body = request_file.read_bytes()

    def post() -> str:
        try:
            response = httpx.post(endpoint.scoring_uri, content=body, headers=headers, timeout=timeout)
        except httpx.TimeoutException:
            raise ScoringError(deployment_name, 408, f"no answer within {timeout:g} s") from None
        except httpx.TransportError as error:
            raise ScoringError(deployment_name, 503, f"could not connect ({type(error).__name__})") from None
        if response.status_code >= 400:
            raise ScoringError(deployment_name, response.status_code, response.text, response)
        return response.text

    return call(policy, f"score {deployment_name}", post, log=log)
