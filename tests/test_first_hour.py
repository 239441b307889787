"""A data scientist's first hour: the moments that used to cost time now say what to do."""

from __future__ import annotations

import re
import shutil
import socket

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
