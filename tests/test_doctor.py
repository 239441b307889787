"""mlops doctor: one test per finding, against workflow fixtures shaped like the generated ones."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cli_fakes
import pytest

from conftest import mlops
from mlops.cli import main

REPO = "contoso/iris-classifier"
MAIN = f"repo:{REPO}:ref:refs/heads/main"
PRODUCTION = f"repo:{REPO}:environment:production"
ID_FORM = "repo:contoso@4242/iris-classifier@1717"
ISSUER = "https://token.actions.githubusercontent.com"

LOGIN_ENV = """\
    env:
      AZURE_CLIENT_ID: ${{ secrets.AZURE_CLIENT_ID }}
      AZURE_TENANT_ID: ${{ secrets.AZURE_TENANT_ID }}
      AZURE_SUBSCRIPTION_ID: ${{ secrets.AZURE_SUBSCRIPTION_ID }}
"""

DEPLOY = """\
name: deploy
on:
  push:
    branches: [main]
  workflow_dispatch:
permissions: {}
concurrency:
  group: deploy
  cancel-in-progress: false
jobs:
  train:
    runs-on: ubuntu-latest
    timeout-minutes: 360
    permissions:
      contents: read
      id-token: write
{LOGIN_ENV}    steps:
      - run: .venv/bin/mlops train
  deploy:
    needs: train
    runs-on: ubuntu-latest
    timeout-minutes: 60
    environment: production
    permissions:
      contents: read
      id-token: write
{LOGIN_ENV}    steps:
      - run: .venv/bin/mlops deploy
""".replace("{LOGIN_ENV}", LOGIN_ENV)

PR = """\
name: pull request
on: pull_request
permissions: {}
jobs:
  check:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - run: make check
