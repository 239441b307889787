"""Choose how to log in to Azure: GitHub OIDC in Actions, a service principal from .env, or ``az login``.

Every command that talks to Azure calls :func:`get_credential` and passes the result to its client.
In GitHub Actions the credential fetches a fresh GitHub ID token each time azure-identity needs a new
Azure token, so a job that outlives one ID token (about 5 minutes) or one Azure token (about an hour)
never presents an expired assertion (AADSTS700024), unlike ``azure/login`` with the Azure CLI, which
cannot refresh (Azure/login#372). No path ever prints, logs or puts a token or secret in an error.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from azure.core.exceptions import ClientAuthenticationError
from azure.identity import (
    AzureAuthorityHosts,
    ClientAssertionCredential,
    ClientSecretCredential,
    DefaultAzureCredential,
)

from mlops.aadsts import explain
from mlops.errors import MlopsError

GITHUB_AUDIENCE = "api://AzureADTokenExchange"
REQUEST_URL = "ACTIONS_ID_TOKEN_REQUEST_URL"
REQUEST_TOKEN = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
GITHUB_TIMEOUT_SECONDS = 30.0

GITHUB_OIDC = "GitHub OIDC (ClientAssertionCredential with a fresh GitHub ID token per Azure token)"
DOTENV_SERVICE_PRINCIPAL = "service principal from .env (ClientSecretCredential, laptop only)"
DEFAULT_CHAIN = "DefaultAzureCredential (az login, managed identity, environment variables)"


class LoginError(MlopsError, ClientAuthenticationError):
    """A login failed; the text names the path tried, what is missing and what to do, never a secret.

    It is also a ``ClientAuthenticationError``, so Azure SDK clients treat it as they treat any
    authentication failure (no retries).
    """

    def __init__(self, message: str, *, detail: str = "") -> None:
        ClientAuthenticationError.__init__(self, message=message)
        self.detail = detail  # azure-identity's own account of the failure, for `mlops --debug`

    def __str__(self) -> str:
        return self.message


def fetch_github_id_token(request_url: str, request_token: str, audience: str = GITHUB_AUDIENCE) -> str:
    """Ask GitHub's token service for a new ID token for ``audience`` and return the JWT.

    The request URL already carries a query string; the audience is appended to it.
    """
    import httpx

    separator = "&" if "?" in request_url else "?"
    url = f"{request_url}{separator}audience={quote(audience, safe='')}"
    where = f"login ({GITHUB_OIDC}): requesting a GitHub ID token"
    try:
        response = httpx.get(url, headers={"Authorization": f"bearer {request_token}"},
                             timeout=GITHUB_TIMEOUT_SECONDS)
    except httpx.HTTPError as error:
        raise LoginError(f"{where}: {type(error).__name__}: the runner could not reach "
                         f"{REQUEST_URL}; rerun the job") from None
    if response.status_code != 200:
        raise LoginError(f"{where}: GitHub answered HTTP {response.status_code}: the request token is "
                         "invalid or expired, or the job lacks `permissions: id-token: write`")
    try:
        value = response.json()["value"]
    except (ValueError, KeyError, TypeError):
        value = None
    if not isinstance(value, str) or not value:
        raise LoginError(f"{where}: GitHub's answer has no `value` field: is {REQUEST_URL} GitHub's "
                         "token endpoint?")
    return value


class _ExplainsFailures:
    """Mixin: turn an authentication failure into a :class:`LoginError` naming the path and the fix."""

    login_path = ""

    def get_token(self, *scopes: str, **kwargs: Any):
        """As azure-identity's, with failures explained."""
        return self._explaining(super().get_token, scopes, kwargs)  # type: ignore[misc]

    def get_token_info(self, *scopes: str, **kwargs: Any):
        """As azure-identity's, with failures explained."""
        return self._explaining(super().get_token_info, scopes, kwargs)  # type: ignore[misc]

    def _explaining(self, method: Any, scopes: tuple[str, ...], kwargs: dict[str, Any]) -> Any:
        try:
            return method(*scopes, **kwargs)
        except LoginError:
            raise
        except ClientAuthenticationError as error:
            raise self._explained(error) from None

    def _explained(self, error: ClientAuthenticationError) -> LoginError:
        detail = " ".join(str(error.message or error).split())
        hints = explain(detail)
        return LoginError(f"login ({self.login_path}) failed: {detail}"
                          + "".join(f"\n  {hint}" for hint in hints))


