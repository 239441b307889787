"""Template updates with the real cruft against local git copies of this template.

A repo is generated from version 1 with `cruft create`, edited and committed as a data scientist
would; the template then changes (toolkit, a workflow, a config field rename) as version 2, and the
repo takes it with `make update` / `mlops update`.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import BIN, TEMPLATE, bake, mlops, run

GIT_USER = ["-c", "user.name=Data Scientist", "-c", "user.email=ds@example.com"]
MAKEFILE_HELP = "help:  ## list the targets"
SETUP_HELP = "## .venv: the toolkit"  # on the setup line, 3 lines below MAKEFILE_HELP


def commit(repo: Path, message: str) -> str:
    """Commit everything in ``repo``; return the new commit's SHA."""
    run(["git", "add", "-A"], repo)
    run(["git", *GIT_USER, "commit", "-qm", message], repo)
    return run(["git", "rev-parse", "HEAD"], repo).stdout.strip()


def template_copy(tmp_path: Path) -> Path:
    """A git repo holding this template's working tree (committed or not): version 1."""
    work = tmp_path / "template"
    shutil.copytree(TEMPLATE, work, symlinks=True,
                    ignore=shutil.ignore_patterns(".venv", "build", ".git", "__pycache__", ".pytest_cache"))
    run(["git", "init", "-q", "-b", "main"], work)
    commit(work, "template v1")
    return work


def cruft_create(template: Path, out: Path, *, commit_first=None, **answers) -> Path:
    """Generate with `cruft create`, then `git init`; ``commit_first`` edits the repo before its first commit."""
    extra = ["--extra-context", json.dumps(answers)] if answers else []
    run([str(BIN / "cruft"), "create", "--no-input", "--output-dir", str(out), *extra, str(template)], out.parent)
    repo = next(path for path in out.iterdir() if path.is_dir())
    run(["git", "init", "-q", "-b", "main"], repo)
    if commit_first:
        commit_first(repo)
    commit(repo, "Generated from the template")
    return repo


def edit(path: Path, old: str, new: str) -> None:
    """Replace ``old`` (which must be there) by ``new`` in ``path``."""
    text = path.read_text()
    assert old in text, f"{path.name} no longer holds {old!r}: update this test"
    path.write_text(text.replace(old, new))


def rename_smoke_timeout(template: Path) -> None:
    """Version 2's config change: smoke.timeout_seconds is now smoke.time_limit_seconds, with a migration."""
    edit(template / "schemas/experiment.schema.json", '"timeout_seconds": {', '"time_limit_seconds": {')
    # the modules that define or read the field: the typed settings (SmokeSettings) and the smoke run
    readers = [path for path in (template / "scripts/src/mlops").rglob("*.py")
               if re.search(r"class SmokeSettings\b|smoke\.timeout_seconds", path.read_text())]
    assert len(readers) >= 2, "the toolkit no longer defines and reads smoke.timeout_seconds: update this test"
    for path in readers:
        path.write_text(path.read_text().replace("timeout_seconds", "time_limit_seconds"))
    experiment = template / "{{cookiecutter.experiment}}/{{cookiecutter.experiment_name}}.yml"
    experiment.write_text(experiment.read_text().replace("  timeout_seconds:", "  time_limit_seconds:"))
    edit(template / "scripts/src/mlops/migrations.py", "MIGRATIONS: tuple[Migration, ...] = (\n",
         "MIGRATIONS: tuple[Migration, ...] = (\n"
         '    Rename("experiment", "smoke.timeout_seconds", "smoke.time_limit_seconds", since="0.2.0"),\n')


def template_v2(template: Path) -> str:
    """Change the toolkit, a workflow, the Makefile and a config field name; commit as version 2."""
    edit(template / "scripts/src/mlops/__init__.py", '__version__ = "0.1.0"', '__version__ = "0.2.0"')
    project = template / "{{cookiecutter.experiment}}"
    edit(project / ".github/workflows/pr.yml", "timeout-minutes: 30", "timeout-minutes: 25")
    edit(project / "Makefile", MAKEFILE_HELP, MAKEFILE_HELP + " (v2)")
    rename_smoke_timeout(template)
    return commit(template, "template v2")


