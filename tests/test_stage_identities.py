"""Two stages: bootstrap-oidc gives staging, production and training an identity each, with roles on their own
stage only; doctor checks every stage's subjects. ``az``/``gh`` are faked at the process boundary."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import cli_fakes
import pytest
from test_bootstrap_oidc import ID_FORM, REPO, bootstrap, creates

from conftest import bake
from mlops.bootstrap import trainer_role_name
from mlops.cli import main

SUB = cli_fakes.SUBSCRIPTION
ML = "providers/Microsoft.MachineLearningServices"
STAGING_WS = f"/subscriptions/{SUB}/resourceGroups/rg-iris/{ML}/workspaces/mlw-iris"
PRODUCTION_WS = f"/subscriptions/{SUB}/resourceGroups/rg-iris-prod/{ML}/workspaces/mlw-iris-prod"
REGISTRY = f"/subscriptions/{SUB}/resourceGroups/rg-iris/{ML}/registries/mlr-iris"
APP = "github-octo-org-octo-repo"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A generated two-stage repo, production in its own workspace (the isolated form)."""
    root = bake(tmp_path_factory.mktemp("stages"), stages="staging-production", resource_group="rg-iris",
                workspace_name="mlw-iris", registry_name="mlr-iris")
    stages = json.loads((root / "azure-stages.json").read_text())
    stages["production"].update(resource_group="rg-iris-prod", workspace_name="mlw-iris-prod")
    (root / "azure-stages.json").write_text(json.dumps(stages))
    return root


@pytest.fixture
def fakes(tmp_path, monkeypatch):
    """Fake az and gh, with the registry azure-stages.json names."""
    folder = cli_fakes.install(tmp_path / "bin")
    cli_fakes.seed(folder, registries=[["rg-iris", "mlr-iris"]])
    monkeypatch.setenv("PATH", cli_fakes.path_with(folder))
    for name in ("AZURE_SUBSCRIPTION_ID", "AZURE_CLIENT_ID", "AZURE_TENANT_ID"):
        monkeypatch.delenv(name, raising=False)
    return folder


def test_each_stage_gets_its_identity_with_roles_on_its_own_stage_only(generated, fakes, capsys):
    code, out = bootstrap(generated, capsys, "--apply")
    assert code == 0, out
    state = cli_fakes.state(fakes)
    train, staging, production = (state["apps"][name] for name in (APP, f"{APP}-staging", f"{APP}-production"))
    assert len(state["apps"]) == 3
    assert {app: [c["subject"] for c in creds] for app, creds in state["creds"].items()} == {
        train: [f"{ID_FORM}:ref:refs/heads/main"], staging: [f"{ID_FORM}:environment:staging"],
        production: [f"{ID_FORM}:environment:production"]}
    assert sorted(state["roles"]) == sorted([
        [f"sp-{train}", trainer_role_name("rg-iris", "mlw-iris"), STAGING_WS],
        [f"sp-{staging}", "AzureML Data Scientist", STAGING_WS],
        [f"sp-{staging}", "AzureML Registry User", REGISTRY],  # writes: `mlops share`
        [f"sp-{production}", "AzureML Data Scientist", PRODUCTION_WS],
        [f"sp-{production}", "Reader", REGISTRY]])  # reads only: `mlops promote`, `mlops rollback`
    assert state["environment_secrets"] == {"staging": {"AZURE_CLIENT_ID": staging},
                                            "production": {"AZURE_CLIENT_ID": production}}
    assert state["branch_policies"] == {"staging": ["main"], "production": ["main"]}

    assert main(["-C", str(generated), "doctor", "--repo", REPO]) == 0
    report = capsys.readouterr().out
    for job, environment in (("staging", "staging"), ("production", "production"), ("rollback", "production")):
        assert f"job {job} presents {ID_FORM}:environment:{environment}: ok, credential " \
               f"'github-id-environment-{environment}' of the {environment} identity" in report
    assert "all well: 4 job(s) log in" in report


def test_the_printed_script_makes_the_same_calls_as_apply(generated, fakes, capsys, tmp_path, monkeypatch):
    code, script = bootstrap(generated, capsys)
    assert code == 0
    assert "# AzureML Registry User for the staging identity on the registry mlr-iris only" in script
    assert "# Reader for the production identity on the registry mlr-iris only" in script
    subprocess.run(["bash", "-c", script], check=True, env={"PATH": cli_fakes.path_with(fakes)})
    other = cli_fakes.install(tmp_path / "bin2")
    cli_fakes.seed(other, registries=[["rg-iris", "mlr-iris"]])
    monkeypatch.setenv("PATH", cli_fakes.path_with(other))
    assert bootstrap(generated, capsys, "--apply")[0] == 0
    assert cli_fakes.calls(other) == cli_fakes.calls(fakes)
    assert cli_fakes.state(other) == cli_fakes.state(fakes)


def test_a_missing_registry_stops_before_any_change(generated, tmp_path, capsys, monkeypatch):
    folder = cli_fakes.install(tmp_path / "bin")
    monkeypatch.setenv("PATH", cli_fakes.path_with(folder))
    code, out = bootstrap(generated, capsys, "--apply")
    assert code == 3
    assert ("no Azure ML registry mlr-iris in resource group rg-iris (azure-stages.json registry): create it once "
            "(`az ml registry create --resource-group rg-iris --file registry.yml`") in out
    assert creates(folder) == []


def test_production_in_another_subscription_gets_it_as_its_environment_secret(tmp_path, fakes, capsys):
    root = bake(tmp_path, stages="staging-production", resource_group="rg-iris", workspace_name="mlw-iris",
                registry_name="mlr-iris")
    stages = json.loads((root / "azure-stages.json").read_text())
    other = "44444444-4444-4444-4444-444444444444"
    stages["production"]["subscription_id"] = other
    (root / "azure-stages.json").write_text(json.dumps(stages))
    assert bootstrap(root, capsys, "--apply")[0] == 0
    state = cli_fakes.state(fakes)
    assert state["environment_secrets"]["production"]["AZURE_SUBSCRIPTION_ID"] == other
    production = f"sp-{state['apps'][f'{APP}-production']}"
    assert [production, "AzureML Data Scientist", STAGING_WS.replace(SUB, other)] in state["roles"]


def test_doctor_names_the_fix_for_each_stage(generated, fakes, capsys):
    assert bootstrap(generated, capsys, "--apply")[0] == 0
    state = cli_fakes.state(fakes)
    staging, production = state["apps"][f"{APP}-staging"], state["apps"][f"{APP}-production"]
    # production's identity also trusts staging's subject; staging's lost its credential
    state["creds"][production].append({**state["creds"][staging][0], "name": "staging-too"})
    state["creds"][staging] = []
    (fakes / "state.json").write_text(json.dumps(state))
    assert main(["-C", str(generated), "doctor", "--repo", REPO]) == 1
    report = capsys.readouterr().out
    assert (f"job staging will present subject '{ID_FORM}:environment:staging' but no federated credential of the "
            f"app has it: AADSTS700213 (`mlops bootstrap-oidc --repo {REPO} --apply` adds it)") in report
    assert (f"the production identity trusts '{ID_FORM}:environment:staging', which job train (or any job outside "
            "production) can present without production's approvals") in report
    assert "--federated-credential-id staging-too" in report
