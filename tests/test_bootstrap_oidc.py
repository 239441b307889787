"""mlops bootstrap-oidc: the printed script and --apply make the same calls, and doctor agrees with the result."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import cli_fakes
import pytest
from test_doctor import DEPLOY, PR, README, REPO

from conftest import bake
from mlops.cli import main

SCOPE = ("/subscriptions/33333333-3333-3333-3333-333333333333/resourceGroups/rg-iris/providers/"
         "Microsoft.MachineLearningServices/workspaces/mlw-iris")
SUBJECTS = [f"repo:{REPO}:ref:refs/heads/main", f"repo:{REPO}:environment:production"]


def make_repo(root: Path) -> Path:
    (root / ".github/workflows").mkdir(parents=True)
    (root / ".github/workflows/deploy.yml").write_text(DEPLOY, "utf-8")
    (root / ".github/workflows/pr.yml").write_text(PR, "utf-8")
    (root / "README.md").write_text(README, "utf-8")
    (root / "azure-config.json").write_text(json.dumps({"resource_group": "rg-iris", "workspace_name": "mlw-iris"}))
    return root


@pytest.fixture
def fakes(tmp_path, monkeypatch):
    """Fake az and gh first on PATH, and no .env or AZURE_* variables from the machine running the tests."""
    folder = cli_fakes.install(tmp_path / "bin")
    monkeypatch.setenv("PATH", cli_fakes.path_with(folder))
    for name in ("AZURE_SUBSCRIPTION_ID", "AZURE_CLIENT_ID", "AZURE_TENANT_ID"):
        monkeypatch.delenv(name, raising=False)
    return folder


def bootstrap(root: Path, capsys, *extra: str) -> tuple[int, str]:
    code = main(["-C", str(root), "bootstrap-oidc", "--repo", REPO, *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_dry_run_is_the_default_and_prints_a_runnable_script(tmp_path, fakes, capsys):
    code, script = bootstrap(make_repo(tmp_path / "repo"), capsys)
    assert code == 0
    assert cli_fakes.calls(fakes) == []  # nothing ran
    assert script.startswith("#!/usr/bin/env bash\n# mlops bootstrap-oidc --repo contoso/iris-classifier\n")
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)
    for subject in SUBJECTS:
        assert f'"subject": "{subject}"' in script
    assert script.count("federated-credential create") == 2  # exactly the subjects the jobs present
    assert "--role 'AzureML Data Scientist' --scope" in script and "Contributor'" not in script
    assert "/providers/Microsoft.MachineLearningServices/workspaces/mlw-iris" in script
    for secret in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID"):
        assert f"gh secret set {secret} --repo {REPO}" in script
    assert "gh api --method PUT repos/contoso/iris-classifier/environments/production" in script
    assert "client-secret" not in script and "credential reset" not in script


def test_the_printed_script_and_apply_make_the_same_calls(tmp_path, fakes, capsys, monkeypatch):
    root = make_repo(tmp_path / "repo")
    _, script = bootstrap(root, capsys)
    subprocess.run(["bash", "-c", script], check=True, env={"PATH": cli_fakes.path_with(fakes)})
    by_script = cli_fakes.calls(fakes)

    other = cli_fakes.install(tmp_path / "bin2")
    monkeypatch.setenv("PATH", cli_fakes.path_with(other))
    code, out = bootstrap(root, capsys, "--apply")
    assert code == 0, out
    assert cli_fakes.calls(other) == by_script
    assert cli_fakes.state(other) == cli_fakes.state(fakes)

    state = cli_fakes.state(other)
    [(name, app_id)] = state["apps"].items()
    assert name == "github-contoso-iris-classifier"
    assert [c["subject"] for c in state["creds"][app_id]] == SUBJECTS
    assert all(c["issuer"] == "https://token.actions.githubusercontent.com" and
               c["audiences"] == ["api://AzureADTokenExchange"] for c in state["creds"][app_id])
    assert state["roles"] == [[f"sp-{app_id}", "AzureML Data Scientist", SCOPE]]
    assert state["secrets"] == {"AZURE_CLIENT_ID": app_id, "AZURE_TENANT_ID": cli_fakes.TENANT,
                                "AZURE_SUBSCRIPTION_ID": cli_fakes.SUBSCRIPTION}
    assert f"done: app {app_id} trusts 2 subject(s)" in out


def test_apply_again_creates_nothing(tmp_path, fakes, capsys):
    root = make_repo(tmp_path / "repo")
    assert bootstrap(root, capsys, "--apply")[0] == 0
    first = len(cli_fakes.calls(fakes))
    code, out = bootstrap(root, capsys, "--apply")
    assert code == 0, out
    again = cli_fakes.calls(fakes)[first:]
    assert [call[1:4] for call in again if "create" in call] == [["role", "assignment", "create"]]
    assert out.count("# exists: trust GitHub tokens") == 2


def test_a_failing_step_says_what_failed_and_a_rerun_converges(tmp_path, fakes, capsys, monkeypatch):
    root = make_repo(tmp_path / "repo")
    monkeypatch.setenv("FAKE_CLI_FAIL", "role assignment create")
    code, out = bootstrap(root, capsys, "--apply")
    assert code == 1
    assert "error: bootstrap-oidc: `az role assignment create" in out
    assert "Insufficient privileges to complete the operation.: fix it and rerun" in out
    monkeypatch.delenv("FAKE_CLI_FAIL")
    assert bootstrap(root, capsys, "--apply")[0] == 0
    assert len(cli_fakes.state(fakes)["roles"]) == 1


def test_the_immutable_subject_form(tmp_path, fakes, capsys):
    code, script = bootstrap(make_repo(tmp_path / "repo"), capsys, "--org-id", "4242", "--repo-id", "1717")
    assert code == 0
    assert '"subject": "repo:contoso@4242/iris-classifier@1717:environment:production"' in script
    assert '"subject": "repo:contoso@4242/iris-classifier@1717:ref:refs/heads/main"' in script
    assert "# mlops bootstrap-oidc --repo contoso/iris-classifier --org-id 4242 --repo-id 1717" in script
    assert bootstrap(tmp_path / "repo", capsys, "--org-id", "4242")[1].startswith("error: --org-id and --repo-id")


def test_compute_operator_is_opt_in(tmp_path, fakes, capsys):
    _, script = bootstrap(make_repo(tmp_path / "repo"), capsys, "--compute-operator")
    assert "--role 'AzureML Compute Operator'" in script and "# note: AzureML Data Scientist cannot" not in script


@pytest.mark.parametrize("source", ["fixture", "generated"])
def test_doctor_agrees_with_what_bootstrap_set_up(tmp_path, fakes, capsys, source):
    if source == "fixture":
        root = make_repo(tmp_path / "repo")
    else:
        root = bake(tmp_path / "gen")
        if not list((root / ".github/workflows").glob("*.yml")):
            pytest.skip("the generated repo has no workflows yet (issue 6)")
    assert bootstrap(root, capsys, "--apply")[0] == 0
    [app_id] = cli_fakes.state(fakes)["apps"].values()
    code = main(["-C", str(root), "doctor", "--repo", REPO, "--app-id", app_id])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "all well" in out


def test_missing_cli_is_named(tmp_path, capsys, monkeypatch):
    root = make_repo(tmp_path / "repo")
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, out = bootstrap(root, capsys, "--apply")
    assert code == 1 and "az is not on PATH: install the Azure CLI" in out
    assert shutil.which("az") is None


def test_the_generated_readme_walks_a_new_user_to_configured_secrets(tmp_path):
    readme = (bake(tmp_path, experiment="fraud-model") / "README.md").read_text("utf-8")
    start = readme.index("Push this repo to GitHub")  # "What you need" names `az login` earlier
    steps = [readme.index(text, start) for text in (
        "Push this repo to GitHub", "az login", "mlops bootstrap-oidc --repo ORG/REPO > bootstrap-oidc.sh",
        "bash bootstrap-oidc.sh", "Protect the environment `production`", ".venv/bin/mlops doctor` reads",
        "Merge a pull request to `main`")]
    assert steps == sorted(steps)
    for secret in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID"):
        assert f"`{secret}`" in readme
