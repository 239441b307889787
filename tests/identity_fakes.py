"""Local doubles of GitHub's ID token endpoint (HTTP) and Entra ID's token endpoint (HTTPS), on 127.0.0.1.

The Entra ID double checks a client assertion the way a federated credential does (issuer, audience,
exact subject, expiry) and answers with Entra ID's own error codes; it does not verify the JWT's
signature, which a local double has no key for. ``loopback_only`` makes any connection or name lookup
to another host fail the test, so nothing here can reach Azure, GitHub or 169.254.169.254.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
AUDIENCE = "api://AzureADTokenExchange"
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture
def loopback_only(monkeypatch):
    """Fail on any connection or DNS lookup that is not to this machine."""
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(sock, address):
        if isinstance(address, tuple) and address[0] not in LOOPBACK:
            raise AssertionError(f"test tried to reach {address[0]}:{address[1]}")
        return real_connect(sock, address)

    def getaddrinfo(host, *args, **kwargs):
        if host not in LOOPBACK and host is not None:
            raise AssertionError(f"test tried to resolve {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(claims: dict) -> str:
    """An unsigned-looking JWT with ``claims`` (the double does not check signatures)."""
    header = {"alg": "RS256", "typ": "JWT", "kid": "fake"}
    return ".".join([_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()), _b64(b"sig")])


def jwt_claims(token: str) -> dict:
    """The payload of a JWT, without verification."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class _Server:
    """A threaded HTTP(S) server on 127.0.0.1 with a free port, serving ``handle(request) -> (status, body)``."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

            def _answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                status, payload = owner.handle(method, self.path, dict(self.headers), body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._answer("GET")

            def do_POST(self) -> None:
                self._answer("POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.requests: list[tuple[str, str, dict, str]] = []
        self.httpd.block_on_close = False
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def handle(self, method: str, path: str, headers: dict, body: str) -> tuple[int, dict]:
        raise NotImplementedError

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class FakeGitHubTokenService(_Server):
    """GitHub's ``ACTIONS_ID_TOKEN_REQUEST_URL``: a new ID token for the job's subject on every request."""

    def __init__(self, subject: str, request_token: str = "request-token-for-this-job",
                 lifetime_seconds: int = 300) -> None:
        super().__init__()
        self.subject = subject
        self.request_token = request_token
        self.lifetime_seconds = lifetime_seconds
        self.issued: list[str] = []
        self.request_url = f"http://127.0.0.1:{self.port}/_apis/distributedtask/token?api-version=2.0"

    def handle(self, method, path, headers, body):
        self.requests.append((method, path, headers, body))
        if headers.get("Authorization") != f"bearer {self.request_token}":
            return 401, {"message": "bad request token"}
        audience = parse_qs(urlsplit(path).query).get("audience", [GITHUB_ISSUER])[0]
        now = int(time.time())
        token = make_jwt({"iss": GITHUB_ISSUER, "aud": audience, "sub": self.subject, "iat": now,
                          "nbf": now, "exp": now + self.lifetime_seconds, "jti": f"id-{len(self.issued)}"})
        self.issued.append(token)
        return 200, {"count": 1, "value": token}


@dataclass
class App:
    """An app registration as the double knows it."""

    client_id: str
    tenant_id: str
    subjects: list[str] = field(default_factory=list)
    client_secret: str | None = None


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-entra-id")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                    x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "entra-cert.pem", folder / "entra-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class FakeEntraId(_Server):
    """Entra ID's token endpoint and OpenID discovery for one app, over HTTPS with a self-signed cert."""

    def __init__(self, app: App, cert: Path, key: Path, expires_in: int = 3600) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        super().__init__(tls=context)
        self.app = app
        self.expires_in = expires_in
        self.authority = f"https://127.0.0.1:{self.port}"
        self.assertions: list[str] = []
        self.issued: list[str] = []

    def handle(self, method, path, headers, body):
        self.requests.append((method, path, headers, body))
        route = urlsplit(path).path
        tenant = self.app.tenant_id
        if method == "GET" and route == f"/{tenant}/v2.0/.well-known/openid-configuration":
            base = f"{self.authority}/{tenant}"
            return 200, {"token_endpoint": f"{base}/oauth2/v2.0/token",
                         "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                         "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                         "issuer": f"{base}/v2.0", "jwks_uri": f"{base}/discovery/v2.0/keys"}
        if method == "POST" and route.endswith("/oauth2/v2.0/token"):
            if route != f"/{tenant}/oauth2/v2.0/token":
                return _error(400, 90002, f"Tenant '{route.split('/')[1]}' not found.")
            return self._token(parse_qs(body))
        return 404, {"error": "not_found", "error_description": f"the double has no {method} {route}"}

    def _token(self, form: dict[str, list[str]]) -> tuple[int, dict]:
        value = {key: values[0] for key, values in form.items()}
        if value.get("client_id") != self.app.client_id:
            return _error(400, 700016, f"Application with identifier '{value.get('client_id')}' was not "
                                       "found in the directory.")
        if "client_assertion" in value:
            problem = self._check_assertion(value["client_assertion"])
        elif "client_secret" in value:
            problem = None if value["client_secret"] == self.app.client_secret else \
                (401, 7000215, "Invalid client secret provided.")
        else:
            problem = (400, 7000216, "'client_assertion', 'client_secret' or 'request' is required.")
        if problem:
            return _error(*problem)
        token = f"fake-access-token-{len(self.issued)}"
        self.issued.append(token)
        return 200, {"token_type": "Bearer", "expires_in": self.expires_in, "ext_expires_in": self.expires_in,
                     "access_token": token}

    def _check_assertion(self, assertion: str) -> tuple[int, int, str] | None:
        self.assertions.append(assertion)
        claims = jwt_claims(assertion)
        if claims.get("exp", 0) < time.time():
            return 400, 700024, "Client assertion is not within its valid time range."
        if claims.get("iss") != GITHUB_ISSUER or claims.get("aud") != AUDIENCE:
            return 400, 70021, ("No matching federated identity record found for presented assertion. "
                                f"Assertion Issuer: '{claims.get('iss')}'. Assertion Audience: '{claims.get('aud')}'.")
        subject = claims.get("sub", "")
        if subject in self.app.subjects:
            return None
        if subject.lower() in (s.lower() for s in self.app.subjects):
            return 400, 7002138, ("No matching federated identity record found for presented assertion subject "
                                  f"'{subject}'. Matching is case-sensitive.")
        return 400, 700213, f"No matching federated identity record found for presented assertion subject '{subject}'."


def _error(status: int, code: int, text: str) -> tuple[int, dict]:
    return status, {"error": "invalid_client" if status == 401 or code != 90002 else "invalid_request",
                    "error_description": f"AADSTS{code}: {text} Trace ID: 0000 Correlation ID: 0000",
                    "error_codes": [code]}