class GitHubOidcCredential(_ExplainsFailures, ClientAssertionCredential):
    """``ClientAssertionCredential`` whose assertion is a GitHub ID token fetched anew on every call."""

    login_path = GITHUB_OIDC

    def __init__(self, tenant_id: str, client_id: str, request_url: str, request_token: str,
                 **kwargs: Any) -> None:
        def assertion() -> str:
            return fetch_github_id_token(request_url, request_token)

        super().__init__(tenant_id, client_id, assertion, **kwargs)


class DotenvServicePrincipalCredential(_ExplainsFailures, ClientSecretCredential):
    """``ClientSecretCredential`` for a service principal whose secret sits in a local .env file."""

    login_path = DOTENV_SERVICE_PRINCIPAL


class LaptopCredential(_ExplainsFailures, DefaultAzureCredential):
    """``DefaultAzureCredential``: ``az login`` on a laptop, managed identity on Azure compute.

    Its failure lists every credential of the chain (about 1,800 characters); the user needs the first
    thing to do, so the message starts with it and the chain's account waits for ``--debug``.
    """

    login_path = DEFAULT_CHAIN

    def _explained(self, error: ClientAuthenticationError) -> LoginError:
        detail = " ".join(str(error.message or error).split())
        hints = "".join(f"\n  {hint}" for hint in explain(detail))
        return LoginError(f"{laptop_login_fix(shutil.which('az') is not None)} (the login through "
                          f"{DEFAULT_CHAIN.split(' (')[0]} failed; `mlops --debug` shows why){hints}",
                          detail=detail)


def laptop_login_fix(has_az: bool) -> str:
    """What to do first when no credential works on a laptop, depending on whether ``az`` is installed."""
    service_principal = "or put a service principal in .env (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_CLIENT_SECRET)"
    if has_az:
        return f"log in to Azure first: run `az login`, {service_principal}"
    return ("log in to Azure first: install the Azure CLI (https://aka.ms/installazurecli) and run `az login`, "
            f"{service_principal}")


def get_credential(environ: Mapping[str, str] = os.environ,
                   settings: Mapping[str, str] | None = None) -> Any:
    """The azure-identity credential for where this runs; raise :class:`LoginError` if it cannot work.

    ``settings`` holds lower-case ``client_id``, ``tenant_id``, ``client_secret`` from a local .env
    (default: :class:`mlops.config.AzureConfig` of the current folder). Order: GitHub OIDC when running
    in Actions; a service principal from ``settings`` when it has a secret (never in Actions); else
    ``DefaultAzureCredential``. ``AZURE_AUTHORITY_HOST`` moves the token endpoint (sovereign clouds).
    """
    authority = environ.get("AZURE_AUTHORITY_HOST") or None
    options = _authority_options(authority)
    in_actions = environ.get("GITHUB_ACTIONS") == "true"
    has_request = bool(environ.get(REQUEST_URL)) or bool(environ.get(REQUEST_TOKEN))
    if in_actions or has_request:
        oidc = _github_oidc(environ, options, in_actions)
        if oidc is not None:
            return oidc
    if settings is None:
        from mlops.config import AzureConfig

        settings = AzureConfig(environ=environ)
    if settings.get("client_secret"):
        if in_actions:
            raise LoginError(f"login ({DOTENV_SERVICE_PRINCIPAL}): a client secret is configured in GitHub "
                             "Actions: CI logs in with OIDC only; give the job `permissions: id-token: write` "
                             "and the AZURE_CLIENT_ID and AZURE_TENANT_ID secrets instead")
        return _dotenv_service_principal(settings, options)
    return LaptopCredential(**({"authority": authority} if authority else {}))


