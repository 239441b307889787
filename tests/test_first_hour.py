"""A data scientist's first hour: the moments that used to cost time now say what to do."""

from __future__ import annotations

import json
import re
import shutil
import socket
from pathlib import Path

from conftest import bake, mlops, run


def test_serve_on_a_port_in_use_names_the_flag_that_fixes_it(set_up_repo):
    repo = set_up_repo("sklearn")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = mlops("serve", "--port", str(port), cwd=repo)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"error: port {port} is in use on 127.0.0.1 (another server?): "
        f"choose another with `mlops serve --port {port + 1}`"]
    assert "Serving" not in result.stdout


def _setup_with_python(tmp_path, version: str, path: str | None = None):
    repo = bake(tmp_path)
    (repo / ".python-version").write_text(f"{version}\n")
    env = {"PATH": path} if path else None
    return repo, run(["make", "setup"], repo, check=False, env=env)


def test_a_missing_python_is_named_with_where_its_version_came_from(tmp_path):
    repo, result = _setup_with_python(tmp_path, "3.99")
    assert result.returncode != 0
    assert "setup: Python 3.99 is not installed. The version comes from .python-version" in result.stderr
    assert "`uv python install 3.99`" in result.stderr
    assert "write an installed version in .python-version" in result.stderr
    assert not (repo / ".venv").exists()


def test_a_missing_python_without_uv_leaves_no_venv_of_another_version(tmp_path):
    system_path = ":".join(p for p in ("/usr/local/bin", "/usr/bin", "/bin") if shutil.which("make", path=p))
    repo, result = _setup_with_python(tmp_path, "3.99", path=system_path or "/usr/bin:/bin")
    assert result.returncode != 0
    assert "setup: Python 3.99 is not installed" in result.stderr
    assert not (repo / ".venv").exists()


def test_an_empty_python_version_file_says_what_to_write(tmp_path):
    repo, result = _setup_with_python(tmp_path, "")
    assert result.returncode != 0
    assert ".python-version is missing or empty" in result.stderr
    assert not (repo / ".venv").exists()


def test_every_toolkit_command_the_readme_promises_has_a_make_target_with_a_banner(tmp_path):
    repo = bake(tmp_path)
    makefile = (repo / "Makefile").read_text()
    recipes = dict(re.findall(r"^([a-z-]+):[^\n]*\n((?:\t[^\n]*\n)+)", makefile, flags=re.M))
    for target in ("validate", "smoke-train", "plan", "api-test", "train", "deploy", "doctor", "serve"):
        assert target in recipes, target
        assert f"$(MLOPS) {target}" in recipes[target], target
    for target in ("validate", "smoke-train", "plan", "api-test", "train", "deploy"):
        assert recipes[target].startswith(f'\t@echo "{target}: '), target


def test_train_without_credentials_on_a_laptop_is_one_line_that_starts_with_the_fix(set_up_repo, tmp_path):
    repo = set_up_repo("sklearn")
    no_az = tmp_path / "bin"
    no_az.mkdir()
    (no_az / "make").symlink_to(shutil.which("make"))
    env = {"AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000000", "PATH": str(no_az),
           # the Azure CLI credential alone: no managed-identity probe of 169.254.169.254 from a test
           "AZURE_TOKEN_CREDENTIALS": "AzureCliCredential", "GITHUB_ACTIONS": ""}
    result = mlops("train", cwd=repo, env=env)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [result.stderr.strip()], result.stderr
    assert result.stderr.startswith("error: log in to Azure first: install the Azure CLI"), result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert max(len(line) for line in (result.stdout + result.stderr).splitlines()) <= 300
    debug = mlops("--debug", "train", cwd=repo, env=env)
    assert "detail: " in debug.stderr and "AzureCliCredential" in debug.stderr


def test_setup_gives_editors_and_notebooks_the_runtime_interpreter(set_up_repo):
    repo = set_up_repo("sklearn")
    settings = json.loads((repo / ".vscode" / "settings.json").read_text())
    interpreter = Path(settings["python.defaultInterpreterPath"].replace("${workspaceFolder}", str(repo)))
    assert interpreter == repo / ".venv-runtime" / "bin" / "python" and interpreter.exists()
    run([str(interpreter), "-c", "import sklearn, pandas, mlflow"], repo)
    trained = run([str(interpreter), "train.py", "--training_data", "data/iris.csv", "--n_estimators", "3"], repo)
    assert trained.returncode == 0
    assert ".venv-runtime" in (repo / ".gitignore").read_text().splitlines()
    result = mlops("runtime-env", cwd=repo, check=True)  # again: the same environment, relinked
    assert result.stdout.startswith("runtime-env: .venv-runtime/bin/python has the packages")
    assert interpreter.exists()


def test_mlops_check_runs_the_steps_of_make_check_in_their_order(tmp_path):
    from mlops.commands.check import STEPS

    makefile = (bake(tmp_path) / "Makefile").read_text()
    prerequisites = re.search(r"^check:([^#\n]*)", makefile, re.MULTILINE).group(1).split()
    assert list(STEPS) == prerequisites


def test_mlops_check_stops_at_the_first_failing_step_and_names_it(set_up_repo, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(set_up_repo("sklearn"), repo, symlinks=True, ignore=shutil.ignore_patterns("build", "outputs"))
    config = repo / "azure-compute-config.json"
    config.write_text(config.read_text().replace('"max_nodes": 1', '"max_nodes": 0'))
    result = mlops("check", cwd=repo)
    assert result.returncode == 1
    assert "check: validate" in result.stdout and "check: smoke-train" not in result.stdout
    assert "max_nodes" in result.stdout
    assert result.stderr.strip() == ("check: validate failed: fix what it printed above, "
                                     "then run `mlops check` again")


def test_mlops_check_passes_where_make_check_passes(set_up_repo):
    result = mlops("check", cwd=set_up_repo("sklearn"))
    assert result.returncode == 0, result.stdout + result.stderr
    banners = [line for line in result.stdout.splitlines() if line.startswith("check: ")]
    steps = ("validate", "lint", "smoke-train", "plan", "test", "api-test", "rehearse")
    assert banners[:-1] == [f"check: {step}" for step in steps]
    assert banners[-1].startswith("check: all passed (validate ")
