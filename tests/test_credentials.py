"""Each login path of ``mlops.credentials.get_credential``, run for real against local doubles.

GitHub OIDC: azure-identity's ClientAssertionCredential fetches an ID token from a local double of
GitHub's token service and exchanges it at a local HTTPS double of Entra ID (AZURE_AUTHORITY_HOST and
REQUESTS_CA_BUNDLE point at it). Service principal: MSAL's discovery and client-secret exchange against
the same double. Laptop: DefaultAzureCredential runs a fake ``az`` on PATH.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest
from azure.identity import (
    ClientAssertionCredential,
    ClientSecretCredential,
    DefaultAzureCredential,
)
from identity_fakes import (
    App,
    FakeEntraId,
    FakeGitHubTokenService,
    jwt_claims,
    loopback_only,
    self_signed_certificate,
)

from mlops.azure_client import login
from mlops.config import AzureConfig
from mlops.credentials import LoginError, get_credential

pytestmark = pytest.mark.usefixtures("loopback_only")
assert loopback_only  # the fixture is used through pytestmark

TENANT = "11111111-1111-1111-1111-111111111111"
CLIENT = "22222222-2222-2222-2222-222222222222"
SCOPE = "https://management.azure.com/.default"
MAIN = "repo:contoso/iris-classifier:ref:refs/heads/main"
PRODUCTION = "repo:contoso/iris-classifier:environment:production"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def entra(certificate, monkeypatch):
    """Factory: an Entra ID double trusted through REQUESTS_CA_BUNDLE."""
    servers = []

    def factory(**kwargs) -> FakeEntraId:
        app = App(client_id=CLIENT, tenant_id=TENANT, **kwargs.pop("app", {}))
        server = FakeEntraId(app, *certificate, **kwargs)
        servers.append(server)
        return server

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
    yield factory
    for server in servers:
        server.close()


@pytest.fixture
def github():
    servers = []

    def factory(subject: str, **kwargs) -> FakeGitHubTokenService:
        server = FakeGitHubTokenService(subject, **kwargs)
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.close()


def actions_environ(github_service: FakeGitHubTokenService, entra_id: FakeEntraId) -> dict[str, str]:
    """What a deploy job with `id-token: write` and the two secrets in `env:` sees."""
    return {"GITHUB_ACTIONS": "true", "ACTIONS_ID_TOKEN_REQUEST_URL": github_service.request_url,
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": github_service.request_token, "AZURE_CLIENT_ID": CLIENT,
            "AZURE_TENANT_ID": TENANT, "AZURE_AUTHORITY_HOST": entra_id.authority}


def test_github_oidc_exchanges_a_github_id_token_at_entra_id(github, entra):
    entra_id = entra(app={"subjects": [MAIN]})
    token_service = github(MAIN)
    credential = get_credential(actions_environ(token_service, entra_id))
    assert isinstance(credential, ClientAssertionCredential)

    token = credential.get_token(SCOPE)

    assert token.token == entra_id.issued[0]
    [(method, path, headers, _)] = token_service.requests
    assert method == "GET" and "api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange" in path
    assert headers["Authorization"] == f"bearer {token_service.request_token}"
    [(method, path, _, body)] = entra_id.requests
    assert (method, path) == ("POST", f"/{TENANT}/oauth2/v2.0/token")
    assert entra_id.assertions == token_service.issued
    assert "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer" in body
    assert jwt_claims(entra_id.assertions[0])["aud"] == "api://AzureADTokenExchange"


@pytest.fixture
def clock(monkeypatch):
    """Move time forward without waiting: azure-identity and both doubles read ``time.time``."""
    real = time.time
    offset = [0.0]
    monkeypatch.setattr(time, "time", lambda: real() + offset[0])

    def advance(seconds: float) -> None:
        offset[0] += seconds

    return advance


def test_a_token_request_after_expiry_fetches_a_new_github_token(github, entra, clock):
    # An hour-long training job: GitHub ID tokens live 5 minutes, Azure tokens an hour. Reusing the
    # first assertion after the hour would fail with AADSTS700024, as a long job with `azure/login` does.
    entra_id = entra(app={"subjects": [MAIN]}, expires_in=3600)
    token_service = github(MAIN, lifetime_seconds=300)
    credential = get_credential(actions_environ(token_service, entra_id))
    first = credential.get_token(SCOPE)
    clock(60)
    assert credential.get_token(SCOPE).token == first.token  # cached while valid: no new GitHub token
    assert len(token_service.issued) == 1

    clock(3600)
    second = credential.get_token(SCOPE)

    assert second.token != first.token
    assert len(token_service.issued) == 2
    assert entra_id.assertions == token_service.issued  # the second exchange used the fresh token
    assert jwt_claims(token_service.issued[1])["iat"] >= jwt_claims(token_service.issued[0])["exp"]


def test_a_reused_expired_assertion_is_what_fails(github, entra, clock):
    # The double must reject what a non-refreshing login would send, or the test above proves nothing.
    entra_id = entra(app={"subjects": [MAIN]})
    token_service = github(MAIN, lifetime_seconds=300)
    stale = ClientAssertionCredential(TENANT, CLIENT, lambda: token_service.issued[0],
                                      authority=entra_id.authority)
    token_service.handle("GET", "/?audience=api://AzureADTokenExchange",
                         {"Authorization": f"bearer {token_service.request_token}"}, "")
    clock(301)
    with pytest.raises(Exception, match="AADSTS700024"):
        stale.get_token(SCOPE)


@pytest.mark.parametrize(("presented", "registered", "code", "advice"), [
    (MAIN, [PRODUCTION], "AADSTS700213", "ref:refs/heads/main"),
    (PRODUCTION, ["repo:Contoso/iris-classifier:environment:production"], "AADSTS7002138", "exact case"),
])
def test_a_subject_mismatch_is_explained_without_the_token(github, entra, presented, registered, code, advice):
    entra_id = entra(app={"subjects": registered})
    token_service = github(presented)
    credential = get_credential(actions_environ(token_service, entra_id))
    with pytest.raises(LoginError) as failure:
        credential.get_token(SCOPE)
    message = str(failure.value)
    assert message.startswith("login (GitHub OIDC")
    assert code in message and advice in message and presented in message
    assert token_service.issued[0] not in message
    assert token_service.request_token not in message


def test_a_wrong_client_id_is_explained(github, entra):
    entra_id = entra(app={"subjects": [MAIN]})
    environ = actions_environ(github(MAIN), entra_id) | {"AZURE_CLIENT_ID": "33333333-3333-3333-3333-333333333333"}
    with pytest.raises(LoginError, match="AADSTS700016.*AZURE_CLIENT_ID and AZURE_TENANT_ID secrets"):
        get_credential(environ).get_token(SCOPE)


def test_a_rejected_request_token_names_the_github_step(github, entra):
    entra_id = entra(app={"subjects": [MAIN]})
    environ = actions_environ(github(MAIN), entra_id) | {"ACTIONS_ID_TOKEN_REQUEST_TOKEN": "stale-request-token"}
    with pytest.raises(LoginError) as failure:
        get_credential(environ).get_token(SCOPE)
    assert "requesting a GitHub ID token: GitHub answered HTTP 401" in str(failure.value)
    assert "stale-request-token" not in str(failure.value)
    assert entra_id.requests == []


def test_actions_without_id_token_permission_says_so():
    environ = {"GITHUB_ACTIONS": "true", "AZURE_CLIENT_ID": CLIENT, "AZURE_TENANT_ID": TENANT}
    with pytest.raises(LoginError, match=r"lacks `permissions: id-token: write`"):
        get_credential(environ, settings={})


def test_actions_without_the_secrets_in_env_says_which():
    environ = {"GITHUB_ACTIONS": "true", "ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.1:9/t?x=1",
               "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "t", "AZURE_TENANT_ID": TENANT}
    with pytest.raises(LoginError, match=r"AZURE_CLIENT_ID is not set: pass the repository secrets"):
        get_credential(environ, settings={})


@pytest.mark.parametrize("where", ["environ", "settings"])
def test_a_client_secret_is_refused_in_actions(where):
    environ = {"GITHUB_ACTIONS": "true"}
    settings = {"client_id": CLIENT, "tenant_id": TENANT}
    if where == "environ":
        environ["AZURE_CLIENT_SECRET"] = "s3cr3t-value"
    else:
        settings["client_secret"] = "s3cr3t-value"
    with pytest.raises(LoginError) as failure:
        get_credential(environ, settings=settings)
    assert "OIDC" in str(failure.value) and "s3cr3t-value" not in str(failure.value)


def write_env(folder: Path, text: str) -> Path:
    (folder / ".env").write_text(text, "utf-8")
    return folder


def test_service_principal_from_dotenv_runs_msal_discovery_and_exchange(tmp_path, entra):
    entra_id = entra(app={"client_secret": "the-real-secret"})
    folder = write_env(tmp_path, f"AZURE_CLIENT_ID={CLIENT}\nAZURE_TENANT_ID={TENANT}\n"
                                 "AZURE_CLIENT_SECRET=the-real-secret\n")
    config = AzureConfig(folder, environ={"AZURE_AUTHORITY_HOST": entra_id.authority})
    credential = login(config)
    assert isinstance(credential, ClientSecretCredential)

    assert credential.get_token(SCOPE).token == entra_id.issued[0]

    paths = [(method, path.split("?")[0]) for method, path, _, _ in entra_id.requests]
    assert paths == [("GET", f"/{TENANT}/v2.0/.well-known/openid-configuration"),
                     ("POST", f"/{TENANT}/oauth2/v2.0/token")]
    assert "client_secret=the-real-secret" in entra_id.requests[1][3]
    assert "the-real-secret" not in repr(config) + str(config) + repr(credential)


def test_a_wrong_dotenv_secret_is_explained_without_the_secret(tmp_path, entra):
    entra_id = entra(app={"client_secret": "the-real-secret"})
    folder = write_env(tmp_path, f"AZURE_CLIENT_ID={CLIENT}\nAZURE_TENANT_ID={TENANT}\n"
                                 "AZURE_CLIENT_SECRET=a-wrong-secret\n")
    credential = login(AzureConfig(folder, environ={"AZURE_AUTHORITY_HOST": entra_id.authority}))
    with pytest.raises(LoginError) as failure:
        credential.get_token(SCOPE)
    message = str(failure.value)
    assert "service principal from .env" in message and "AADSTS7000215" in message
    assert "a-wrong-secret" not in message


def test_a_dotenv_secret_without_tenant_names_the_missing_key(tmp_path):
    folder = write_env(tmp_path, f"AZURE_CLIENT_ID={CLIENT}\nAZURE_CLIENT_SECRET=x-secret-x\n")
    with pytest.raises(LoginError, match=r"no AZURE_TENANT_ID: add it to .env") as failure:
        login(AzureConfig(folder, environ={}))
    assert "x-secret-x" not in str(failure.value)


def fake_az(folder: Path, script: str) -> Path:
    """An ``az`` executable that records its arguments and runs ``script`` (POSIX shell)."""
    az = folder / "az"
    az.write_text(f'#!/bin/sh\necho "$@" >> "{folder}/az-calls.txt"\n{script}\n', "utf-8")
    az.chmod(az.stat().st_mode | stat.S_IEXEC)
    return folder


@pytest.fixture
def laptop(tmp_path, monkeypatch):
    """A laptop with only the Azure CLI credential in play and no .env."""
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "AzureCliCredential")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_laptop_uses_az_login_through_default_azure_credential(laptop):
    expires = int(time.time()) + 3600
    fake_az(laptop, "echo '" + json.dumps({"accessToken": "cli-access-token", "expires_on": expires,
                                            "tokenType": "Bearer", "subscription": "s", "tenant": TENANT}) + "'")
    credential = get_credential({})
    assert isinstance(credential, DefaultAzureCredential)
    assert credential.get_token(SCOPE).token == "cli-access-token"
    assert "account get-access-token" in (laptop / "az-calls.txt").read_text()


def test_laptop_without_az_login_says_what_to_run(laptop):
    fake_az(laptop, "echo \"ERROR: Please run 'az login' to setup account.\" >&2; exit 1")
    with pytest.raises(LoginError) as failure:
        get_credential({}).get_token(SCOPE)
    message = str(failure.value)
    assert message.startswith("log in to Azure first: run `az login`, or put a service principal in .env")
    assert "\n" not in message and len(message) < 300
    assert "Please run 'az login'" in failure.value.detail  # azure-identity's account, for --debug


def test_laptop_without_az_says_to_install_it_first(laptop, monkeypatch):
    monkeypatch.setenv("PATH", str(laptop))  # no az anywhere
    with pytest.raises(LoginError) as failure:
        get_credential({}).get_token(SCOPE)
    message = str(failure.value)
    assert message.startswith("log in to Azure first: install the Azure CLI (https://aka.ms/installazurecli)")
    assert "\n" not in message and len(message) < 300


def test_without_arguments_the_chooser_reads_the_dotenv_of_the_current_folder(tmp_path, monkeypatch, entra):
    # What `mlops train` and `mlops deploy` do on a laptop: get_credential() with nothing passed.
    entra_id = entra(app={"client_secret": "the-real-secret"})
    write_env(tmp_path, f"AZURE_CLIENT_ID={CLIENT}\nAZURE_TENANT_ID={TENANT}\nAZURE_CLIENT_SECRET=the-real-secret\n")
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_ACTIONS", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", entra_id.authority)
    credential = get_credential()
    assert isinstance(credential, ClientSecretCredential)
    assert credential.get_token(SCOPE).token == entra_id.issued[0]