SOVEREIGN_CLOUDS = {"login.chinacloudapi.cn": "AzureChinaCloud", "login.microsoftonline.us": "AzureUSGovernment"}


def cloud_of(authority: str | None) -> str | None:
    """The azure-ai-ml cloud name (``MLClient(cloud=...)``) of a sovereign cloud's authority host, else ``None``.

    The login follows ``AZURE_AUTHORITY_HOST``; the workspace calls must go to the same cloud's
    management endpoint, which ``MLClient`` only knows from its ``cloud`` argument.
    """
    host = (authority or "").split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].lower()
    return SOVEREIGN_CLOUDS.get(host)


def _authority_options(authority: str | None) -> dict[str, Any]:
    """Keyword arguments for an authority host other than public Azure.

    MSAL validates an authority it does not know by asking login.microsoftonline.com about it; a host
    the user named explicitly that is not one of Azure's clouds (Azure Stack, a local test double) is
    trusted instead, so the login never reaches a host nobody named.
    """
    if not authority:
        return {}
    known = {value for name, value in vars(AzureAuthorityHosts).items() if name.isupper()}
    host = authority.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].lower()
    return {"authority": authority, "disable_instance_discovery": host not in known}


def _github_oidc(environ: Mapping[str, str], options: dict[str, Any],
                 in_actions: bool) -> GitHubOidcCredential | None:
    """The GitHub OIDC credential, ``None`` when this Actions job is not set up to log in with OIDC."""
    where = f"login ({GITHUB_OIDC})"
    if in_actions and environ.get("AZURE_CLIENT_SECRET"):
        raise LoginError(f"{where}: AZURE_CLIENT_SECRET is set in GitHub Actions: this repo logs in with "
                         "OIDC federated credentials, never a client secret; remove the secret from the "
                         "workflow and delete it from the repository's secrets")
    ids = [name for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID") if not environ.get(name)]
    request = [name for name in (REQUEST_URL, REQUEST_TOKEN) if not environ.get(name)]
    if not ids and not request:
        return GitHubOidcCredential(environ["AZURE_TENANT_ID"], environ["AZURE_CLIENT_ID"],
                                    environ[REQUEST_URL], environ[REQUEST_TOKEN],
                                    **{key: value for key, value in options.items()
                                       if key == "authority"})
    if len(request) < 2 and not ids:
        raise LoginError(f"{where}: {' and '.join(request)} is not set while the other is: the runner "
                         "gave this job a broken ID token request; rerun the job")
    if request and not ids:
        raise LoginError(f"{where}: AZURE_CLIENT_ID is set but {' and '.join(request)} are not: the "
                         "workflow's job lacks `permissions: id-token: write` (or this is a pull request "
                         "from a fork, which gets no ID token); add it to the job that logs in")
    if not request:
        raise LoginError(f"{where}: the job can request an ID token but {' and '.join(ids)} "
                         f"{'is' if len(ids) == 1 else 'are'} not set: pass the repository secrets to the "
                         "step (`env: AZURE_CLIENT_ID: ${{ secrets.AZURE_CLIENT_ID }}`, same for "
                         "AZURE_TENANT_ID) and create them with `mlops bootstrap-oidc`")
    return None  # an Actions job with neither: e.g. a self-hosted runner with a managed identity


def _dotenv_service_principal(settings: Mapping[str, str],
                              options: dict[str, Any]) -> DotenvServicePrincipalCredential:
    """The service principal of a local .env, or an error naming the keys it lacks."""
    missing = [f"AZURE_{key.upper()}" for key in ("client_id", "tenant_id") if not settings.get(key)]
    if missing:
        raise LoginError(f"login ({DOTENV_SERVICE_PRINCIPAL}): .env has a client secret but no "
                         f"{' or '.join(missing)}: add {'them' if len(missing) > 1 else 'it'} to .env, or "
                         "remove AZURE_CLIENT_SECRET to log in with `az login`")
    return DotenvServicePrincipalCredential(settings["tenant_id"], settings["client_id"],
                                            settings["client_secret"], **options)
