"""The stand-in's certificate authority and the one server certificate for every Azure host it plays.

Azure SDK clients refuse a bearer token over plain HTTP, so the stand-in speaks HTTPS. A fresh CA
(trustme) signs one certificate naming every host a client is sent to through the proxy; the client
trusts that CA through ``REQUESTS_CA_BUNDLE`` / ``SSL_CERT_FILE`` and nothing else changes.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme


def served_hosts(region: str) -> tuple[str, ...]:
    """Hosts the SDK reaches: ARM, login, storage accounts, regional run history, scoring URIs."""
    return ("management.azure.com", "login.microsoftonline.com", "*.blob.core.windows.net", "*.api.azureml.ms",
            f"*.{region}.inference.ml.azure.com", "localhost", "127.0.0.1")


@dataclass(frozen=True)
class Certificates:
    """Where the CA bundle (for clients) and the server's chain and key (for the server) were written."""

    ca_bundle: Path
    server_chain: Path
    server_key: Path

    def server_context(self) -> ssl.SSLContext:
        """A TLS server context presenting the stand-in's certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.server_chain, self.server_key)
        return context


def issue_certificates(directory: Path, hosts: tuple[str, ...]) -> Certificates:
    """Create a CA and a certificate for ``hosts`` in ``directory`` (replacing earlier ones)."""
    directory.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA(organization_name="mlops stand-in")
    leaf = authority.issue_cert(*hosts)
    certificates = Certificates(directory / "ca.pem", directory / "server-chain.pem", directory / "server-key.pem")
    authority.cert_pem.write_to_path(str(certificates.ca_bundle))
    with open(certificates.server_chain, "wb") as chain:
        for blob in leaf.cert_chain_pems:
            chain.write(blob.bytes())
    leaf.private_key_pem.write_to_path(str(certificates.server_key))
    certificates.server_key.chmod(0o600)
    return certificates
