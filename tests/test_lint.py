"""ruff passes on the template's own Python and on every generated variant; the variants' pre-commit hooks
are pinned, valid, and run the ruff of scripts/requirements.lock."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from conftest import BIN, TEMPLATE, bake, run

ANSWERS = json.loads((TEMPLATE / "cookiecutter.json").read_text())
RUFF_PIN = re.search(r"^ruff==(\S+)$", (TEMPLATE / "scripts/requirements.lock").read_text(), re.MULTILINE).group(1)
# A tag or a commit: never a branch, so a hook cannot change under a repo that did not change.
PINNED_REV = re.compile(r"^v?\d+(\.\d+)+$|^[0-9a-f]{40}$")


def test_ruff_finds_nothing():
    result = run([str(BIN / "ruff"), "check", "--no-cache", "scripts/src", "hooks", "tests", "benchmarks"],
                 TEMPLATE, check=False)
    assert result.returncode == 0, result.stdout


def hooks(repo) -> dict[str, tuple[str, str | None, dict]]:
    """The hooks of a generated repo's .pre-commit-config.yaml by id, each with its repo's URL and rev."""
    config = yaml.safe_load((repo / ".pre-commit-config.yaml").read_text())
    return {hook["id"]: (entry["repo"], entry.get("rev"), hook) for entry in config["repos"] for hook in entry["hooks"]}


@pytest.mark.parametrize("framework", ANSWERS["framework"])
@pytest.mark.parametrize("python_version", ANSWERS["python_version"])
def test_every_variant_passes_ruff_as_the_commit_hook_runs_it(tmp_path, framework, python_version):
    repo = bake(tmp_path, framework=framework, python_version=python_version)
    assert f'target-version = "py{python_version.replace(".", "")}"' in (repo / "ruff.toml").read_text()
    run(["git", "init", "-q"], repo)
    run(["git", "add", "-A"], repo)
    files = run(["git", "ls-files", "*.py", "*.ipynb"], repo).stdout.split()
    assert "train.py" in files and any(name.startswith("scripts/") for name in files)
    # As pre-commit's ruff-check hook runs it: every staged file named, --force-exclude, the hook's args.
    _, _, hook = hooks(repo)["ruff-check"]
    result = run([str(BIN / "ruff"), "check", "--no-cache", "--force-exclude", *hook.get("args", []), *files], repo,
                 check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert run(["git", "diff", "--name-only"], repo).stdout == ""  # --fix found nothing to fix
    # As `make lint` runs it.
    result = run([str(BIN / "ruff"), "check", "--no-cache", "."], repo, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_lint_sees_a_mistake_in_the_data_scientists_code_but_not_in_the_toolkit(tmp_path):
    repo = bake(tmp_path)
    (repo / "train.py").write_text((repo / "train.py").read_text() + "\nimport os\n")
    for written_elsewhere in ("scripts/src/mlops", "build/smoke", "outputs", "mlruns", ".venv-runtime"):
        (repo / written_elsewhere).mkdir(parents=True, exist_ok=True)
        (repo / written_elsewhere / "scratch.py").write_text("import os\n")
    result = run([str(BIN / "ruff"), "check", "--no-cache", "--output-format", "concise", "."], repo, check=False)
    assert result.returncode == 1
    assert [line.split(":")[0] for line in result.stdout.splitlines() if " F401 " in line] == ["train.py"]


def test_pre_commit_hooks_are_pinned_valid_and_run_the_locked_ruff(tmp_path):
    repo = bake(tmp_path)
    found = hooks(repo)
    assert {"ruff-check", "nbstripout"} <= set(found)
    for hook_id, (url, rev, _) in found.items():
        assert rev and PINNED_REV.match(rev), f"{hook_id} from {url} is not pinned to a tag or commit: {rev!r}"
    url, rev, _ = found["ruff-check"]
    assert (url, rev) == ("https://github.com/astral-sh/ruff-pre-commit", f"v{RUFF_PIN}")
    # validate-config reads the file only (no clone, no network): the schema pre-commit itself applies.
    result = run([str(BIN / "pre-commit"), "validate-config", ".pre-commit-config.yaml"], repo, check=False,
                 env={"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")})
    assert result.returncode == 0, result.stdout + result.stderr
    assert run([str(BIN / "ruff"), "--version"], repo).stdout.split() == ["ruff", RUFF_PIN]


def test_the_lint_step_of_make_check_runs_the_locked_ruff_on_the_repo(tmp_path):
    repo = bake(tmp_path)
    makefile = (repo / "Makefile").read_text()
    recipe = re.search(r"^lint:[^\n]*\n((?:\t[^\n]*\n)+)", makefile, re.MULTILINE).group(1)
    assert "\t$(BIN)/ruff check .\n" in recipe
    assert "lint" in re.search(r"^check:([^#\n]*)", makefile, re.MULTILINE).group(1).split()
