"""mlops validate: every bad input is one clear, located line; valid repos pass; never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import mlops
from mlops.validation import validate_project

EXPERIMENT = "iris-classifier.yml"
REFERENCE_COMPUTE_CONFIG = """{
    "compute_node_name": "ExampleComputeClusterNode",
    "max_nodes": 1,
    "vm_size": "Standard_DS11_v2",
    "idle_seconds_before_scaledown": 600,
    "deploy_cpu_cores": 0.2,
    "deploy_memory_gb": 1,
    "deploy_cluster_name": "DevelopDeployed",
    "deploy_dns_name": "ExampleDeployedModel"
}
"""


@pytest.fixture
def repo(fresh_repo) -> Path:
    return fresh_repo()


def findings(repo: Path) -> list[str]:
    return [str(f) for f in validate_project(repo).findings]


def edit_json(repo: Path, name: str, **changes) -> None:
    path = repo / name
    data = json.loads(path.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    path.write_text(json.dumps(data, indent=2) + "\n")


def replace(repo: Path, name: str, old: str, new: str) -> None:
    path = repo / name
    text = path.read_text()
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1))


def test_generated_repo_is_valid_and_cli_exits_0(repo):
    assert findings(repo) == []
    result = mlops("validate", cwd=repo)
    assert result.returncode == 0 and result.stdout.startswith("valid: iris-classifier.yml"), result.stdout


def test_reference_documents_compute_config_validates_with_a_warning(repo):
    (repo / "azure-compute-config.json").write_text(REFERENCE_COMPUTE_CONFIG)
    report = validate_project(repo)
    assert report.errors == []
    assert [f.field for f in report.findings] == ["compute_node_name", "deploy_dns_name"]
    assert "at most 24 characters" in report.findings[0].message


def test_unknown_key_gets_did_you_mean_with_its_line(repo):
    replace(repo, "azure-compute-config.json", '"max_nodes"', '"max_node"')
    lines = findings(repo)
    assert ("azure-compute-config.json:1:1: missing required key 'max_nodes': "
            "add it (see the schema for an example)") in lines
    assert "azure-compute-config.json:6:3: max_node: unknown key 'max_node': did you mean 'max_nodes'?" in lines


def test_unknown_key_in_yaml_names_line_and_column(repo):
    replace(repo, EXPERIMENT, "service_name:", "servce_name:")
    lines = findings(repo)
    assert any(line.startswith(f"{EXPERIMENT}:8:1: servce_name: unknown key 'servce_name': did you mean "
                               "'service_name'?") for line in lines), lines


def test_trailing_comma_is_located(repo):
    replace(repo, "azure-config.json", '"location": "westeurope"', '"location": "westeurope",')
    assert findings(repo) == [
        "azure-config.json:5:27: trailing comma after the last item: JSON allows none, remove it"]


def test_json_syntax_error_has_line_and_column(repo):
    replace(repo, "azure-config.json", '"resource_group":', '"resource_group"')
    [line] = findings(repo)
    assert line.startswith("azure-config.json:3:") and "invalid JSON: expecting ':' delimiter" in line


def test_yaml_syntax_error_has_line(repo):
    replace(repo, EXPERIMENT, "model_name: iris-classifier-model", "model_name: [iris")
    [line] = findings(repo)
    assert line.startswith(f"{EXPERIMENT}:") and "invalid YAML" in line


def test_empty_file(repo):
    (repo / "azure-config.json").write_text("")
    (repo / EXPERIMENT).write_text("# only a comment\n")
    lines = findings(repo)
    assert "azure-config.json:1:1: the file is empty: it must hold a mapping of keys to values" in lines
    assert f"{EXPERIMENT}:1:1: the file is empty: it must hold a mapping of keys to values" in lines


def test_list_where_a_mapping_belongs(repo):
    (repo / "azure-config.json").write_text('["rg", "ws"]\n')
    assert findings(repo) == ["azure-config.json:1:1: expected a mapping of keys to values, found a list"]


def test_byte_order_mark_is_accepted(repo):
    path = repo / "azure-config.json"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert findings(repo) == []


def test_tab_in_yaml_indentation(repo):
    replace(repo, EXPERIMENT, "    - serving\n", "\t- serving\n")
    [line] = findings(repo)
    assert "a tab indents this line: YAML allows only spaces, replace the tab" in line
    assert line.startswith(f"{EXPERIMENT}:")


@pytest.mark.parametrize("name", ["azure-config.json", EXPERIMENT])
def test_duplicate_key(repo, name):
    if name.endswith(".json"):
        replace(repo, name, '"location": "westeurope"', '"location": "westeurope", "location": "eastus"')
        expected = "azure-config.json:5:29: key 'location' appears twice (first on line 5): keep one"
    else:
        replace(repo, name, "framework: sklearn", "framework: sklearn\nframework: spacy")
        expected = f"{EXPERIMENT}:10:1: key 'framework' appears twice (first on line 9): keep one"
    assert findings(repo) == [expected]


def test_bytes_that_are_not_utf8(repo):
    path = repo / "azure-config.json"
    path.write_bytes(path.read_bytes().replace(b"westeurope", b"west\xffeurope"))
    assert findings(repo) == ["azure-config.json:5:20: byte 0xff is not UTF-8 text: save the file as UTF-8"]


@pytest.mark.parametrize("key", ["client_secret", "CLIENT_SECRET", "password", "storage_account_key", "sas_token"])
def test_secret_looking_keys_are_refused(repo, key):
    edit_json(repo, "azure-config.json", **{key: "hunter2"})
    [line] = findings(repo)
    assert line.endswith(f"{key}: looks like a secret: secrets belong in GitHub secrets or .env, not in config")
    assert "hunter2" not in line


def test_wrong_type_and_range(repo):
    edit_json(repo, "azure-compute-config.json", max_nodes="4", min_nodes=-1)
    lines = findings(repo)
    assert "azure-compute-config.json:6:16: max_nodes: expected a whole number, found '4'" in lines
    assert any("min_nodes: -1 is out of range: use a value from 0 to 100" in line for line in lines), lines


def test_azure_naming_rules_apply(repo):
    replace(repo, EXPERIMENT, "service_name: iris-classifier-svc", "service_name: Iris_Svc")
    [line] = findings(repo)
    assert line.startswith(f"{EXPERIMENT}:8:15: service_name: 'Iris_Svc' is not valid: Online endpoint")


def test_kubernetes_target_needs_its_cluster_and_sizes(repo):
    edit_json(repo, "azure-compute-config.json", deploy_target="kubernetes", deploy_cpu_cores=None)
    lines = findings(repo)
    assert any("missing required key 'deploy_cluster_name'" in line for line in lines), lines
    assert any("missing required key 'deploy_cpu_cores'" in line for line in lines), lines


def test_missing_local_folder_and_dependency_spec(repo):
    replace(repo, EXPERIMENT, "\ntrain:\n", "\nlocal:\n  - data\n\ntrain:\n")
    shutil.rmtree(repo / "data")
    (repo / "environment" / "environment.yml").unlink()
    lines = findings(repo)
    assert (f"{EXPERIMENT}:12:15: dependencies: 'environment/environment.yml' is not a file in the repo: "
            "create it or fix the path") in lines
    assert any("local[0]: 'data' is not a file or folder in the repo" in line for line in lines), lines
    assert any("inputs.training_data.sample: 'data/iris.csv' is not a file" in line for line in lines), lines


def test_conda_only_package_in_the_runtime_spec(repo):
    replace(repo, "environment/environment.yml", "  - pip\n", "  - pip\n  - cudatoolkit=11.8\n")
    [line] = findings(repo)
    assert ("environment/environment.yml:9:5: dependencies[2]: conda package 'cudatoolkit=11.8' "
            "cannot be installed") in line


def test_path_escaping_the_repo_is_refused(repo):
    replace(repo, EXPERIMENT, "\ntrain:\n", "\nlocal:\n  - ../secrets\n\ntrain:\n")
    [line] = findings(repo)
    assert "local[0]: '../secrets' is not valid" in line


def test_missing_config_file(repo):
    (repo / "azure-config.json").unlink()
    assert findings(repo) == ["azure-config.json:1:1: missing: create azure-config.json "
                              "(see schemas/azure-config.schema.json)"]


def test_cli_prints_github_annotations_in_actions_and_exits_1(repo):
    replace(repo, "azure-compute-config.json", '"max_nodes"', '"max_node"')
    result = mlops("validate", cwd=repo, env={"GITHUB_ACTIONS": "true"})
    assert result.returncode == 1
    assert ("::error file=azure-compute-config.json,line=6,col=3,title=max_node::azure-compute-config.json:6:3: "
            "max_node: unknown key 'max_node': did you mean 'max_nodes'?") in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_cli_without_actions_prints_no_annotations(repo):
    replace(repo, "azure-compute-config.json", '"max_nodes"', '"max_node"')
    result = mlops("validate", cwd=repo, env={"GITHUB_ACTIONS": ""})
    assert result.returncode == 1 and "::error" not in result.stdout


def test_cli_outside_an_experiment_repo(tmp_path):
    result = mlops("validate", cwd=tmp_path)
    assert result.returncode == 1
    assert "no <experiment>.yml here" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_json_indented_with_tabs_is_valid_and_located(repo):
    path = repo / "azure-compute-config.json"
    path.write_text(path.read_text().replace("  ", "\t").replace('"max_nodes": 1', '"max_nodes": "1"'))
    [line] = findings(repo)
    assert line.startswith("azure-compute-config.json:6:15: max_nodes: expected a whole number")


def test_python_dash_m_runs_the_same_cli(repo):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "mlops", "validate"], cwd=repo, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("valid:")


def test_a_rollout_longer_than_the_deploy_jobs_timeout_is_refused(repo):
    assert findings(repo) == []
    replace(repo, EXPERIMENT, "  rollout: []\n  step_seconds: 300\n  timeout_minutes: 30\n",
            "  rollout:\n    - mirror: 10\n    - canary: 25\n    - canary: 50\n  step_seconds: 900\n"
            "  timeout_minutes: 60\n")
    [finding] = findings(repo)
    assert finding.startswith(f"{EXPERIMENT}:")
    assert ("deploy: the release can take 105 minutes (timeout_minutes 60 + 3 rollout step(s) of 900 s) but job "
            "deploy in .github/workflows/deploy.yml stops after timeout-minutes 90") in finding
    # the limit is read from the workflow: a longer job timeout makes the same section fit
    replace(repo, ".github/workflows/deploy.yml", "timeout-minutes: 90", "timeout-minutes: 105")
    assert findings(repo) == []
    replace(repo, ".github/workflows/deploy.yml", "timeout-minutes: 105", "timeout-minutes: 104")
    assert "stops after timeout-minutes 104" in findings(repo)[0]


@pytest.mark.parametrize(("vm_size", "image", "expected"), [
    ("Standard_NC6s_v3", None,
     "is a CPU image but vm_size 'Standard_NC6s_v3' in azure-compute-config.json is a GPU size"),
    ("Standard_DS11_v2", "mcr.microsoft.com/azureml/openmpi4.1.0-cuda11.8-cudnn8-ubuntu22.04:latest",
     "is a GPU (CUDA) image but vm_size 'Standard_DS11_v2' in azure-compute-config.json is a CPU size"),
])
def test_a_vm_size_and_image_that_do_not_fit_are_a_warning_naming_both(repo, vm_size, image, expected):
    edit_json(repo, "azure-compute-config.json", vm_size=vm_size)
    if image:
        replace(repo, "iris-classifier.yml", "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest", image)
    report = validate_project(repo)
    assert report.errors == []
    [finding] = report.findings
    assert (finding.file, finding.line, finding.field) == ("iris-classifier.yml", 7, "image")
    assert finding.severity == "warning"
    assert expected in finding.message


def test_a_gpu_size_with_a_cuda_image_is_fine(repo):
    edit_json(repo, "azure-compute-config.json", vm_size="Standard_NC6s_v3")
    replace(repo, "iris-classifier.yml", "openmpi4.1.0-ubuntu22.04", "openmpi4.1.0-cuda11.8-cudnn8-ubuntu22.04")
    assert findings(repo) == []


def test_an_unpinned_runtime_package_is_a_warning_on_its_line(repo):
    replace(repo, "environment/environment.yml", "joblib==1.6.0", "joblib>=1.5")
    replace(repo, "environment/environment.yml", "pandas==3.1.1", "pandas")
    report = validate_project(repo)
    assert report.errors == []
    assert [(f.file, f.line, f.severity) for f in report.findings] == [
        ("environment/environment.yml", 11, "warning"), ("environment/environment.yml", 12, "warning")]
    assert "'pandas' is not pinned: write one version ('name==X.Y.Z')" in report.findings[0].message
    result = mlops("validate", cwd=repo)
    assert result.returncode == 0 and "(2 warning(s))" in result.stdout


def test_a_smoke_argument_the_script_does_not_take_is_a_problem_of_the_experiment_file(repo):
    replace(repo, EXPERIMENT, "    n_estimators: 5\n", "    n_estimator: 5\n")
    [line] = findings(repo)
    assert line.startswith(f"{EXPERIMENT}:")
    assert ("smoke.args.n_estimator: train.py has no option --n_estimator, so the run would stop at once: "
            "did you mean 'n_estimators'?") in line


def test_a_script_that_passes_unknown_options_on_accepts_any_key(repo):
    replace(repo, "train.py", "args = parser.parse_args()", "args, rest = parser.parse_known_args()")
    replace(repo, EXPERIMENT, "    n_estimators: 5\n", "    anything.goes: 5\n")
    assert findings(repo) == []


def test_a_registered_input_takes_its_version_from_the_content(repo):
    replace(repo, EXPERIMENT, "azure: azureml:iris-classifier-data\n", "azure: azureml:iris-classifier-data:1\n")
    [line] = findings(repo)
    assert ("inputs.training_data.azure: 'azureml:iris-classifier-data:1' fixes the version, but register_from "
            "registers data/iris.csv's content under a version derived from it: write 'azureml:iris-classifier-data'"
            ) in line
    replace(repo, EXPERIMENT, "    register_from: data/iris.csv\n", "")
    assert findings(repo) == []  # a fixed version of an asset registered elsewhere
    replace(repo, EXPERIMENT, "azure: azureml:iris-classifier-data:1\n", "azure: azureml:iris-classifier-data\n")
    [line] = findings(repo)
    assert "names no version: write 'azureml:iris-classifier-data:<version>'" in line


def test_a_large_file_shipped_with_local_is_a_warning_that_says_what_to_do(repo):
    (repo / "big").mkdir()
    with open(repo / "big" / "all.csv", "wb") as handle:
        handle.truncate(12_000_000)
    replace(repo, EXPERIMENT, "\ntrain:\n", "\nlocal:\n  - big\n\ntrain:\n")
    [finding] = validate_project(repo).findings
    assert finding.severity == "warning" and finding.field == "local[0]"
    assert "ships big/all.csv (12.0 MB) with every job from git: make it a training input" in finding.message


def test_a_character_yaml_forbids_is_one_located_finding(repo):
    # Found by tests/test_config_properties.py: PyYAML's reader error used to print over three lines.
    path = repo / "iris-classifier.yml"
    path.write_bytes(path.read_bytes().replace(b"experiment_name:", b"experiment_name:\x00", 1))
    [finding] = validate_project(repo).findings
    assert (finding.file, finding.col) == ("iris-classifier.yml", 17)
    assert finding.message == "invalid YAML: the character '\\x00' is not allowed in YAML text: remove it"
    result = mlops("validate", cwd=repo)
    assert result.returncode == 1 and len(result.stdout.splitlines()) == 2, result.stdout
