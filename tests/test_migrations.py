"""Config migrations: `mlops validate` names an old field and its new name, `mlops migrate` rewrites it.

The repos here hold configs in an older shape than the toolkit's (a field under its old name, a
required field missing), with the migration table set to the entries such a template change adds.
"""

from __future__ import annotations

import json

import pytest

import mlops.migrations as migrations
from conftest import bake, mlops
from mlops.migrating import migrate_project
from mlops.migrations import Add, Rename
from mlops.validation import validate_project

OLDER_SHAPE = (
    Rename("experiment", "smoke.timeout_secs", "smoke.timeout_seconds", since="0.2.0"),
    Rename("compute", "vm_sku", "vm_size", since="0.2.0"),
    Add("compute", "max_nodes", 1, since="0.2.0"),
)


@pytest.fixture
def older_repo(tmp_path, monkeypatch):
    """A generated repo whose configs predate OLDER_SHAPE, with OLDER_SHAPE as the toolkit's table."""
    repo = bake(tmp_path)
    experiment = repo / "iris-classifier.yml"
    text = experiment.read_text()
    assert "  timeout_seconds: 300\n" in text
    experiment.write_text(text.replace("  timeout_seconds: 300\n", "  timeout_secs: 240  # fast runners\n"))
    compute = json.loads((repo / "azure-compute-config.json").read_text())
    older = {("vm_sku" if key == "vm_size" else key): value for key, value in compute.items() if key != "max_nodes"}
    (repo / "azure-compute-config.json").write_text(json.dumps(older, indent=2) + "\n")
    monkeypatch.setattr(migrations, "MIGRATIONS", OLDER_SHAPE)
    return repo


def test_validate_names_each_old_field_and_its_new_form_once(older_repo):
    lines = (older_repo / "iris-classifier.yml").read_text().splitlines()
    line = next(number for number, text in enumerate(lines, 1) if text.startswith("  timeout_secs:"))
    findings = [str(finding) for finding in validate_project(older_repo).findings]
    assert findings == [
        "azure-compute-config.json:1:1: max_nodes: required since toolkit 0.2.0: run `mlops migrate` to add it "
        "with its default max_nodes: 1, or add it yourself",
        "azure-compute-config.json:4:3: vm_sku: now called vm_size (toolkit 0.2.0): run `mlops migrate` to rename "
        "it, keeping its value and comments",
        f"iris-classifier.yml:{line}:3: smoke.timeout_secs: now called smoke.timeout_seconds (toolkit 0.2.0): run "
        "`mlops migrate` to rename it, keeping its value and comments",
    ]


def test_migrate_rewrites_only_the_fields_keeping_comments_order_and_values(older_repo):
    experiment = older_repo / "iris-classifier.yml"
    before = experiment.read_text()
    applied = migrate_project(older_repo)
    assert [(item.file, item.migration) for item in applied] == [
        ("azure-compute-config.json", OLDER_SHAPE[1]), ("azure-compute-config.json", OLDER_SHAPE[2]),
        ("iris-classifier.yml", OLDER_SHAPE[0])]
    assert experiment.read_text() == before.replace("  timeout_secs: 240  # fast", "  timeout_seconds: 240 # fast")
    compute = json.loads((older_repo / "azure-compute-config.json").read_text())
    assert list(compute)[:3] == ["$schema", "compute_node_name", "vm_size"] and compute["max_nodes"] == 1
    assert not validate_project(older_repo).findings
    assert migrate_project(older_repo) == []  # twice changes nothing


def test_an_added_field_lands_before_the_next_sections_comment(tmp_path):
    repo = bake(tmp_path)
    experiment = repo / "iris-classifier.yml"
    before = experiment.read_text()
    migrate_project(repo, (Add("experiment", "serve.max_items", 100, since="0.2.0"),))
    assert experiment.read_text() == before.replace("  max_body_bytes: 1048576\n",
                                                    "  max_body_bytes: 1048576\n  max_items: 100\n")


def test_migrate_command_says_what_it_changed_and_refuses_a_broken_file(tmp_path):
    repo = bake(tmp_path)
    result = mlops("migrate", cwd=repo, check=True)
    assert result.stdout.strip() == "migrate: the configs already have the current toolkit's shape; nothing to change"
    (repo / "azure-config.json").write_text('{"resource_group": "rg",}\n')
    broken = mlops("migrate", cwd=repo)
    assert broken.returncode == 1 and "Traceback" not in broken.stderr
    assert broken.stderr.startswith("error: azure-config.json:1:24: trailing comma")


def test_a_rename_must_stay_in_its_mapping():
    with pytest.raises(ValueError, match="same mapping"):
        Rename("experiment", "smoke.timeout_seconds", "train.timeout_seconds", since="0.2.0")
