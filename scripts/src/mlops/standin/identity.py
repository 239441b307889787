"""Microsoft Entra ID as the SDK meets it: OpenID metadata, instance discovery and the token endpoint.

azure-identity (through MSAL) reads ``/{tenant}/v2.0/.well-known/openid-configuration`` and posts
client credentials to ``/{tenant}/oauth2/v2.0/token``. The stand-in accepts its own service
principal's secret, or any client assertion shaped like a JWT (what ``ClientAssertionCredential``
sends from GitHub's OIDC token), and issues HS256-signed JWTs that the ARM routes verify: a request
without a token it issued gets 401, as Azure would answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from mlops.standin.routing import HttpError, Router, json_response

LOGIN_HOST = "login.microsoftonline.com"
AUDIENCE = "https://management.azure.com"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Identity:
    """The stand-in's tenant and its one service principal (client id + secret)."""

    tenant_id: str
    client_id: str
    client_secret: str
    signing_key: bytes
    token_seconds: int = 3600

    @classmethod
    def create(cls, tenant_id: str) -> Identity:
        """A fresh service principal and signing key."""
        return cls(tenant_id, str(uuid.uuid4()), secrets.token_urlsafe(24), secrets.token_bytes(32))

    def issue(self, subject: str, audience: str = AUDIENCE) -> str:
        """A signed access token for ``subject``."""
        now = int(time.time())
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        claims = {"aud": audience, "iss": f"https://sts.windows.net/{self.tenant_id}/", "iat": now, "nbf": now,
                  "exp": now + self.token_seconds, "oid": subject, "sub": subject, "appid": self.client_id,
                  "tid": self.tenant_id, "upn": f"{subject}@standin"}
        payload = _b64(json.dumps(claims).encode())
        signature = _b64(hmac.new(self.signing_key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        return f"{header}.{payload}.{signature}"

    def verify(self, authorization: str | None) -> dict:
        """The claims of a bearer token this stand-in issued; else HttpError 401."""
        scheme, _, token = (authorization or "").partition(" ")
        parts = token.split(".")
        if scheme.lower() != "bearer" or len(parts) != 3:
            raise HttpError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is "
                            "missing or not a bearer token.", {"WWW-Authenticate": "Bearer"})
        expected = _b64(hmac.new(self.signing_key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, parts[2]):
            raise HttpError(401, "InvalidAuthenticationToken", "The access token is invalid (not issued by "
                            "this stand-in).", {"WWW-Authenticate": "Bearer"})
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        if claims["exp"] < time.time():
            raise HttpError(401, "ExpiredAuthenticationToken", "The access token expiry UTC time is earlier "
                            "than the current UTC time.", {"WWW-Authenticate": "Bearer"})
        return claims

    def add_routes(self, router: Router) -> None:
        """The login host's routes."""
        router.add("GET", r"/(?P<tenant>[^/]+)/v2\.0/\.well-known/openid-configuration", self.openid_configuration)
        router.add("GET", r"/common/discovery/instance", self.instance_discovery)
        router.add("POST", r"/(?P<tenant>[^/]+)/oauth2/v2\.0/token", self.token)

    def openid_configuration(self, request: Request) -> Response:
        tenant = request.path_params["tenant"]
        base = f"https://{LOGIN_HOST}/{tenant}"
        return json_response({
            "token_endpoint": f"{base}/oauth2/v2.0/token", "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "issuer": f"https://{LOGIN_HOST}/{tenant}/v2.0", "device_authorization_endpoint":
                f"{base}/oauth2/v2.0/devicecode", "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "tenant_region_scope": "EU", "cloud_instance_name": "microsoftonline.com",
        })

    def instance_discovery(self, request: Request) -> Response:
        return json_response({
            "tenant_discovery_endpoint": f"https://{LOGIN_HOST}/common/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [{"preferred_network": LOGIN_HOST, "preferred_cache": LOGIN_HOST, "aliases": [LOGIN_HOST]}],
        })

    async def token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        tenant = request.path_params["tenant"]
        if tenant not in (self.tenant_id, "organizations"):
            return self._refuse(400, "invalid_request", f"AADSTS90002: Tenant '{tenant}' not found.")
        if form.get("grant_type") != "client_credentials":
            return self._refuse(400, "unsupported_grant_type", "AADSTS70003: the stand-in supports the "
                                "client_credentials grant only.")
        if form.get("client_id") != self.client_id:
            return self._refuse(400, "unauthorized_client", f"AADSTS700016: Application with identifier "
                                f"'{form.get('client_id')}' was not found in the directory '{tenant}'.")
        assertion = str(form.get("client_assertion") or "")
        if assertion:
            if assertion.count(".") != 2:
                return self._refuse(401, "invalid_client", "AADSTS50027: JWT token is invalid or malformed.")
        elif not hmac.compare_digest(str(form.get("client_secret") or ""), self.client_secret):
            return self._refuse(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
        scope = str(form.get("scope") or "")
        audience = scope.split()[0].removesuffix("/.default") if scope else AUDIENCE
        return json_response({"token_type": "Bearer", "expires_in": self.token_seconds,
                              "ext_expires_in": self.token_seconds,
                              "access_token": self.issue(self.client_id, audience)})

    @staticmethod
    def _refuse(status: int, error: str, description: str) -> Response:
        return json_response({"error": error, "error_description": description, "error_codes":
                              [int(description[6:description.index(":")])]}, status)
