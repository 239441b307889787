"""mlops bootstrap-oidc: two identities, the subjects GitHub presents, guard rails; the script and --apply agree."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import cli_fakes
import pytest
from test_doctor import DEPLOY, PR, README

from conftest import bake
from mlops.bootstrap import TRAINER_NOT_ACTIONS, trainer_role_name
from mlops.cli import main

REPO = "octo-org/octo-repo"
SCOPE = ("/subscriptions/33333333-3333-3333-3333-333333333333/resourceGroups/rg-iris/providers/"
         "Microsoft.MachineLearningServices/workspaces/mlw-iris")
TRAINER = trainer_role_name("rg-iris", "mlw-iris")
ID_FORM = "repo:octo-org@4242/octo-repo@1717"
NAME_FORM = f"repo:{REPO}"
TRAIN_APP, DEPLOY_APP = "github-octo-org-octo-repo", "github-octo-org-octo-repo-production"


def make_repo(root: Path) -> Path:
    (root / ".github/workflows").mkdir(parents=True)
    (root / ".github/workflows/deploy.yml").write_text(DEPLOY, "utf-8")
    # the ruleset requires the check the pull-request job reports: its name
    named = PR.replace("  check:\n", "  check:\n    name: make check\n")
    (root / ".github/workflows/pr.yml").write_text(named, "utf-8")
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


def creates(folder: Path) -> list[list[str]]:
    """The calls that change something (lookups excluded)."""
    return [call for call in cli_fakes.calls(folder)
            if any(word in call for word in ("create", "set", "PUT", "POST"))]


def test_the_dry_run_prints_the_lookups_two_identities_and_the_guard_rails(tmp_path, fakes, capsys):
    code, script = bootstrap(make_repo(tmp_path / "repo"), capsys)
    assert code == 0
    assert cli_fakes.calls(fakes) == []  # nothing ran
    assert script.startswith(f"#!/usr/bin/env bash\n# mlops bootstrap-oidc --repo {REPO}\n")
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)
    for field in (".owner.id", ".id"):  # the IDs of the immutable subject form, looked up
        assert f"=$(gh api repos/{REPO} --jq {field})" in script
    for tail in ("ref:refs/heads/main", "environment:production"):
        assert f"# the {'repository' if tail.startswith('ref') else 'production'} identity: trust GitHub tokens " \
               f"with subject repo:octo-org@$OWNER_ID/octo-repo@$REPO_ID:{tail}\n" in script
        # the name form only where GitHub may still present it (a repository created before 2026-06-18)
        assert f'if [ "$NAME_FORM" = possible ] && ! grep -qxF -- {NAME_FORM}:{tail} ' in script
    assert script.count("federated-credential create") == 4
    assert f"az ad app list --filter 'displayName eq '\"'\"'{TRAIN_APP}'\"'\"''" in script
    assert "--display-name github" not in script.replace("app create --display-name", "")
    assert f"--role '{TRAINER}' --scope" in script and "--role 'AzureML Data Scientist' --scope" in script
    assert '"NotActions": ["Microsoft.MachineLearningServices/workspaces/onlineEndpoints/*"' in script
    assert "Contributor" not in script and "client-secret" not in script
    assert ("gh api --method PUT repos/octo-org/octo-repo/environments/production -F "
            "'deployment_branch_policy[protected_branches]=false' -F "
            "'deployment_branch_policy[custom_branch_policies]=true'") in script
    assert "deployment-branch-policies -f name=main -f type=branch" in script
    assert 'gh secret set AZURE_CLIENT_ID --env production --repo octo-org/octo-repo --body "$APP_ID_PRODUCTION"' \
        in script
    assert 'gh secret set AZURE_CLIENT_ID --repo octo-org/octo-repo --body "$APP_ID"' in script
    assert '"context": "make check"' in script and '"type": "pull_request"' in script


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


def test_apply_creates_one_identity_per_trust_level(tmp_path, fakes, capsys):
    code, out = bootstrap(make_repo(tmp_path / "repo"), capsys, "--apply")
    assert code == 0, out
    state = cli_fakes.state(fakes)
    train, deploy = state["apps"][TRAIN_APP], state["apps"][DEPLOY_APP]
    assert len(state["apps"]) == 2
    # a repository created after 2026-06-18 presents the ID form only
    assert [c["subject"] for c in state["creds"][train]] == [f"{ID_FORM}:ref:refs/heads/main"]
    assert [c["subject"] for c in state["creds"][deploy]] == [f"{ID_FORM}:environment:production"]
    assert all(c["issuer"] == "https://token.actions.githubusercontent.com" and
               c["audiences"] == ["api://AzureADTokenExchange"] for c in state["creds"][train] + state["creds"][deploy])
    assert state["roles"] == [[f"sp-{train}", TRAINER, SCOPE], [f"sp-{deploy}", "AzureML Data Scientist", SCOPE]]
    role = state["role_definitions"][TRAINER]
    assert role["AssignableScopes"] == [SCOPE] and role["NotActions"] == TRAINER_NOT_ACTIONS
    assert state["secrets"] == {"AZURE_CLIENT_ID": train, "AZURE_TENANT_ID": cli_fakes.TENANT,
                                "AZURE_SUBSCRIPTION_ID": cli_fakes.SUBSCRIPTION}
    assert state["environment_secrets"] == {"production": {"AZURE_CLIENT_ID": deploy}}
    assert state["environments"] == {"production": {"custom_branch_policies": True, "protected_branches": False}}
    assert state["branch_policies"] == {"production": ["main"]}
    [ruleset] = state["rulesets"]
    assert ruleset["conditions"]["ref_name"]["include"] == ["refs/heads/main"]
    assert {"context": "make check"} in ruleset["rules"][-1]["parameters"]["required_status_checks"]
    assert f"done: the production identity is app {deploy} ({DEPLOY_APP}), for the jobs in environment " \
           f"production only; it trusts:\n  {ID_FORM}:environment:production\n" in out


def test_apply_again_changes_nothing(tmp_path, fakes, capsys):
    root = make_repo(tmp_path / "repo")
    assert bootstrap(root, capsys, "--apply")[0] == 0
    before, first = cli_fakes.state(fakes), len(cli_fakes.calls(fakes))
    code, out = bootstrap(root, capsys, "--apply")
    assert code == 0, out
    assert cli_fakes.state(fakes) == before
    again = cli_fakes.calls(fakes)[first:]
    # only the commands that are idempotent themselves run again: role assignments and secrets
    assert {tuple(call[:4]) for call in again if "create" in call or "set" in call or "POST" in call} == {
        ("az", "role", "assignment", "create"), ("gh", "secret", "set", "AZURE_CLIENT_ID"),
        ("gh", "secret", "set", "AZURE_TENANT_ID"), ("gh", "secret", "set", "AZURE_SUBSCRIPTION_ID")}
    assert out.count("# exists: ") >= 8


def test_an_older_repository_gets_both_subject_forms(tmp_path, capsys, monkeypatch):
    folder = cli_fakes.install(tmp_path / "bin", {"created_at": "2024-03-01T10:00:00Z"})
    monkeypatch.setenv("PATH", cli_fakes.path_with(folder))
    assert bootstrap(make_repo(tmp_path / "repo"), capsys, "--apply")[0] == 0
    state = cli_fakes.state(folder)
    assert [c["subject"] for c in state["creds"][state["apps"][TRAIN_APP]]] == [
        f"{ID_FORM}:ref:refs/heads/main", f"{NAME_FORM}:ref:refs/heads/main"]
    assert [c["name"] for c in state["creds"][state["apps"][DEPLOY_APP]]] == [
        "github-id-environment-production", "github-environment-production"]


def test_given_ids_trust_both_forms_and_say_so(tmp_path, fakes, capsys):
    code, script = bootstrap(make_repo(tmp_path / "repo"), capsys, "--org-id", "4242", "--repo-id", "1717")
    assert code == 0
    assert "--jq .owner.id" not in script
    assert f'"subject": "{ID_FORM}:environment:production"' in script
    assert f'"subject": "{NAME_FORM}:environment:production"' in script
    assert "note: the IDs were given, not looked up: both subject forms are trusted" in script
    assert bootstrap(tmp_path / "repo", capsys, "--org-id", "4242")[1].startswith("error: --org-id and --repo-id")


def test_a_default_branch_other_than_the_deploy_branch_stops_before_any_change(tmp_path, capsys, monkeypatch):
    folder = cli_fakes.install(tmp_path / "bin", {"default_branch": "master"})
    monkeypatch.setenv("PATH", cli_fakes.path_with(folder))
    code, out = bootstrap(make_repo(tmp_path / "repo"), capsys, "--apply")
    assert code == 3
    assert ("error: octo-org/octo-repo's default branch is master but deploy.yml deploys from main: rename the "
            "branch (`git branch -m main`") in out
    assert creates(folder) == []


def test_a_private_repository_on_github_free_gets_its_secrets_then_a_clear_stop(tmp_path, capsys, monkeypatch):
    folder = cli_fakes.install(tmp_path / "bin", {"private": True, "owner_type": "User"})
    cli_fakes.seed(folder, plans={"org": "team", "user": "free"})
    monkeypatch.setenv("PATH", cli_fakes.path_with(folder))
    code, out = bootstrap(make_repo(tmp_path / "repo"), capsys, "--apply")
    assert code == 3
    assert "octo-org/octo-repo is private and its owner is on GitHub Free, which has no environments" in out
    assert "Done so far: the repository identity, its role and the three repository secrets" in out
    assert "make the repository public, or move to GitHub Pro (user) or Team (organisation)" in out
    state = cli_fakes.state(folder)
    assert set(state["secrets"]) == {"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID"}
    assert list(state["apps"]) == [TRAIN_APP] and not state["environments"] and not state["rulesets"]
    script = bootstrap(tmp_path / "repo", capsys)[1]  # the script stops at the same place
    result = subprocess.run(["bash", "-c", script], env={"PATH": cli_fakes.path_with(folder)}, capture_output=True,
                            text=True)
    assert result.returncode == 3 and "stop: octo-org/octo-repo is private" in result.stderr


def test_the_app_is_found_by_its_exact_name(tmp_path, fakes, capsys):
    cli_fakes.seed(fakes, apps={f"{TRAIN_APP}-platform": "platform-app"},
                   creds={"platform-app": [{"name": "x", "subject": "repo:octo-org/platform:ref:refs/heads/main"}]})
    assert bootstrap(make_repo(tmp_path / "repo"), capsys, "--apply")[0] == 0
    state = cli_fakes.state(fakes)
    assert state["apps"][TRAIN_APP] != "platform-app"
    assert state["creds"]["platform-app"] == [{"name": "x", "subject": "repo:octo-org/platform:ref:refs/heads/main"}]


def test_an_app_that_trusts_another_repository_is_refused(tmp_path, fakes, capsys):
    cli_fakes.seed(fakes, apps={TRAIN_APP: "other-app"},
                   creds={"other-app": [{"name": "x", "subject": "repo:octo-org/other-repo:ref:refs/heads/main"}]})
    code, out = bootstrap(make_repo(tmp_path / "repo"), capsys, "--apply")
    assert code == 3
    assert (f"app {TRAIN_APP} (other-app) already trusts subjects of another repository: it is not this "
            "repository's app; nothing of it was changed: pass --app-name") in out
    assert creates(fakes) == []


def test_no_ruleset_skips_it(tmp_path, fakes, capsys):
    code, script = bootstrap(make_repo(tmp_path / "repo"), capsys, "--no-ruleset")
    assert code == 0 and "/rulesets" not in script and "--no-ruleset" in script.splitlines()[1]


def test_a_failing_step_says_what_failed_and_a_rerun_converges(tmp_path, fakes, capsys, monkeypatch):
    root = make_repo(tmp_path / "repo")
    monkeypatch.setenv("FAKE_CLI_FAIL", "AzureML Data Scientist")
    code, out = bootstrap(root, capsys, "--apply")
    assert code == 1
    assert "error: bootstrap-oidc: `az role assignment create" in out
    assert "Insufficient privileges to complete the operation.: fix it and rerun" in out
    monkeypatch.delenv("FAKE_CLI_FAIL")
    assert bootstrap(root, capsys, "--apply")[0] == 0
    assert len(cli_fakes.state(fakes)["roles"]) == 2


def test_compute_operator_is_opt_in(tmp_path, fakes, capsys):
    _, script = bootstrap(make_repo(tmp_path / "repo"), capsys, "--compute-operator")
    assert "--role 'AzureML Compute Operator'" in script and "the training role cannot create compute" not in script


@pytest.mark.parametrize("source", ["fixture", "generated"])
def test_doctor_agrees_with_what_bootstrap_set_up(tmp_path, fakes, capsys, source):
    root = make_repo(tmp_path / "repo") if source == "fixture" else bake(tmp_path / "gen")
    assert bootstrap(root, capsys, "--apply")[0] == 0
    code = main(["-C", str(root), "doctor", "--repo", REPO])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"job deploy presents {ID_FORM}:environment:production: ok" in out
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
        "Push this repo to GitHub", "git init -b main", "az login",
        "mlops bootstrap-oidc --repo ORG/REPO > bootstrap-oidc.sh", "bash bootstrap-oidc.sh",
        "Add required reviewers", ".venv/bin/mlops doctor` reads", "Merge a pull request to `main`")]
    assert steps == sorted(steps)
    for secret in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID"):
        assert f"`{secret}`" in readme


def test_the_deploy_branch_is_read_from_deploy_yml(tmp_path, capsys, monkeypatch):
    root = make_repo(tmp_path / "repo")
    workflow = root / ".github/workflows/deploy.yml"
    workflow.write_text(workflow.read_text().replace("branches: [main]", "branches: [release]"))
    folder = cli_fakes.install(tmp_path / "bin", {"default_branch": "main"})
    monkeypatch.setenv("PATH", cli_fakes.path_with(folder))
    code, out = bootstrap(root, capsys, "--apply")
    assert code == 3 and "default branch is main but deploy.yml deploys from release" in out
    _, script = bootstrap(root, capsys)
    assert "repo:octo-org@$OWNER_ID/octo-repo@$REPO_ID:ref:refs/heads/release" in script
