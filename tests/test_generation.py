"""Generate every variant with the real cookiecutter: exact file set, nothing left unrendered."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import BIN, TEMPLATE, bake, run

TOOLKIT_FILES = {
    f"scripts/{p.relative_to(TEMPLATE / 'scripts').as_posix()}"
    for p in (TEMPLATE / "scripts").rglob("*")
    if p.is_file() and "__pycache__" not in p.parts
} | {f"schemas/{p.name}" for p in (TEMPLATE / "schemas").glob("*.json")}

COMMON_FILES = {
    ".env.example", ".gitattributes", ".gitignore", ".pre-commit-config.yaml", ".python-version",
    ".vscode/settings.json", "Makefile", "README.md", "ruff.toml", "pyproject.toml",
    "azure-compute-config.json", "azure-config.json", "environment/environment.yml",
    "tests/test_experiment.py", "tests/test_config_properties.py", "train.py", "evaluate.py",
    "notebooks/walkthrough.ipynb",
    "serving/app.py", "serving/score.py", "serving/contract.py", "serving/batching.py", "serving/sample-request.json",
}
FRAMEWORK_FILES = {
    "sklearn": {"data/iris.csv", "data/evaluation/iris.csv", "serving/sklearn_predictor.py"},
    "spacy": {"config.cfg", "data/make_forms.py", "data/forms/train.jsonl", "data/forms/dev.jsonl",
              "data/evaluation/forms.jsonl", "serving/spacy_predictor.py"},
}


def files_of(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


# files of a two-stage repo only; its release workflow takes deploy.yml's name
TWO_STAGE_FILES = {"azure-stages.json", ".github/workflows/rollback.yml"}
TWO_STAGE_DEPLOY = ".github/workflows/deploy-staging-production.yml"


def expected_files(experiment_name: str, framework: str, stages: str = "single") -> set[str]:
    templated = {p.relative_to(TEMPLATE / "{{cookiecutter.experiment}}").as_posix()
                 for p in (TEMPLATE / "{{cookiecutter.experiment}}" / ".github").rglob("*") if p.is_file()}
    templated -= TWO_STAGE_FILES | {TWO_STAGE_DEPLOY}
    staged = TWO_STAGE_FILES if stages == "staging-production" else set()
    return (COMMON_FILES | FRAMEWORK_FILES[framework] | TOOLKIT_FILES | templated | staged
            | {f"{experiment_name}.yml"})


@pytest.mark.parametrize("framework", ["sklearn", "spacy"])
@pytest.mark.parametrize("python_version", ["3.11", "3.12"])
def test_variant_has_exactly_the_expected_files(tmp_path, framework, python_version):
    repo = bake(tmp_path, framework=framework, python_version=python_version, experiment="churn-model",
                experiment_name="churn_experiment")
    assert repo.name == "churn-model"
    assert files_of(repo) == expected_files("churn_experiment", framework)
    assert (repo / ".python-version").read_text().strip() == python_version
    assert f"python={python_version}" in (repo / "environment/environment.yml").read_text()


@pytest.mark.parametrize("framework", ["sklearn", "spacy"])
def test_two_stage_variant_has_exactly_the_expected_files(tmp_path, framework):
    repo = bake(tmp_path, framework=framework, stages="staging-production")
    assert files_of(repo) == expected_files("iris-classifier", framework, "staging-production")
    deploy = (repo / ".github/workflows/deploy.yml").read_bytes()
    assert deploy == (TEMPLATE / "{{cookiecutter.experiment}}" / TWO_STAGE_DEPLOY).read_bytes()


def test_nothing_is_left_unrendered_and_foreign_expressions_survive(tmp_path):
    repo = bake(tmp_path)
    verbatim = ("scripts", "schemas", ".github")  # copied without rendering; compared byte for byte elsewhere
    for path in repo.rglob("*"):
        if path.relative_to(repo).parts[0] in verbatim:
            continue
        if path.is_file() and path.suffix not in (".csv", ".png", ".spacy", ".joblib"):
            text = path.read_text(encoding="utf-8")
            assert "{%" not in text, path
            assert not re.search(r"(?<!\$)\{\{", text), path
    workflows = sorted((repo / ".github" / "workflows").glob("*.yml"))
    for workflow in workflows:
        source = TEMPLATE / "{{cookiecutter.experiment}}" / ".github" / "workflows" / workflow.name
        assert workflow.read_text() == source.read_text()
    assert {"deploy.yml", "pr.yml"} <= {w.name for w in workflows if "${{" in w.read_text()}


def test_toolkit_and_schemas_are_copies_not_links(tmp_path):
    repo = bake(tmp_path)
    for name in ("scripts", "schemas"):
        assert (repo / name).is_dir() and not (repo / name).is_symlink()
    for relative in TOOLKIT_FILES:
        assert (repo / relative).read_bytes() == (TEMPLATE / relative).read_bytes(), relative


def test_answers_reach_the_configs(tmp_path):
    repo = bake(tmp_path, service_name="fraud-svc-7", compute_name="gpu-nodes", max_nodes="4",
                workspace_name="mlw-prod", resource_group="rg-ml", azure_location="eastus2")
    compute = json.loads((repo / "azure-compute-config.json").read_text())
    azure = json.loads((repo / "azure-config.json").read_text())
    assert compute["compute_node_name"] == "gpu-nodes" and compute["max_nodes"] == 4
    assert azure == {"$schema": "./schemas/azure-config.schema.json", "resource_group": "rg-ml",
                     "workspace_name": "mlw-prod", "location": "eastus2"}
    assert "service_name: fraud-svc-7" in (repo / "iris-classifier.yml").read_text()


def _git_template(tmp_path: Path) -> Path:
    """A bare git copy of the template's working tree (committed or not), as `gh:org/template` would be."""
    work = tmp_path / "template-work"
    shutil.copytree(TEMPLATE, work, symlinks=True,
                    ignore=shutil.ignore_patterns(".venv", "build", ".git", "__pycache__", ".pytest_cache"))
    run(["git", "init", "-q", "-b", "main"], work)
    run(["git", "add", "-A"], work)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "template"], work)
    bare = tmp_path / "template.git"
    run(["git", "clone", "-q", "--bare", str(work), str(bare)], tmp_path)
    return bare


