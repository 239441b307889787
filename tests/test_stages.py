"""Stages: one (the default, as before) or staging then production, configured in azure-stages.json."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import TEMPLATE, mlops
from mlops.project import load_project
from mlops.stages import PRODUCTION, STAGING, release_stages, stage_named
from mlops.validation import validate_project

STAGES = "azure-stages.json"


TWO_STAGES = {"stages": "staging-production"}


@pytest.fixture
def two_stage_pristine(baked_once) -> Path:
    return baked_once(**TWO_STAGES)


@pytest.fixture
def single_pristine(baked_once) -> Path:
    return baked_once()


@pytest.fixture
def two_stage(fresh_repo) -> Path:
    return fresh_repo(**TWO_STAGES)


def edit_stages(repo: Path, section: str, **changes) -> None:
    path = repo / STAGES
    data = json.loads(path.read_text())
    data[section].update(changes)
    path.write_text(json.dumps(data, indent=2) + "\n")


def lines(repo: Path) -> list[str]:
    return [str(f) for f in validate_project(repo).findings]


def test_a_generated_two_stage_repo_is_valid_with_production_on_its_own_endpoint(two_stage_pristine):
    assert lines(two_stage_pristine) == []
    project = load_project(two_stage_pristine)
    staging, production = release_stages(project)
    assert (staging.name, staging.environment, staging.trains) == (STAGING, "staging", True)
    assert (production.name, production.environment, production.trains) == (PRODUCTION, "production", False)
    # the generated form: staging's workspace, its own endpoint (the form for small teams)
    assert production.workspace_key == staging.workspace_key
    assert (staging.service_name, production.service_name) == ("iris-classifier-svc", "iris-classifier-svc-prod")
    assert project.stages.registry.name == "mlr-iris-classifier"


def test_a_single_stage_repo_keeps_its_files_and_has_one_stage(single_pristine):
    assert not (single_pristine / STAGES).exists()
    assert not (single_pristine / ".github/workflows/rollback.yml").exists()
    template = TEMPLATE / "{{cookiecutter.experiment}}"
    assert (single_pristine / ".github/workflows/deploy.yml").read_bytes() == \
        (template / ".github/workflows/deploy.yml").read_bytes()
    assert set(json.loads((single_pristine / "azure-config.json").read_text())) == \
        {"$schema", "resource_group", "workspace_name", "location"}
    project = load_project(single_pristine)
    assert project.stages is None
    (only,) = release_stages(project)
    assert (only.name, only.service_name, only.trains) == (PRODUCTION, "iris-classifier-svc", True)
    with pytest.raises(Exception, match="no stage 'staging' in this repo: its stages are production"):
        stage_named(project, STAGING)


def test_production_in_its_own_workspace_may_not_take_staging_endpoint_in_the_same_region(two_stage):
    edit_stages(two_stage, "production", workspace_name="mlw-iris-prod", service_name="iris-classifier-svc")
    (line,) = lines(two_stage)
    assert line.startswith(f"{STAGES}:") and "production.service_name: 'iris-classifier-svc' is also staging's " \
        "endpoint (both in westeurope)" in line
    edit_stages(two_stage, "production", location="northeurope")
    assert lines(two_stage) == []  # another region: the name is free there


def test_production_in_staging_workspace_needs_its_own_endpoint(two_stage):
    edit_stages(two_stage, "production", service_name="IRIS-classifier-svc")
    (line,) = lines(two_stage)
    assert "production shares staging's workspace, so it needs its own endpoint" in line
    result = mlops("validate", cwd=two_stage)
    assert result.returncode == 1 and "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(("section", "changes", "expected"), [
    ("registry", {"name": "r"}, "registry.name: 'r' has 1 characters, allowed 3-33"),
    ("production", {"service_name": "prod_svc"}, "production.service_name: 'prod_svc' is not valid"),
    ("production", {"workspace": "x"}, "production.workspace: unknown key 'workspace': did you mean 'workspace_name'?"),
    ("production", {"client_secret": "x"}, "production.client_secret: looks like a secret"),
])
def test_a_bad_stages_file_is_one_located_line(two_stage, section, changes, expected):
    edit_stages(two_stage, section, **changes)
    found = lines(two_stage)
    assert len(found) == 1 and found[0].startswith(f"{STAGES}:") and expected in found[0], found


def test_promotion_commands_refuse_a_single_stage_repo_and_an_inexact_version(single_pristine, two_stage):
    for command in ("promote", "rollback"):
        result = mlops(command, "--version", "3", cwd=single_pristine)
        assert result.returncode == 1, result.stderr
        assert result.stderr.strip().splitlines() == [
            "error: this repo has one stage: `mlops deploy` releases it; promotion needs azure-stages.json "
            "(staging, a registry and production)"]
    result = mlops("share", cwd=single_pristine)
    assert result.returncode == 1 and "no stage 'staging' in this repo" in result.stderr
    for version in ("latest", ""):
        result = mlops("promote", "--version", version, cwd=two_stage)
        assert result.returncode == 1
        assert result.stderr.strip().splitlines() == [
            f"error: --version {version!r}: name a registry version as a whole number (e.g. 3), never latest: "
            "production deploys exactly the version it is given"]


def test_plan_shows_both_stages_and_writes_production_documents_loaded_by_the_sdk(two_stage):
    import yaml

    from mlops.commands.plan import plan

    run_git = [["git", "init", "-q"], ["git", "add", "-A"],
               ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "x"]]
    for command in run_git:
        subprocess.run(command, cwd=two_stage, check=True, capture_output=True)
    report = plan(two_stage)
    commands = [item.command for item in report.items]
    assert commands[-3:] == ["share", "promote", "promote"]
    assert "deploy" in commands and "train" in commands  # staging's steps are the single-stage ones
    deployment = yaml.safe_load((report.plan.directory / "production" / "deployment.yml").read_text())
    assert deployment["endpoint_name"] == "iris-classifier-svc-prod"
    assert deployment["model"] == "azureml://registries/mlr-iris-classifier/models/iris-classifier-model/versions/N"
    assert deployment["environment"].endswith("/environments/iris-classifier-env-serving/versions/N")
    printed = mlops("plan", cwd=two_stage)
    assert printed.returncode == 0, printed.stderr
    assert "Two stages: staging (mlw-iris-classifier, endpoint iris-classifier-svc) trains and shares into registry " \
           "mlr-iris-classifier; production (mlw-iris-classifier, endpoint iris-classifier-svc-prod)" in printed.stdout
    assert "`mlops promote` would:" in printed.stdout


def test_a_single_stage_plan_is_unchanged(fresh_repo):
    from mlops.commands.plan import plan

    copy = fresh_repo()
    report = plan(copy)
    assert {item.command for item in report.items} == {"train", "deploy"}
    assert not (report.plan.directory / "production").exists()


def test_stages_added_by_hand_to_a_single_stage_workflow_are_named(two_stage, single_pristine):
    shutil.copy(single_pristine / ".github/workflows/deploy.yml", two_stage / ".github/workflows/deploy.yml")
    (line,) = lines(two_stage)
    assert line.startswith(f"{STAGES}:1:1: warning: .github/workflows/deploy.yml runs no `mlops promote`")
