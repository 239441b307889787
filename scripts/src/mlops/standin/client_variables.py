"""The variables that point a client at a stand-in, and an environment without them.

Kept apart from the stand-in's server so that the toolkit's environment builder can leave them out
without importing the server.
"""

from __future__ import annotations

import os

PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
STANDIN_URL = "MLOPS_STANDIN_URL"


def outside_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for processes that must not go through a stand-in (environment builds, jobs, model servers).

    When the calling process was pointed at a stand-in (``MLOPS_STANDIN_URL``), the proxy and CA
    variables that point at it are removed: uv must reach the package index as it would without a
    stand-in, and a job or model server must not talk to the stand-in. A proxy of the user's own is kept.
    """
    env = dict(os.environ if environ is None else environ)
    standin = env.pop(STANDIN_URL, "")
    if standin:
        for key in PROXY_VARIABLES:
            if env.get(key, "").rstrip("/") == standin.rstrip("/"):
                del env[key]
        for key in CA_VARIABLES:
            if env.get(key, "").endswith(os.path.join("tls", "ca.pem")):
                del env[key]
    env.pop("AZURE_CLIENT_SECRET", None)
    return env