def user_edits(repo: Path) -> dict[str, str]:
    """Edit train.py, the experiment file and the predictor as a data scientist would; commit."""
    experiment = repo / "iris-classifier.yml"
    edit(experiment, "    n_estimators: 200\n", "    n_estimators: 150  # fewer trees: as accurate, faster\n")
    edit(experiment, "  timeout_seconds: 300\n", "  timeout_seconds: 240  # our runner is fast\n")
    with (repo / "train.py").open("a") as script:
        script.write("\n# Reviewed by the data science team.\n")
    with (repo / "serving/sklearn_predictor.py").open("a") as predictor:
        predictor.write('\n\n# How the botanists name the classes in their reports.\n'
                        'DISPLAY_NAMES = {"setosa": "Iris setosa", "versicolor": "Iris versicolor"}\n')
    commit(repo, "Tune the experiment")
    return {name: (repo / name).read_text()
            for name in ("train.py", "serving/sklearn_predictor.py")}


def experiment_line(path: Path, start: str) -> int:
    """The 1-based number of the first line of ``path`` that starts with ``start``."""
    return next(number for number, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(start))


def untracked_rejects(repo: Path) -> list[Path]:
    return sorted(repo.rglob("*.rej"))


# --- the whole round trip, as a user runs it ---------------------------------------------------------

@pytest.mark.slow  # sets up a generated repo and runs its make check
def test_make_update_takes_v2_keeps_every_user_edit_and_passes_make_check(tmp_path):
    template = template_copy(tmp_path)
    (tmp_path / "out").mkdir()
    repo = cruft_create(template, tmp_path / "out")
    run(["make", "setup"], repo)
    kept = user_edits(repo)
    v2 = template_v2(template)

    update = run(["make", "update"], repo, check=False)
    output = update.stdout + update.stderr
    assert update.returncode == 0, output
    assert "update: updated from template commit" in output
    assert "migrate: iris-classifier.yml: smoke.timeout_seconds -> smoke.time_limit_seconds" in output
    assert "check: all passed" in output

    # the template's files took version 2, and the new toolkit is the one installed
    assert json.loads((repo / ".cruft.json").read_text())["commit"] == v2
    assert "timeout-minutes: 25" in (repo / ".github/workflows/pr.yml").read_text()
    assert MAKEFILE_HELP + " (v2)" in (repo / "Makefile").read_text()
    assert run([str(repo / ".venv/bin/mlops"), "--version"], repo).stdout.strip() == "mlops 0.2.0"
    # every user edit is kept; the renamed field kept its value and its comment
    for name, text in kept.items():
        assert (repo / name).read_text() == text, name
    experiment = (repo / "iris-classifier.yml").read_text()
    assert "    n_estimators: 150  # fewer trees: as accurate, faster\n" in experiment
    assert re.search(r"\n  time_limit_seconds: 240 +# our runner is fast\n", experiment)
    assert "timeout_seconds" not in experiment
    assert not untracked_rejects(repo)
    # the update is left for review: nothing was committed
    assert json.loads(run(["git", "show", "HEAD:.cruft.json"], repo).stdout)["commit"] != v2

    # without the migration, the new toolkit's validate (the PR check) says which field and what to run
    run(["git", "checkout", "HEAD", "--", "iris-classifier.yml"], repo)
    validate = run([str(repo / ".venv/bin/mlops"), "validate"], repo, check=False)
    assert validate.returncode == 1
    line = experiment_line(repo / "iris-classifier.yml", "  timeout_seconds:")
    assert validate.stdout.splitlines()[0] == (
        f"iris-classifier.yml:{line}:3: smoke.timeout_seconds: now called smoke.time_limit_seconds (toolkit 0.2.0): "
        "run `mlops migrate` to rename it, keeping its value and comments")


# --- conflicts: one clear message, never a .rej surprise --------------------------------------------

@pytest.fixture
def v1_repo(tmp_path):
    """Template version 1 and a repo generated from it, whose Makefile help line the user changed."""
    template = template_copy(tmp_path)
    (tmp_path / "out").mkdir()
    repo = cruft_create(template, tmp_path / "out")
    edit(repo / "Makefile", MAKEFILE_HELP, "help:  ## what you can run here")
    commit(repo, "Our own help text")
    return template, repo


