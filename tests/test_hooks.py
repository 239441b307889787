"""The pre-gen hook: every bad answer is named before anything is written; answers are data, not code."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import yaml

from conftest import BIN, TEMPLATE, bake, run

HOOK = TEMPLATE / "hooks" / "pre_gen_project.py"


def generate(tmp_path: Path, **answers) -> tuple[int, str, Path]:
    """Run the cookiecutter CLI with ``answers``; return exit code, stderr and the output folder."""
    out = tmp_path / "out"
    result = run([str(BIN / "cookiecutter"), "--no-input", "-o", str(out), str(TEMPLATE),
                  *(f"{k}={v}" for k, v in answers.items())], tmp_path, check=False)
    return result.returncode, result.stderr, out


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"service_name": "ab"}, "service_name 'ab' has 2 characters: use 3-32 characters"),
        ({"service_name": "a" * 33}, "use 3-32 characters"),
        ({"service_name": "1-svc"}, "service_name '1-svc' is not a valid name"),
        ({"service_name": "svc-"}, "ending with a letter or digit"),
        ({"service_name": "my_svc"}, "service_name 'my_svc' is not a valid name"),
        ({"compute_name": "cpu-1"}, "a '-' must be followed later by a letter"),
        ({"compute_name": "c" * 25}, "compute_name"),
        ({"compute_name": "1cpu"}, "compute_name '1cpu' is not a valid name"),
        ({"experiment_name": "-exp"}, "experiment_name '-exp' is not a valid name"),
        ({"experiment_name": "e" * 257}, "use 1-256 characters"),
        ({"experiment": "My Experiment"}, "experiment 'My Experiment' is not a valid name"),
        ({"experiment": "json"}, "would shadow Python's 'json'"),
        ({"workspace_name": "w"}, "workspace_name 'w' has 1 characters"),
        ({"resource_group": "rg."}, "not ending with '.'"),
        ({"azure_location": "West Europe"}, "azure_location 'West Europe' is not a valid name"),
        ({"vm_size": "DS11"}, "vm_size 'DS11'"),
        ({"max_nodes": "0"}, "max_nodes '0' is not a whole number from 1 to 100"),
        ({"max_nodes": "two"}, "max_nodes 'two' is not a whole number"),
    ],
)
def test_bad_answer_is_named_and_nothing_is_written(tmp_path, answers, expected):
    code, stderr, out = generate(tmp_path, **answers)
    assert code != 0
    assert expected in stderr
    assert not out.exists() or not any(out.iterdir())


def test_every_problem_is_reported_at_once_one_line_each(tmp_path):
    code, stderr, _ = generate(tmp_path, service_name="x", compute_name="9", max_nodes="0")
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert code != 0 and len(errors) == 3, stderr


def test_quotes_and_backslashes_in_free_text_are_data(tmp_path):
    description = "O'Brien's \"model\" for C:\\data\\forms ''' \"\"\" \\"
    repo = bake(tmp_path, description=description)
    assert description in (repo / "README.md").read_text()
    experiment = yaml.safe_load((repo / "iris-classifier.yml").read_text())
    assert experiment["description"] == description
    for script in repo.rglob("*.py"):
        compile(script.read_text(), str(script), "exec")


@pytest.mark.parametrize("quote", ["'''", '"""'])
def test_a_crafted_answer_does_not_run_code(tmp_path, quote):
    marker = tmp_path / "pwned"
    crafted = f"{quote}); open({str(marker)!r}, 'w').write('x'); ({quote}"
    bake(tmp_path / "out", description=crafted)
    assert not marker.exists()


def _hook_rules() -> dict:
    tree = ast.parse(HOOK.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "RULES":
            return ast.literal_eval(node.value)
    raise AssertionError("RULES not found in the pre-gen hook")


@pytest.mark.parametrize(
    ("answer", "definition"),
    [("experiment_name", "experimentName"), ("model_name", "assetName"), ("service_name", "endpointName"),
     ("compute_name", "computeName"), ("workspace_name", "workspaceName"), ("resource_group", "resourceGroup"),
     ("azure_location", "location"), ("vm_size", "vmSize")],
)
def test_hook_rules_match_the_schemas(answer, definition):
    names = json.loads((TEMPLATE / "schemas" / "azure-names.schema.json").read_text())["$defs"]
    pattern, low, high, _ = _hook_rules()[answer]
    assert (pattern, low, high) == (names[definition]["pattern"], names[definition]["minLength"],
                                    names[definition]["maxLength"])
