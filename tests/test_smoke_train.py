"""mlops smoke-train: runs in an environment built from the runtime spec alone, and says what is missing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from conftest import copy_sharing_venv, mlops


def tracked_digest(repo: Path) -> dict[str, str]:
    skip = {".venv", "outputs", "build", "mlruns", ".pytest_cache", "__pycache__"}  # all git-ignored
    return {p.relative_to(repo).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in repo.rglob("*") if p.is_file() and not skip & set(p.relative_to(repo).parts)}


@pytest.fixture
def repo(set_up_repo, tmp_path) -> Path:
    """A copy of the set-up sklearn repo that a test may edit (its .venv is shared by symlink)."""
    source = set_up_repo("sklearn")
    return copy_sharing_venv(source, tmp_path / source.name)


def test_smoke_train_writes_model_and_metrics_without_editing_a_file(repo):
    before = tracked_digest(repo)
    result = mlops("smoke-train", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "--n_estimators 5" in result.stdout  # the smoke override, merged over train.args
    assert "Smoke training passed" in result.stdout and "accuracy:" in result.stdout
    assert (repo / "outputs" / "model.joblib").is_file()
    assert (repo / "outputs" / "metrics.json").is_file()
    assert tracked_digest(repo) == before


def test_a_package_missing_from_the_spec_fails_fast_naming_module_and_file(repo):
    script = repo / "train.py"
    script.write_text("import lightgbm  # not in environment/environment.yml\n" + script.read_text())
    result = mlops("smoke-train", cwd=repo)
    assert result.returncode == 1
    assert ("train.py:1: imports 'lightgbm', which environment/environment.yml does not install: "
            "add 'lightgbm' under pip: in environment/environment.yml") in result.stderr
    assert "Traceback" not in result.stderr
    assert "Smoke training:" not in result.stdout  # caught before training started


def test_import_name_is_mapped_to_its_package(repo):
    spec = repo / "environment" / "environment.yml"
    spec.write_text(spec.read_text().replace("      - scikit-learn==1.9.1\n", ""))
    (repo / "environment" / "environment.yml").write_text(spec.read_text())
    result = mlops("smoke-train", cwd=repo)
    assert result.returncode == 1
    assert "imports 'sklearn', which environment/environment.yml does not install: add 'scikit-learn'" in result.stderr


def test_a_dynamic_import_failing_at_run_time_gets_the_same_advice(repo):
    script = repo / "train.py"
    script.write_text(script.read_text() + "\n__import__('bs4')\n")  # (yaml now arrives with mlflow)
    result = mlops("smoke-train", cwd=repo)
    assert result.returncode == 1
    assert "imports 'bs4', which environment/environment.yml does not install: add 'beautifulsoup4'" in result.stderr


def test_a_file_not_shipped_with_the_job_fails_like_it_would_in_azure(repo):
    (repo / "notes").mkdir()
    (repo / "notes" / "labels.txt").write_text("setosa\n")
    script = repo / "train.py"
    script.write_text(script.read_text() + "\nopen('notes/labels.txt').read()\n")
    result = mlops("smoke-train", cwd=repo)
    assert result.returncode == 1
    assert "FileNotFoundError" in result.stderr and "train.py failed with exit code 1" in result.stderr


def test_invalid_configs_stop_smoke_train_before_anything_runs(repo):
    config = repo / "azure-compute-config.json"
    config.write_text(config.read_text().replace('"max_nodes"', '"max_node"'))
    result = mlops("smoke-train", cwd=repo)
    assert result.returncode == 1
    assert "did you mean 'max_nodes'?" in result.stderr


def test_the_environment_is_reused_while_the_spec_is_unchanged(repo):
    first = mlops("smoke-train", cwd=repo)
    second = mlops("smoke-train", cwd=repo)
    assert first.returncode == second.returncode == 0
    assert "Building the runtime environment" not in second.stdout
