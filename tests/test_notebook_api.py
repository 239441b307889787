"""``from mlops import AzureMLRun``: the notebook class over the commands' own functions."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import mlops
from mlops import AzureMLRun
from mlops.errors import MlopsError
from mlops.notebook import NotebookError

pytest_plugins = ["mlops.standin.fixtures"]


@pytest.fixture
def iris(fresh_repo):
    """A fresh copy of one generated sklearn repo."""
    return fresh_repo()


def test_register_model_must_match_the_experiment_files_framework(iris):
    with pytest.raises(MlopsError) as raised:
        AzureMLRun(iris, register_model="spacy")
    assert str(raised.value) == ("AzureMLRun(register_model='spacy') but iris-classifier.yml says framework: sklearn: "
                                 "pass register_model='sklearn' (the experiment file decides how the model is saved "
                                 "and registered)")
    assert AzureMLRun(iris).register_model == "sklearn"


def test_the_originals_other_settings_are_refused_saying_what_replaced_them(iris):
    with pytest.raises(MlopsError, match=r"AzureMLRun\(force_restart=\.\.\.\) is not a setting any more: every "
                                         "release is a new deployment"):
        AzureMLRun(iris, force_restart=True)
    with pytest.raises(MlopsError, match=r"deploy_model\(force_restart=\.\.\.\) is not a setting any more"):
        AzureMLRun(iris).deploy_model(force_restart=True)


def test_the_folder_defaults_to_the_current_one_or_a_parent(iris, monkeypatch):
    monkeypatch.chdir(iris / "serving")
    assert AzureMLRun().root == iris.resolve()
    monkeypatch.chdir(iris.parent)
    with pytest.raises(MlopsError, match=r"no experiment repo here or above .* pass AzureMLRun\(folder=\.\.\.\)"):
        AzureMLRun()


def test_the_class_and_the_cli_write_the_same_plan(iris, monkeypatch):
    monkeypatch.setenv("GITHUB_RUN_ID", "77")  # else the job's name holds the time of the plan
    result = mlops("plan", cwd=iris, check=True)
    written = iris / "build" / "azureml"
    from_cli = {path.name: path.read_text() for path in written.glob("*.yml")}
    shutil.rmtree(written)
    lines = []
    report = AzureMLRun(iris, log=lines.append).plan()
    assert {path.name: path.read_text() for path in written.glob("*.yml")} == from_cli
    assert sorted(from_cli) == sorted(report.plan.documents)
    for item in report.items:
        assert f"{item.what}: {item.name}\n   -> {item.action}" in result.stdout
    assert len(lines) == len(report.items) and "`mlops deploy` would" in result.stdout


def test_a_changed_service_name_shows_in_the_next_plan_and_the_file_changes_only_on_save(iris):
    arun = AzureMLRun(iris, log=lambda line: None)
    experiment_file = iris / "iris-classifier.yml"
    before = experiment_file.read_text()
    arun.yaml_config["service_name"] = "iris-classifier-svc-4"
    report = arun.plan()
    assert report.plan.documents["endpoint.yml"]["name"] == "iris-classifier-svc-4"
    assert "name: iris-classifier-svc-4\n" in (iris / "build" / "azureml" / "endpoint.yml").read_text()
    assert any(item.name == "iris-classifier-svc-4" for item in report.items)
    assert experiment_file.read_text() == before
    assert (iris / "build" / "azureml" / "endpoint.yml").is_file()  # written into the repo, not the session folder

    arun.yaml_config.save()
    after = experiment_file.read_text()
    assert after == before.replace("service_name: iris-classifier-svc\n", "service_name: iris-classifier-svc-4\n")
    assert after.startswith("# yaml-language-server: $schema=schemas/experiment.schema.json\n")


def test_a_bad_change_is_refused_with_validates_message_and_not_kept(iris):
    arun = AzureMLRun(iris)
    compute = iris / "azure-compute-config.json"
    original = compute.read_text()
    compute.write_text(json.dumps({**json.loads(original), "max_nodes": 0}, indent=2))
    cli = mlops("validate", cwd=iris).stdout.splitlines()[0]
    compute.write_text(original)

    with pytest.raises(NotebookError) as raised:
        arun.azure_compute_config["max_nodes"] = 0
    assert str(raised.value) == cli
    assert arun.azure_compute_config["max_nodes"] != 0
    assert arun.azure_compute_config.changed_keys == []


def test_a_section_changes_the_session_but_save_asks_for_an_edit(iris):
    arun = AzureMLRun(iris, log=lambda line: None)
    arun.yaml_config["smoke"] = {**arun.yaml_config["smoke"], "timeout_seconds": 120}
    assert arun.plan().plan.project.experiment.smoke.timeout_seconds == 120
    with pytest.raises(MlopsError, match="smoke is a section; save"):
        arun.yaml_config.save()


def test_a_compute_change_is_saved_in_key_order(iris):
    arun = AzureMLRun(iris)
    original = json.loads((iris / "azure-compute-config.json").read_text())
    arun.azure_compute_config["deploy_dns_name"] = "iris-dns-2"
    arun.azure_compute_config.save()
    saved = json.loads((iris / "azure-compute-config.json").read_text())
    assert list(saved) == list(original) and saved["deploy_dns_name"] == "iris-dns-2"


def test_a_command_error_is_one_exception_with_the_clis_line(iris):
    (iris / "serving" / "sample-request.json").unlink()
    cli = mlops("api-test", cwd=iris)
    arun = AzureMLRun(iris, log=lambda line: None)
    with pytest.raises(NotebookError) as raised:
        arun.api_test()
    assert cli.stderr.strip() == f"error: {raised.value}"
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_setup_run_ensures_what_train_needs_and_submits_nothing(iris, standin):
    lines = []
    plan = AzureMLRun(iris, log=lines.append).setup_run()
    config = json.loads((iris / "azure-config.json").read_text())
    standin_client = standin.ml_client(config["resource_group"], config["workspace_name"])
    steps = [line for line in lines if line[:1].isdigit()]
    assert steps == ["1/5 training cluster", "2/5 environment", "3/5 data"]
    assert standin_client.compute.get("cpu-cluster").name == "cpu-cluster"
    environments = [environment.name for environment in standin_client.environments.list()]
    assert environments == [plan.documents["environment.yml"]["name"]]
    written = [request for request in standin.requests() if request.method in ("PUT", "POST", "PATCH")]
    assert written and not [request for request in written if "/jobs/" in request.path or "/models/" in request.path]


def test_serve_names_the_adapters_it_knows(iris):
    with pytest.raises(MlopsError, match=r"^serve\(adapter='gunicorn'\): choose 'app' or 'score'$"):
        AzureMLRun(iris).serve("gunicorn")
