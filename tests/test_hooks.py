"""The pre-gen hook: every bad answer is named before anything is written; answers are data, not code."""

from __future__ import annotations

import ast
import json
import re
import sys
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
        ({"stages": "staging-production", "registry_name": "r"}, "registry_name 'r' has 1 characters"),
        ({"stages": "staging-production", "service_name": "s" * 30},
         f"service_name '{'s' * 30}' leaves no room for production's endpoint"),
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
     ("azure_location", "location"), ("vm_size", "vmSize"), ("registry_name", "registryName")],
)
def test_hook_rules_match_the_schemas(answer, definition):
    names = json.loads((TEMPLATE / "schemas" / "azure-names.schema.json").read_text())["$defs"]
    pattern, low, high, _ = _hook_rules()[answer]
    assert (pattern, low, high) == (names[definition]["pattern"], names[definition]["minLength"],
                                    names[definition]["maxLength"])


def _hook_functions(*names: str) -> dict:
    """The hook's module-level ``DERIVED`` and the named functions, executed without rendering the hook."""
    tree = ast.parse(HOOK.read_text())
    keep = [node for node in tree.body
            if (isinstance(node, ast.FunctionDef) and node.name in names)
            or (isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DERIVED")]
    namespace: dict = {}
    exec(compile(ast.Module(body=keep, type_ignores=[]), str(HOOK), "exec"), namespace)
    return namespace


def test_a_failed_answer_ends_with_our_lines_and_no_traceback(tmp_path):
    code, stderr, _ = generate(tmp_path, service_name="x")
    assert code != 0
    assert "Traceback" not in stderr and "FailedHookException" not in stderr, stderr
    assert stderr.index("error: service_name 'x'") < stderr.index("Nothing was generated")


def test_the_printed_command_generates_again_with_the_answers_kept(tmp_path):
    code, stderr, _ = generate(tmp_path, description="Churn, from the CRM export", compute_name="9")
    assert code != 0
    command = stderr[stderr.index("cookiecutter --no-input"):].strip()
    assert "'description=Churn, from the CRM export'" in command
    fixed = command.replace("compute_name=9", "compute_name=cpu-cluster")
    run(["bash", "-c", f"PATH={BIN}:$PATH {fixed} -o {tmp_path / 'again'}"], tmp_path)
    experiment = yaml.safe_load((tmp_path / "again" / "iris-classifier" / "iris-classifier.yml").read_text())
    assert experiment["description"] == "Churn, from the CRM export"


def test_a_derived_answer_that_is_too_long_is_named_as_derived(tmp_path):
    slug = "customer-churn-prediction-model-v2"
    code, stderr, out = generate(tmp_path, experiment=slug)
    assert code != 0
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2, stderr
    assert f"service_name '{slug}-svc' (derived from experiment '{slug}') has 38 characters" in errors[0]
    assert "more than 32: answer service_name yourself, e.g. service_name=" in errors[0]
    assert "workspace_name" in errors[1] and "derived from experiment" in errors[1]
    assert max(len(line) for line in stderr.splitlines()) <= 300
    # The suggested answers are valid: generating with them succeeds.
    suggestions = dict(part.split("=", 1) for part in re.findall(r"e\.g\. (\S+=\S+),", stderr))
    (tmp_path / "again").mkdir()
    code, stderr, out = generate(tmp_path / "again", experiment=slug, **suggestions)
    assert code == 0, stderr


def test_default_names_read_well(tmp_path):
    repo = bake(tmp_path, experiment="churn-model")
    experiment = yaml.safe_load((repo / "churn-model.yml").read_text())
    assert experiment["model_name"] == "churn-model"
    assert experiment["service_name"] == "churn-model-svc"


@pytest.mark.parametrize("slug", ["iris-classifier", "churn-model", "fraud-svc", "x1"])
def test_the_hook_knows_how_each_default_is_derived(slug):
    from cookiecutter.generate import generate_context
    from cookiecutter.prompt import prompt_for_config

    sys.path.insert(0, str(TEMPLATE))
    try:
        context = generate_context(str(TEMPLATE / "cookiecutter.json"), extra_context={"experiment": slug})
        answers = prompt_for_config(context, no_input=True)
    finally:
        sys.path.remove(str(TEMPLATE))
    derived = _hook_functions("derived")["derived"]
    for field in _hook_functions()["DERIVED"]:
        assert derived(field, slug) == answers[field], field


@pytest.mark.parametrize("answers", [{}, {"service_name": "ab"}], ids=["generated", "refused"])
def test_generation_leaves_nothing_in_the_temporary_folder(tmp_path, answers):
    # cookiecutter runs each hook from a rendered copy in the temporary folder and never deletes it
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    result = run([str(BIN / "cookiecutter"), "--no-input", "-o", str(tmp_path / "out"), str(TEMPLATE),
                  *(f"{k}={v}" for k, v in answers.items())], tmp_path, check=False, env={"TMPDIR": str(scratch)})
    assert result.returncode == (1 if answers else 0), result.stderr
    assert list(scratch.iterdir()) == []