def test_generation_from_a_git_url_matches_a_local_path(tmp_path):
    bare = _git_template(tmp_path)
    home = tmp_path / "home"  # cookiecutter clones into ~/.cookiecutters: keep it private
    home.mkdir()
    run([str(BIN / "cookiecutter"), "--no-input", "-o", str(tmp_path / "from-git"), f"git+file://{bare}"],
        tmp_path, env={"HOME": str(home)})
    local = bake(tmp_path / "from-path")
    from_git = tmp_path / "from-git" / "iris-classifier"
    assert files_of(from_git) == files_of(local)
    for relative in files_of(local):
        assert (from_git / relative).read_bytes() == (local / relative).read_bytes(), relative


def test_generation_under_cruft_create(tmp_path):
    bare = _git_template(tmp_path)
    run([str(BIN / "cruft"), "create", "--no-input", "--output-dir", str(tmp_path / "out"), f"file://{bare}"],
        tmp_path)
    repo = tmp_path / "out" / "iris-classifier"
    local = bake(tmp_path / "from-path")
    assert files_of(repo) == files_of(local) | {".cruft.json"}
    assert (repo / "scripts" / "src" / "mlops" / "cli.py").is_file()


def test_generated_repo_is_self_contained_after_git_init(tmp_path):
    repo = bake(tmp_path)
    run(["git", "init", "-q"], repo)
    run(["git", "add", "-A"], repo)
    tracked = set(subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True).stdout.split())
    assert tracked == files_of(repo) - {p for p in files_of(repo) if p.startswith(".git/")}
    assert not [p for p in tracked if p.endswith(".env")]