"""

README = "Create the secrets AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_SUBSCRIPTION_ID.\n"


def credential(subject: str, name: str | None = None, **overrides) -> dict:
    """One entry as `az ad app federated-credential list` prints it."""
    return {"audiences": ["api://AzureADTokenExchange"], "description": None, "id": "x", "issuer": ISSUER,
            "name": name or re.split(r"[:/]", subject)[-1], "subject": subject, **overrides}


def make_repo(root: Path, workflows: dict[str, str], credentials: list[dict], readme: str = README,
              production: list[dict] | None = None) -> Path:
    """The workflows, the README, the repository identity's credentials and, if given, production's."""
    (root / ".github/workflows").mkdir(parents=True)
    for name, text in workflows.items():
        (root / ".github/workflows" / name).write_text(text, "utf-8")
    (root / "README.md").write_text(readme, "utf-8")
    (root / "credentials.json").write_text(json.dumps(credentials), "utf-8")
    if production is not None:
        (root / "production.json").write_text(json.dumps(production), "utf-8")
    return root


def doctor(root: Path, capsys, *extra: str) -> tuple[int, str]:
    sources = ["--credentials", str(root / "credentials.json")]
    if (root / "production.json").exists():
        sources += ["--credentials", f"production={root / 'production.json'}"]
    code = main(["-C", str(root), "doctor", "--repo", REPO, *sources, *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_all_well_when_every_job_has_its_subject(tmp_path, capsys):
    root = make_repo(tmp_path, {"deploy.yml": DEPLOY, "pr.yml": PR}, [credential(MAIN)],
                     production=[credential(PRODUCTION)])
    code, out = doctor(root, capsys)
    assert code == 0, out
    assert f".github/workflows/deploy.yml: job train presents {MAIN}: ok, credential 'main' of the repository " \
           "identity" in out
    assert f".github/workflows/deploy.yml: job deploy presents {PRODUCTION}: ok, credential 'production' of the " \
           "production identity" in out
    assert "job check" not in out  # the PR job does not log in
    assert "all well: 2 job(s) log in" in out


def test_a_job_in_an_environment_does_not_present_the_branch_subject(tmp_path, capsys):
    root = make_repo(tmp_path, {"deploy.yml": DEPLOY}, [credential(MAIN)])
    code, out = doctor(root, capsys)
    assert code == 1
    assert (f".github/workflows/deploy.yml:23:3: jobs.deploy: job deploy will present subject '{PRODUCTION}': it "
            "runs in environment 'production'") in out
    assert f"credential 'main' has the branch subject '{MAIN}'" in out
    assert "AADSTS700213: no federated credential on the app matches the subject" in out


def test_a_job_without_an_environment_presents_the_branch_subject(tmp_path, capsys):
    root = make_repo(tmp_path, {"deploy.yml": DEPLOY}, [credential(PRODUCTION)])
    code, out = doctor(root, capsys)
    assert code == 1
    assert f"deploy.yml:11:3: jobs.train: job train will present subject '{MAIN}': it has no `environment:`" in out


def test_case_differences_are_named_with_both_spellings(tmp_path, capsys):
    wrong = "repo:Contoso/Iris-Classifier:environment:production"
    root = make_repo(tmp_path, {"deploy.yml": DEPLOY}, [credential(MAIN), credential(wrong, "prod")])
    code, out = doctor(root, capsys)
    assert code == 1
    assert f"credential 'prod' has '{wrong}', which differs only in case" in out
    assert "AADSTS7002138: a federated credential matches the subject only when case is ignored" in out


def test_pull_request_with_a_hyphen_never_matches(tmp_path, capsys):
    pr_login = PR.replace("      contents: read\n", "      contents: read\n      id-token: write\n")
    root = make_repo(tmp_path, {"pr.yml": pr_login}, [credential(f"repo:{REPO}:pull-request", "pr")])
    code, out = doctor(root, capsys)
    assert code == 1
    assert (f"job check will present subject 'repo:{REPO}:pull_request' but credential 'pr' has "
            f"'repo:{REPO}:pull-request': GitHub writes `pull_request` with an underscore") in out
    assert "credentials.json:1:1: warning: pr: subject" in out


def test_a_job_that_logs_in_without_id_token_write(tmp_path, capsys):
    no_id_token = DEPLOY.replace("      contents: read\n      id-token: write\n", "      contents: read\n", 1)
    root = make_repo(tmp_path, {"deploy.yml": no_id_token}, [credential(MAIN)],
                     production=[credential(PRODUCTION)])
    code, out = doctor(root, capsys)
    assert code == 1
    assert ("deploy.yml:14:5: jobs.train.permissions: job train logs in but lacks `permissions: id-token: write`"
            in out)
    assert "deploy" not in out.split("lacks")[0].split("jobs.")[1]  # only the train job is named


def test_a_secret_the_readme_never_asked_for(tmp_path, capsys):
    extra = DEPLOY.replace("      - run: .venv/bin/mlops deploy",
                           "      - run: .venv/bin/mlops deploy\n        env:\n"
                           "          SLACK_WEBHOOK: ${{ secrets.SLACK_WEBHOOK }}")
    root = make_repo(tmp_path, {"deploy.yml": extra}, [credential(MAIN)],
                     production=[credential(PRODUCTION)])
    code, out = doctor(root, capsys)
    assert code == 1
    assert ("deploy.yml:38:30: secrets.SLACK_WEBHOOK: the workflow reads secret SLACK_WEBHOOK but README.md "
            "never asks the user to create it") in out


def test_a_client_secret_in_a_workflow(tmp_path, capsys):
    secret = DEPLOY.replace("      AZURE_SUBSCRIPTION_ID: ${{ secrets.AZURE_SUBSCRIPTION_ID }}\n    steps:\n"
                            "      - run: .venv/bin/mlops train",
                            "      AZURE_SUBSCRIPTION_ID: ${{ secrets.AZURE_SUBSCRIPTION_ID }}\n"
                            "      AZURE_CLIENT_SECRET: ${{ secrets.AZURE_CLIENT_SECRET }}\n    steps:\n"
                            "      - run: .venv/bin/mlops train")
    root = make_repo(tmp_path, {"deploy.yml": secret}, [credential(MAIN)], README + "AZURE_CLIENT_SECRET\n",
                     production=[credential(PRODUCTION)])
    code, out = doctor(root, capsys)
    assert code == 1 and "the workflow reads a client secret: this repo logs in with OIDC" in out


def test_a_credential_with_the_wrong_audience(tmp_path, capsys):
    root = make_repo(tmp_path, {"deploy.yml": DEPLOY},
                     [credential(MAIN, audiences=["api://AzureADTokenExchange2"])], production=[credential(PRODUCTION)])
    code, out = doctor(root, capsys)
    assert code == 1
    assert "credential 'main' has that subject but issuer" in out and "AADSTS70021" in out


def test_the_immutable_subject_form_is_recognised(tmp_path, capsys):
    immutable = "repo:contoso@4242/iris-classifier@1717"
    root = make_repo(tmp_path, {"deploy.yml": DEPLOY}, [credential(f"{immutable}:ref:refs/heads/main")],
                     production=[credential(f"{immutable}:environment:production")])
    code, out = doctor(root, capsys)
    assert code == 0, out
    assert f"note: the credentials use the immutable subject form {immutable}" in out
    code, out = doctor(root, capsys, "--org-id", "4242", "--repo-id", "9999")
    assert code == 1 and "repo:contoso@4242/iris-classifier@9999:environment:production" in out


def test_more_than_twenty_credentials(tmp_path, capsys):
    many = [credential(MAIN), credential(PRODUCTION)]
    many += [credential(f"repo:{REPO}:ref:refs/heads/b{i}") for i in range(19)]
    root = make_repo(tmp_path, {"deploy.yml": DEPLOY}, many)
    code, out = doctor(root, capsys)
    assert code == 1 and "21 federated credentials: Entra ID allows at most 20 per app" in out


def test_credentials_read_from_azure_with_the_cli(tmp_path, capsys, monkeypatch):
    root = make_repo(tmp_path / "repo", {"deploy.yml": DEPLOY}, [])
    fakes = cli_fakes.install(tmp_path / "bin")
    cli_fakes.seed(fakes, apps={"github-contoso-iris-classifier-production": "app-2"},
                   creds={"app-1": [credential(f"{ID_FORM}:ref:refs/heads/main")],
                          "app-2": [credential(f"{ID_FORM}:environment:production")]})
    monkeypatch.setenv("PATH", cli_fakes.path_with(fakes))
    code = main(["-C", str(root), "doctor", "--repo", REPO, "--app-id", "app-1"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"note: {REPO} presents the immutable form {ID_FORM}" in out
    assert cli_fakes.calls(fakes) == [
        ["az", "ad", "app", "list", "--filter", "displayName eq 'github-contoso-iris-classifier-production'",
         "--query", "[0].appId", "--output", "tsv"],
        ["az", "ad", "app", "federated-credential", "list", "--id", "app-1", "--output", "json"],
        ["az", "ad", "app", "federated-credential", "list", "--id", "app-2", "--output", "json"],
        ["gh", "api", f"repos/{REPO}", "--jq", ".owner.id, .id, .created_at"]]


def test_name_form_credentials_for_a_repository_that_presents_the_id_form(tmp_path, capsys, monkeypatch):
    root = make_repo(tmp_path / "repo", {"deploy.yml": DEPLOY}, [])
    fakes = cli_fakes.install(tmp_path / "bin")  # gh says: created 2026-07-01, so the immutable form
    cli_fakes.seed(fakes, apps={"github-contoso-iris-classifier-production": "app-2"},
                   creds={"app-1": [credential(MAIN)], "app-2": [credential(PRODUCTION)]})
    monkeypatch.setenv("PATH", cli_fakes.path_with(fakes))
    code = main(["-C", str(root), "doctor", "--repo", REPO, "--app-id", "app-1"])
    out = capsys.readouterr().out
    assert code == 1
    for form, subject in ((f"{ID_FORM}:ref:refs/heads/main", MAIN), (f"{ID_FORM}:environment:production", PRODUCTION)):
        assert (f"will present subject '{form}': {REPO} presents the immutable form (repo:OWNER@ID/NAME@ID), but "
                f"credential '{re.split(r'[:/]', subject)[-1]}' has the name form '{subject}', which this repository "
                f"never presents: AADSTS700213 (`mlops bootstrap-oidc --repo {REPO} --apply` adds") in out
    # offline, the IDs given on the command line say the same
    (root / "credentials.json").write_text(json.dumps([credential(MAIN)]))
    (root / "production.json").write_text(json.dumps([credential(PRODUCTION)]))
    code, offline = doctor(root, capsys, "--org-id", "4242", "--repo-id", "1717")
    assert code == 1 and f"'{ID_FORM}:ref:refs/heads/main': {REPO} presents the immutable form" in offline


def test_an_older_repository_may_present_either_form(tmp_path, capsys, monkeypatch):
    root = make_repo(tmp_path / "repo", {"deploy.yml": DEPLOY}, [])
    fakes = cli_fakes.install(tmp_path / "bin", {"created_at": "2023-05-05T00:00:00Z"})
    cli_fakes.seed(fakes, apps={"github-contoso-iris-classifier-production": "app-2"},
                   creds={"app-1": [credential(MAIN)], "app-2": [credential(PRODUCTION)]})
    monkeypatch.setenv("PATH", cli_fakes.path_with(fakes))
    code = main(["-C", str(root), "doctor", "--repo", REPO, "--app-id", "app-1"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"job train presents {ID_FORM}:ref:refs/heads/main: ok, credential 'main' of the repository identity " \
           f"(the name form {MAIN})" in out


def test_a_deploy_identity_that_an_unapproved_job_can_log_in_as(tmp_path, capsys):
    root = make_repo(tmp_path, {"deploy.yml": DEPLOY}, [credential(MAIN)],
                     production=[credential(PRODUCTION), credential(MAIN, "main-too")])
    code, out = doctor(root, capsys)
    assert code == 1
    assert (f"production.json:1:1: main-too: the production identity trusts '{MAIN}', which job train (or any "
            "job outside production) can present without production's approvals and branch policy") in out
    assert "delete this credential" in out


def test_one_identity_for_both_trust_levels_is_refused(tmp_path, capsys):
    root = make_repo(tmp_path, {"deploy.yml": DEPLOY}, [credential(MAIN), credential(PRODUCTION)])
    code, out = doctor(root, capsys)
    assert code == 1
    assert ("job deploy runs in environment 'production' but logs in as the "
            "repository identity, which job train also uses without production's approvals") in out
    assert "--credentials production=FILE" in out


@pytest.mark.parametrize(("text", "expected"), [
    ("AADSTS7002138: No matching federated identity record found", "matches the subject only when case is ignored"),
    ("Error: AADSTS700024: Client assertion is not within its valid time range.", "Azure/login#372"),
    ("ERROR: No subscriptions found for ***.", "has no role on any subscription"),
])
def test_explain_an_error_message(text, expected, capsys, tmp_path):
    assert main(["-C", str(tmp_path), "doctor", "--explain", text]) == 0
    assert expected in capsys.readouterr().out


def test_bad_input_gets_one_line(tmp_path, capsys):
    root = make_repo(tmp_path, {"deploy.yml": DEPLOY}, [])
    (root / "credentials.json").write_text('{"subject": 1}')
    code, out = doctor(root, capsys)
    assert code == 1 and out.startswith("error: ") and "az ad app federated-credential list" in out
    (root / ".github/workflows/deploy.yml").write_text("jobs: [\n")
    code, out = doctor(root, capsys)
    assert code == 1 and out.startswith("error: .github/workflows/deploy.yml:")


def test_the_installed_command_explains_without_a_traceback(tmp_path):
    result = mlops("doctor", "--explain", "AADSTS700016: Application with identifier 'x' was not found",
                   cwd=tmp_path)
    assert result.returncode == 0 and "AZURE_CLIENT_ID and AZURE_TENANT_ID secrets" in result.stdout
    result = mlops("doctor", "--repo", "not a repo", "--credentials", "c.json", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.startswith("error: ") and "Traceback" not in result.stderr


def test_a_job_that_logs_in_without_all_the_login_secrets(tmp_path, capsys):
    train, deploy = DEPLOY.split("  deploy:\n")
    subscription = "      AZURE_SUBSCRIPTION_ID: ${{ secrets.AZURE_SUBSCRIPTION_ID }}\n"
    lacking = train + "  deploy:\n" + deploy.replace(subscription, "")
    root = make_repo(tmp_path, {"deploy.yml": lacking}, [credential(MAIN)],
                     production=[credential(PRODUCTION)])
    code, out = doctor(root, capsys)
    assert code == 1
    assert ("deploy.yml:23:3: jobs.deploy: job deploy logs in but never reads AZURE_SUBSCRIPTION_ID: pass it to "
            "the step that talks to Azure (`env: AZURE_SUBSCRIPTION_ID: ${{ secrets.AZURE_SUBSCRIPTION_ID }}`)"
            in out)
    assert "job train logs in but never reads" not in out


def test_the_azure_login_action_is_a_warning(tmp_path, capsys):
    with_action = DEPLOY.replace("      - run: .venv/bin/mlops train",
                                 "      - uses: azure/login@a457da9ea143d694b1b9c7c869ebb04ebe844ef5 # v2.3.0\n"
                                 "      - run: .venv/bin/mlops train")
    root = make_repo(tmp_path, {"deploy.yml": with_action}, [credential(MAIN)],
                     production=[credential(PRODUCTION)])
    code, out = doctor(root, capsys)
    assert code == 0, out
    assert "deploy.yml:11:3: warning: jobs.train: job train uses azure/login" in out and "AADSTS700024" in out
