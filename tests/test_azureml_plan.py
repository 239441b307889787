"""`mlops plan`: the YAML it writes loads with azure-ai-ml's own loaders, and its summary reads plainly."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from azure.ai.ml import (
    load_compute,
    load_data,
    load_environment,
    load_job,
    load_model,
    load_online_deployment,
    load_online_endpoint,
)
from azure.ai.ml.entities import (
    AmlCompute,
    Command,
    Environment,
    KubernetesOnlineDeployment,
    KubernetesOnlineEndpoint,
    ManagedOnlineDeployment,
    ManagedOnlineEndpoint,
    Model,
)
from azure_fixtures import COMMIT, edit_json, edit_yaml, make_plan

from conftest import TEMPLATE, bake, mlops, run
from mlops.job_code import stage_job_code
from mlops.project import load_project

FRAMEWORKS = json.loads((TEMPLATE / "cookiecutter.json").read_text())["framework"]
LOADED_AS = [("compute.yml", load_compute, AmlCompute), ("environment.yml", load_environment, Environment),
             ("job.yml", load_job, Command), ("model.yml", load_model, Model),
             ("serving-environment.yml", load_environment, Environment),
             ("endpoint.yml", load_online_endpoint, ManagedOnlineEndpoint),
             ("deployment.yml", load_online_deployment, ManagedOnlineDeployment)]


def files_of(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_plan_writes_files_the_sdk_loaders_accept(tmp_path, framework):
    repo = bake(tmp_path, framework=framework)
    run(["git", "init", "-q"], repo)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "add", "-A"], repo)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "Add model (#12)"], repo)
    commit = run(["git", "rev-parse", "HEAD"], repo).stdout.strip()
    result = mlops("plan", cwd=repo, env={"GITHUB_RUN_ID": "99", "GITHUB_RUN_ATTEMPT": "2", "GITHUB_SHA": "",
                                                 "GITHUB_REF": "", "PR_NUMBER": "", "GITHUB_REPOSITORY": ""})
    assert result.returncode == 0, result.stderr
    out = repo / "build" / "azureml"
    for file_name, loader, kind in LOADED_AS:
        document = yaml.safe_load((out / file_name).read_text())
        assert document["$schema"].startswith("https://azuremlschemas.azureedge.net/latest/"), file_name
        assert isinstance(loader(out / file_name), kind), file_name
    data = load_data(out / "data-training_data.yml")
    asset = {"sklearn": "iris-classifier-data", "spacy": "iris-classifier-forms"}[framework]
    assert data.name == asset and re.fullmatch("[0-9a-f]{16}", data.version)  # the hash of its content
    job = load_job(out / "job.yml")
    assert job.name == "iris-classifier-99"  # the same for every attempt of run 99
    assert job.tags == {"git_commit": commit, "pull_request": "12"}
    training, gate_step = job.command.split(" && ")
    assert training.startswith("python train.py --training_data ${{inputs.training_data}} ")
    evaluation = {"sklearn": "iris-classifier-evaluation", "spacy": "iris-classifier-forms-evaluation"}[framework]
    # The quality gate's step runs in the same job; offline there is no champion: it is read when `mlops train` runs.
    pinned = load_data(out / "data-gate-evaluation.yml")  # registered from the repo, versioned by its content
    assert pinned.name == evaluation and pinned.version != "1"
    assert gate_step == ("python -m mlops_gate.gate_evaluation --evaluation_data ${{inputs.evaluation_data}} "
                         f"--evaluation_label azureml:{evaluation}:{pinned.version}")
    assert job.inputs["evaluation_data"].path == f"{evaluation}:{pinned.version}" and "champion_model" not in job.inputs
    if framework == "sklearn":
        assert training.endswith(" --n_estimators 200 --test_size 0.25")
        assert job.inputs["training_data"].path == f"iris-classifier-data:{data.version}"  # loader drops "azureml:"
    assert job.experiment_name == "iris-classifier" and job.compute == "cpu-cluster"
    # the job's code is the smoke run's snapshot, byte for byte
    smoke = stage_job_code(load_project(repo), tmp_path / "smoke", log=lambda line: None)
    assert files_of(out / "code") == files_of(smoke.parent)
    deployment = load_online_deployment(out / "deployment.yml")
    assert deployment.name == f"c{commit[:8]}" and deployment.endpoint_name == "iris-classifier-svc"
    assert (deployment.instance_type, deployment.instance_count) == ("Standard_DS3_v2", 1)
    assert deployment.environment_variables == {"PREDICT_MAX_ROWS": "1000", "PREDICT_MAX_BODY_BYTES": "1048576"}
    assert deployment.code_configuration.scoring_script == "serving/score.py"
    assert (out / "score" / "serving" / "score.py").read_bytes() == (repo / "serving" / "score.py").read_bytes()
    serving = load_environment(out / "serving-environment.yml")
    assert deployment.environment == f"{serving.name}:{serving.version}"
    pip = next(item["pip"] for item in serving.conda_file["dependencies"] if isinstance(item, dict))
    assert pip[-1].startswith("azureml-inference-server-http==")
    summary = result.stdout
    for words in ("training cluster (machines that run the training job): cpu-cluster",
                  "online endpoint (the service's stable URL): iris-classifier-svc",
                  "create at 0% traffic", "Offline: nothing in Azure was read or changed", "never shrunk",
                  "the smoke run reads data/", "quality gate (release decision)",
                  "the champion read from the endpoint when `mlops train` runs"):
        assert words in summary, words


def test_a_changed_data_file_is_a_new_data_version_that_the_job_reads(tmp_path):
    repo = bake(tmp_path)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    run([*git, "init", "-q", "-b", "main"], repo)
    run([*git, "add", "-A"], repo)
    run([*git, "commit", "-qm", "first release"], repo)
    run([*git, "checkout", "-qb", "new-data"], repo)
    (repo / "notes.md").write_text("a change that is not data\n")
    run([*git, "add", "-A"], repo)
    run([*git, "commit", "-qm", "notes"], repo)
    assert "keep: the same content as on main, so its release registered this version already" in mlops(
        "plan", cwd=repo).stdout

    def version_and_read() -> tuple[str, str]:
        plan = make_plan(repo)
        return plan.documents["data-training_data.yml"]["version"], plan.documents["job.yml"]["inputs"][
            "training_data"]["path"]

    first, read = version_and_read()
    assert read == f"azureml:iris-classifier-data:{first}" and version_and_read() == (first, read)
    data = repo / "data" / "iris.csv"
    data.write_text(data.read_text() + "5.0,3.0,1.5,0.2,setosa\n")
    second, read = version_and_read()
    assert second != first and read == f"azureml:iris-classifier-data:{second}"
    summary = mlops("plan", cwd=repo).stdout
    assert f"iris-classifier-data:{second}" in summary
    assert f"version {second} is the hash of data/iris.csv's content" in summary
    assert "register a NEW version: data/iris.csv differs from main" in summary


def test_environment_version_changes_exactly_when_the_spec_does(tmp_path):
    repo = bake(tmp_path)
    first = make_plan(repo).names.environment_version
    assert make_plan(repo).names.environment_version == first
    (repo / "environment" / "environment.yml").write_text(
        (repo / "environment" / "environment.yml").read_text().replace("joblib==1.6.0", "joblib==1.5.0"))
    assert make_plan(repo).names.environment_version != first


def test_kubernetes_deployment_gets_the_attached_compute_and_requests(tmp_path):
    repo = bake(tmp_path)
    edit_json(repo / "azure-compute-config.json", lambda c: c.update(
        deploy_target="kubernetes", deploy_cluster_name="aks-prod", deploy_cpu_cores=0.5, deploy_memory_gb=1.5))
    plan = make_plan(repo)
    endpoint = load_online_endpoint(plan.path("endpoint.yml"))
    deployment = load_online_deployment(plan.path("deployment.yml"))
    assert isinstance(endpoint, KubernetesOnlineEndpoint) and endpoint.compute == "aks-prod"
    assert isinstance(deployment, KubernetesOnlineDeployment)
    assert (deployment.resources.requests.cpu, deployment.resources.requests.memory) == ("0.5", "1.5Gi")


def test_an_input_binding_naming_no_input_is_refused(tmp_path):
    repo = bake(tmp_path)
    edit_yaml(repo / "iris-classifier.yml", lambda e: e["train"]["args"].update(test_size="${{inputs.labels}}"))
    result = mlops("plan", cwd=repo)
    assert result.returncode == 1
    assert "${{inputs.labels}} names no input (inputs: evaluation_data, training_data)" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_document_the_sdk_refuses_fails_the_plan_with_one_line(tmp_path):
    repo = bake(tmp_path)
    edit_yaml(repo / "iris-classifier.yml", lambda e: e["inputs"]["training_data"].update(type="uri_folder"))
    (repo / "data" / "iris.csv").rename(repo / "data" / "iris")
    (repo / "data" / "iris").unlink()
    (repo / "data" / "iris.csv").mkdir()
    (repo / "data" / "iris.csv" / "part.csv").write_text("a\n1\n")
    plan = make_plan(repo)  # a folder input is fine for the loaders
    assert load_data(plan.path("data-training_data.yml")).type == "uri_folder"
    document = yaml.safe_load(plan.path("deployment.yml").read_text())
    document["instance_count"] = "many"
    plan.path("deployment.yml").write_text(yaml.safe_dump(document))
    from mlops.azureml.release_plan import load_entities
    from mlops.errors import MlopsError
    with pytest.raises(MlopsError, match=r"deployment.yml: azure-ai-ml refuses it: .*instance_count"):
        load_entities(plan)


def test_job_names_are_unique_per_run_and_stable_across_attempts_and_deployments_fit_kubernetes():
    from datetime import UTC, datetime

    from mlops.azureml.names import deployment_name, job_name, suggest_endpoint_name
    from mlops.errors import MlopsError

    assert job_name("Iris_Exp", {"GITHUB_RUN_ID": "7", "GITHUB_RUN_ATTEMPT": "3"}, COMMIT) == "iris_exp-7"
    local = job_name("iris", {}, COMMIT, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert local == "iris-3f9c2a1-20260102030405"
    assert deployment_name(COMMIT, "svc", kubernetes=False) == "c3f9c2a1b"
    long_endpoint = "e" * 32
    name = deployment_name(COMMIT, long_endpoint, kubernetes=True)
    assert len(long_endpoint) + len(name) <= 62
    with pytest.raises(MlopsError, match="6-62"):
        from mlops.azureml.names import check_deployment_name
        check_deployment_name("c" + "a" * 30, long_endpoint, kubernetes=True)
    check_deployment_name("c" + "a" * 30, long_endpoint, kubernetes=False)  # managed endpoints have no pair limit
    with pytest.raises(MlopsError, match="not a hex hash"):
        deployment_name("", "svc", kubernetes=False)
    suggestion = suggest_endpoint_name("forms-spacy-nlp-service-3", "sub/rg/ws")
    assert suggestion.startswith("forms-spacy-nlp-service-") and len(suggestion) <= 32
    assert suggestion != suggest_endpoint_name("forms-spacy-nlp-service-3", "sub/rg/other")


def test_pull_request_numbers_come_from_merge_and_squash_subjects():
    from mlops.azureml.provenance import pull_request_of, read_provenance

    assert pull_request_of("Merge pull request #31 from org/branch") == "31"
    assert pull_request_of("Add spaCy support (#8)") == "8"
    assert pull_request_of("Fix typo") == ""
    env = {"GITHUB_SHA": COMMIT.upper(), "GITHUB_REF": "refs/pull/5/merge", "GITHUB_RUN_ID": "1",
           "GITHUB_REPOSITORY": "org/repo"}
    provenance = read_provenance(TEMPLATE, env)
    assert (provenance.commit, provenance.pull_request) == (COMMIT, "5")
    assert provenance.run_url == "https://github.com/org/repo/actions/runs/1"


class StaticCredential:
    """Any azure-identity TokenCredential will do; this one is never asked for a token here."""

    def get_token(self, *scopes, **kwargs):
        raise AssertionError("building an MLClient must not request a token")


def test_ml_client_uses_the_workspace_coordinates_and_any_credential(tmp_path):
    from mlops.azure_client import ml_client
    from mlops.config import AzureConfig
    from mlops.errors import MlopsError

    repo = bake(tmp_path)
    client = ml_client(AzureConfig(repo, environ={"AZURE_SUBSCRIPTION_ID": "1234"}), StaticCredential())
    assert (client.subscription_id, client.resource_group_name, client.workspace_name) == (
        "1234", "rg-iris-classifier", "mlw-iris-classifier")
    with pytest.raises(MlopsError, match="subscription_id is not set: set AZURE_SUBSCRIPTION_ID"):
        ml_client(AzureConfig(repo, environ={}), StaticCredential())


def test_ml_client_goes_to_the_sovereign_cloud_the_login_goes_to(tmp_path, monkeypatch):
    from mlops.azure_client import ml_client
    from mlops.config import AzureConfig

    monkeypatch.delenv("AZUREML_CURRENT_CLOUD", raising=False)  # azure-ai-ml writes it into os.environ
    repo = bake(tmp_path)
    china = {"AZURE_SUBSCRIPTION_ID": "1234", "AZURE_AUTHORITY_HOST": "https://login.chinacloudapi.cn"}
    client = ml_client(AzureConfig(repo, environ=china), StaticCredential())
    assert client._base_url == "https://management.chinacloudapi.cn"
    monkeypatch.delenv("AZUREML_CURRENT_CLOUD", raising=False)
    public = ml_client(AzureConfig(repo, environ={"AZURE_SUBSCRIPTION_ID": "1234"}), StaticCredential())
    assert public._base_url == "https://management.azure.com"