def test_a_user_edit_to_a_template_owned_file_is_one_clear_conflict_message(v1_repo):
    template, repo = v1_repo
    v2 = template_v2(template)

    result = mlops("update", cwd=repo)
    assert result.returncode == 1
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("error: the template changed lines you also changed in Makefile: ")
    assert "<<<<<<< ours (yours)" in errors[0] and "`git add` the file" in errors[0]
    assert "Good work" not in result.stdout + result.stderr  # cruft's cheer after a conflict is not shown
    assert not untracked_rejects(repo)
    assert "<<<<<<< ours" in (repo / "Makefile").read_text()

    again = mlops("update", cwd=repo)  # not resolved yet: the same message, nothing else happens
    assert again.returncode == 1 and again.stderr == result.stderr

    text = re.sub(r"<<<<<<< ours\n(.*?)=======\n.*?>>>>>>> theirs\n", r"\1", (repo / "Makefile").read_text(),
                  flags=re.DOTALL)
    (repo / "Makefile").write_text(text)
    run(["git", "add", "Makefile"], repo)
    finished = mlops("update", cwd=repo, check=True)
    v1 = run(["git", "rev-parse", "HEAD~1"], template).stdout.strip()
    assert f"update: was updated from template commit {v1[:7]} to {v2[:7]}" in finished.stdout
    assert "note: the template changed its own version of iris-classifier.yml, which is yours" in finished.stdout
    assert json.loads((repo / ".cruft.json").read_text())["commit"] == v2
    assert "help:  ## what you can run here" in (repo / "Makefile").read_text()


def test_edits_made_before_the_first_commit_still_merge_where_plain_cruft_leaves_rej_files(tmp_path):
    """The repo never committed the template's own Makefile, so git lacks the blob a 3-way merge needs.

    The user's line is within the diff context of the template's change (so the patch does not apply
    as it is) but not next to it (so a 3-way merge takes both).
    """
    template = template_copy(tmp_path)
    (tmp_path / "out").mkdir()

    def tweak_before_committing(repo: Path) -> None:
        edit(repo / "Makefile", SETUP_HELP, SETUP_HELP + ", pinned")

    repo = cruft_create(template, tmp_path / "out", commit_first=tweak_before_committing)
    plain = tmp_path / "plain-cruft"
    run(["git", "clone", "-q", str(repo), str(plain)], tmp_path)
    template_v2(template)

    run([str(BIN / "cruft"), "update", "--skip-apply-ask", "--project-dir", str(plain)], plain)
    assert [path.name for path in untracked_rejects(plain)] == ["Makefile.rej"]  # cruft #47, #49, #206

    updated = mlops("update", cwd=repo, check=True)
    assert "Makefile" in updated.stdout
    makefile = (repo / "Makefile").read_text()
    assert MAKEFILE_HELP + " (v2)" in makefile and SETUP_HELP + ", pinned" in makefile
    assert not untracked_rejects(repo)


# --- what an update refuses, and adoption by a plain cookiecutter repo -------------------------------

def test_update_refuses_uncommitted_work_and_an_unlinked_repo(tmp_path):
    repo = bake(tmp_path / "plain")
    result = mlops("update", cwd=repo)
    assert result.returncode == 1
    assert result.stderr.startswith("error: .cruft.json: missing, so this repo is not linked to its template: ")
    assert "cruft link" in result.stderr and "Traceback" not in result.stderr

    template = template_copy(tmp_path)
    (tmp_path / "out").mkdir()
    linked = cruft_create(template, tmp_path / "out")
    with (linked / "train.py").open("a") as script:
        script.write("# work in progress\n")
    dirty = mlops("update", cwd=linked)
    assert dirty.returncode == 1
    assert dirty.stderr.strip() == ("error: uncommitted changes (train.py): commit or stash them first, so the "
                                    "update is a change of its own you can review and undo")


def test_a_plain_cookiecutter_repo_adopts_updates_with_cruft_link(tmp_path):
    template = template_copy(tmp_path)
    repo = bake(tmp_path / "plain")  # the README's `cookiecutter gh:org/template` path
    run(["git", "init", "-q", "-b", "main"], repo)
    v1 = run(["git", "rev-parse", "HEAD"], template).stdout.strip()
    run([str(BIN / "cruft"), "link", "--no-input", "--checkout", v1, str(template)], repo)
    commit(repo, "Generated with cookiecutter, linked with cruft link")
    v2 = template_v2(template)

    result = mlops("update", cwd=repo, check=True)
    assert "update: updated from template commit" in result.stdout
    assert json.loads((repo / ".cruft.json").read_text())["commit"] == v2
    assert "timeout-minutes: 25" in (repo / ".github/workflows/pr.yml").read_text()
    assert not untracked_rejects(repo)


