"""mlops smoke-train: runs in an environment built from the runtime spec alone, and says what is missing."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

import pytest

from conftest import copy_sharing_venv, mlops, run
from mlops.local_runs import read_runs
from mlops.smoke import isolated_environment, run_streamed


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


def only_line(result) -> str:
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_no_later_check_passes_on_the_model_of_an_earlier_run(repo):
    assert mlops("smoke-train", cwd=repo).returncode == 0
    record = json.loads((repo / "outputs" / "smoke-run.json").read_text())
    assert record["status"] == "succeeded" and len(record["code"]) == 64
    assert run([str(repo / ".venv/bin/python"), "-m", "pytest", "-q", "tests"], repo, check=False).returncode == 0

    script = repo / "train.py"
    script.write_text(script.read_text().replace("model.fit(x_train, y_train)",
                                                 "model.fit(x_train, y_train)\nraise ValueError('a bug')"))
    failed = mlops("smoke-train", cwd=repo)
    assert failed.returncode == 1 and "ValueError: a bug" in failed.stderr
    line = script.read_text().splitlines().index("raise ValueError('a bug')") + 1
    assert f'File "train.py", line {line}, in <module>' in failed.stderr  # the author's line, not the assembled one
    assert not list((repo / "outputs").iterdir()), "a failed run left outputs behind"
    good, bad = read_runs(repo / "mlruns")[-2:]
    assert (good.status, bad.status) == ("FINISHED", "FAILED") and bad.error == "ValueError: a bug"
    table = mlops("runs", cwd=repo).stdout
    rows = {line.split(" | ")[0]: line for line in table.splitlines()}
    assert rows["| status"].endswith("| FINISHED | FAILED |") and rows["| error"].endswith("|  | ValueError: a bug |")
    assert rows["| metric accuracy"].endswith(f"| {good.metrics['accuracy']:g} |  |")  # the failed run has none
    for command in ("api-test", "serve"):
        assert only_line(mlops(command, cwd=repo)) == ("error: outputs/ holds no successful smoke run (the last one "
                                                       "failed or never ran): run `make smoke-train`")
    tests = run([str(repo / ".venv/bin/python"), "-m", "pytest", "-q", "tests"], repo, check=False)
    assert tests.returncode == 1 and "run `make smoke-train`" in tests.stdout


def test_outputs_of_other_code_are_refused_until_the_smoke_run_is_repeated(repo):
    assert mlops("smoke-train", cwd=repo).returncode == 0
    data = repo / "data" / "iris.csv"
    data.write_text(data.read_text() + data.read_text().splitlines()[1] + "\n")  # the CSV changed
    assert "comes from a smoke run of other code" in only_line(mlops("api-test", cwd=repo))
    assert mlops("smoke-train", cwd=repo).returncode == 0
    assert "comes from a smoke run of other code" not in mlops("api-test", "--adapter", "app", cwd=repo).stderr


def test_the_scripts_lines_come_through_log_as_printed_and_a_run_past_its_timeout_is_killed(tmp_path):
    lines = []
    script = "import sys\nprint('one')\nprint('oops', file=sys.stderr)\nprint('two')\nsys.exit(3)"
    result = run_streamed([sys.executable, "-c", script], tmp_path, dict(os.environ), 60, lines.append)
    assert (lines, result.returncode, result.stderr) == (["one", "two"], 3, "oops\n")
    started = time.monotonic()
    slow = "import time\nprint('started')\ntime.sleep(60)"
    assert run_streamed([sys.executable, "-c", slow], tmp_path, dict(os.environ), 1, lines.append) is None
    assert time.monotonic() - started < 30 and lines[-1] == "started"


def test_a_jupyter_kernels_plot_backend_is_not_passed_to_the_runtime(monkeypatch):
    # the runtime has no matplotlib_inline: `import matplotlib` fails there with this backend set
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    assert "MPLBACKEND" not in isolated_environment()
    monkeypatch.setenv("MPLBACKEND", "Agg")
    assert isolated_environment()["MPLBACKEND"] == "Agg"