def test_the_update_names_the_template_changes_to_files_the_user_owns(v1_repo):
    template, repo = v1_repo
    with (template / "{{cookiecutter.experiment}}/train.py").open("a") as script:
        script.write("# a better default in the template\n")
    commit(template, "template: train.py")
    edit(repo / "Makefile", "help:  ## what you can run here", MAKEFILE_HELP)
    commit(repo, "Back to the template's help text")
    result = mlops("update", cwd=repo, check=True)
    note = result.stdout[result.stdout.index("note: "):]
    assert note.startswith("note: the template changed its own version of train.py, which is yours, so the update "
                           "left it alone; if you want its change, here it is (the template's source):\n")
    assert "\n    +# a better default in the template\n" in note
    assert "# a better default in the template" not in (repo / "train.py").read_text()


# --- who owns what -----------------------------------------------------------------------------------

OWNED = {
    "sklearn": {"data/iris.csv", "data/evaluation/iris.csv", "serving/sklearn_predictor.py"},
    "spacy": {"config.cfg", "data/make_forms.py", "data/forms/train.jsonl", "data/forms/dev.jsonl",
              "data/evaluation/forms.jsonl", "serving/spacy_predictor.py"},
}
OWNED_BY_EVERY_VARIANT = {"train.py", "evaluate.py", "iris-classifier.yml", "azure-config.json",
                          "azure-compute-config.json", "environment/environment.yml", "serving/sample-request.json"}


@pytest.mark.parametrize("framework", sorted(OWNED))
def test_the_skip_list_is_exactly_the_data_scientists_files(tmp_path, framework):
    from mlops.ownership import is_user_owned, user_owned_patterns
    from mlops.template_link import TemplateLink

    repo = bake(tmp_path, framework=framework)
    patterns = user_owned_patterns(repo, TemplateLink(template="t", commit="c", checkout=None, answers={}))
    files = {path.relative_to(repo).as_posix() for path in repo.rglob("*") if path.is_file()}
    owned = {path for path in files if is_user_owned(path, patterns)}
    assert owned == OWNED_BY_EVERY_VARIANT | OWNED[framework]
    assert not [path for path in owned if path.startswith(("scripts/", "schemas/", ".github/"))]
    readme = (repo / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| you |"))
    for path in owned:
        assert f"`{path}`" in row or f"`{path.split('/')[0]}/`" in row, f"README's ownership table omits {path}"


# --- the weekly drift check ---------------------------------------------------------------------------

def test_drift_says_how_far_behind_and_how_to_update_without_writing(v1_repo, tmp_path):
    template, repo = v1_repo
    summary = tmp_path / "summary.md"
    current = mlops("drift", cwd=repo, check=True, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert current.stdout.startswith("drift: up to date: the repo matches its template's latest version")
    template_v2(template)
    with (template / "README.md").open("a") as readme:
        readme.write("\nA | in a subject must not break the table.\n")
    commit(template, "Template README: pipes | in subjects")
    head, status = (run(["git", *args], repo).stdout for args in (["rev-parse", "HEAD"], ["status", "--porcelain"]))

    behind = mlops("drift", cwd=repo, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert behind.returncode == 1, behind.stderr
    assert "drift: behind: 2 template commit(s) since" in behind.stdout
    assert "template v2" in behind.stdout and "make update" in behind.stdout
    markdown = summary.read_text()
    assert "Up to date: the repo matches" in markdown
    assert "Behind: 2 template commit(s) since" in markdown
    assert "| Template README: pipes \\| in subjects |" in markdown
    assert "To update: on a new branch run `make update`" in markdown
    assert (run(["git", "rev-parse", "HEAD"], repo).stdout, run(["git", "status", "--porcelain"], repo).stdout) == (
        head, status)


def test_drift_with_an_unreachable_template_is_one_line(v1_repo):
    _, repo = v1_repo
    state = json.loads((repo / ".cruft.json").read_text())
    state["template"] = str(repo.parent / "no-such-template")
    (repo / ".cruft.json").write_text(json.dumps(state))
    result = mlops("drift", cwd=repo)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: cruft check failed: ")
    assert result.stderr.strip().endswith(f"(is the template {state['template']} reachable from here?)")
