"""Two stages end to end through the stand-in: the real `mlops` commands, the unmodified SDK, two workspaces
and a registry on 127.0.0.1.

A merge trains and deploys to staging and shares the exact version; production deploys that version from the
registry without training; a failure in production puts production's traffic back and leaves staging alone;
a rollback serves an earlier version through the same path.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import BIN, bake, mlops, run

pytestmark = pytest.mark.slow
pytest_plugins = ["mlops.standin.fixtures"]

STAGING = ("rg-iris-staging", "mlw-iris-staging", "iris-svc")
PRODUCTION = ("rg-iris-prod", "mlw-iris-prod", "iris-svc-prod")
REGISTRY = "mlr-iris"
MODEL = "iris-classifier-model"


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A two-stage repo with production in its own workspace, committed."""
    repo = bake(tmp_path_factory.mktemp("promotion"), stages="staging-production", service_name=STAGING[2],
                resource_group=STAGING[0], workspace_name=STAGING[1], registry_name=REGISTRY)
    stages = json.loads((repo / "azure-stages.json").read_text())
    stages["production"].update(resource_group=PRODUCTION[0], workspace_name=PRODUCTION[1],
                                service_name=PRODUCTION[2])
    (repo / "azure-stages.json").write_text(json.dumps(stages, indent=2) + "\n")
    for command in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                    ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "first"]):
        run(command, repo)
    return repo


def commit(repo: Path, message: str) -> str:
    (repo / "CHANGES.md").write_text(f"{message}\n")
    run(["git", "add", "-A"], repo)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", message], repo)
    return run(["git", "rev-parse", "HEAD"], repo).stdout.strip()


class Runner:
    """Runs `mlops` in the repo as a workflow job would: the stand-in's variables, a run id, job outputs."""

    def __init__(self, repo: Path, standin, tmp: Path):
        self.repo, self.standin, self.tmp = repo, standin, tmp
        self.run_id = 0

    def merge(self) -> None:
        self.run_id += 1

    def env(self, output: Path | None = None) -> dict[str, str]:
        env = {**os.environ, **self.standin.client_environment(), "GITHUB_RUN_ID": str(self.run_id),
               "GITHUB_RUN_ATTEMPT": "1", "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
        if output is not None:
            env["GITHUB_OUTPUT"] = str(output)
        return env

    def mlops(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = mlops(*args, cwd=self.repo, env=self.env())
        if check:
            assert result.returncode == 0, f"mlops {' '.join(args)}\n{result.stdout}\n{result.stderr}"
        return result

    def share(self) -> str:
        """`mlops share` as the staging job's last step; the version it hands on, read from GITHUB_OUTPUT."""
        output = self.tmp / f"github-output-{self.run_id}"
        output.write_text("")
        result = mlops("share", cwd=self.repo, env=self.env(output))
        assert result.returncode == 0, result.stdout + result.stderr
        (line,) = output.read_text().splitlines()
        name, version = line.split("=")
        assert name == "version"
        return version


@pytest.fixture(scope="module")
def runner(repo, module_standin, tmp_path_factory) -> Runner:
    return Runner(repo, module_standin, tmp_path_factory.mktemp("outputs"))


def endpoint_state(standin, workspace: tuple[str, str, str]) -> tuple[dict[str, int], dict[str, str]]:
    """(traffic, deployment -> model) of a stage's endpoint, read with the unmodified SDK."""
    client = standin.ml_client(workspace[0], workspace[1])
    endpoint = client.online_endpoints.get(workspace[2])
    models = {d.name: str(d.model) for d in client.online_deployments.list(endpoint_name=workspace[2])}
    return {k: int(v) for k, v in endpoint.traffic.items() if v}, models


def test_a_merge_deploys_staging_then_the_same_version_to_production(runner, module_standin, repo):
    runner.merge()
    commit_sha = run(["git", "rev-parse", "HEAD"], repo).stdout.strip()
    runner.mlops("train")
    premature = runner.mlops("share", check=False)  # only what staging serves may be shared
    assert premature.returncode == 1
    assert premature.stderr.strip().splitlines() == [
        f"error: staging's endpoint {STAGING[2]} gives no traffic to c{commit_sha[:8]}, this commit's release "
        "(traffic: none): `mlops deploy` must succeed in staging before sharing"]
    runner.mlops("deploy")
    version = runner.share()
    assert version == "1"
    promoted = runner.mlops("promote", "--version", version)
    assert f"registry version 1 (azureml://registries/{REGISTRY}/models/{MODEL}/versions/1)" in promoted.stdout
    # the gate record the training job wrote travelled with the model into the registry
    assert "production's quality gate: passed first release (floors only)" in promoted.stdout
    staging_traffic, staging_models = endpoint_state(module_standin, STAGING)
    assert staging_traffic == {f"c{commit_sha[:8]}": 100}
    production_traffic, production_models = endpoint_state(module_standin, PRODUCTION)
    live = f"v1-c{commit_sha[:7]}"
    assert production_traffic == {live: 100}
    assert production_models[live] == f"azureml://registries/{REGISTRY}/models/{MODEL}/versions/1"
    # production never trained: its workspace holds no job and no model of its own
    production = module_standin.ml_client(PRODUCTION[0], PRODUCTION[1])
    assert list(production.jobs.list()) == []
    assert list(production.models.list()) == []
    client = module_standin.ml_client(PRODUCTION[0], PRODUCTION[1])
    answer = json.loads(client.online_endpoints.invoke(endpoint_name=PRODUCTION[2], deployment_name=live,
                                                       request_file=str(repo / "serving/sample-request.json")))
    assert answer["predictions"]
    # sharing again from the same commit reuses the version: a rerun of the staging job converges
    assert runner.share() == "1"
    logged = module_standin.requests()
    assert {"eastus.api.azureml.ms", "mfe-westeurope.api.azureml.ms"} <= {r.host for r in logged}
    imports = [r for r in logged if r.method == "POST" and r.path.endswith(f"/registries/{REGISTRY}/import")]
    assert len(imports) == 2  # the model and its scoring environment, once: the rerun shared nothing again
    assert not [r.line() for r in logged if r.fault.startswith("refused")]


def test_a_failure_in_production_puts_production_back_and_leaves_staging_alone(runner, module_standin, repo):
    runner.merge()
    sha = commit(repo, "second")
    runner.mlops("train")
    runner.mlops("deploy")
    version = runner.share()
    assert version == "2"
    staging_before = endpoint_state(module_standin, STAGING)
    production_before = endpoint_state(module_standin, PRODUCTION)
    module_standin.inject("deployment-500")
    failed = runner.mlops("promote", "--version", version, check=False)
    module_standin.clear()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert f"deployment v2-c{sha[:7]} failed before taking traffic" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert endpoint_state(module_standin, PRODUCTION) == production_before
    assert endpoint_state(module_standin, STAGING) == staging_before
    assert staging_before[0] == {f"c{sha[:8]}": 100}
    promoted = runner.mlops("promote", "--version", version)
    # judged against production's own champion, version 1, on the same evaluation data
    assert f"production's quality gate: passed against production's champion {MODEL}:1" in promoted.stdout
    assert endpoint_state(module_standin, PRODUCTION)[0] == {f"v2-c{sha[:7]}": 100}


def test_a_rollback_serves_an_earlier_version_through_the_same_path(runner, module_standin, repo):
    sha = run(["git", "rev-parse", "HEAD"], repo).stdout.strip()
    rolled = runner.mlops("rollback", "--version", "1")
    assert "Rolling production back to registry version 1" in rolled.stdout
    assert "quality gate" not in rolled.stdout  # going back to an older model is the point
    traffic, models = endpoint_state(module_standin, PRODUCTION)
    assert traffic == {f"v1-c{sha[:7]}": 100}
    assert models == {f"v1-c{sha[:7]}": f"azureml://registries/{REGISTRY}/models/{MODEL}/versions/1"}
    missing = runner.mlops("rollback", "--version", "9", check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        f"error: registry {REGISTRY} has no version 9 of model {MODEL} (versions: 1, 2): name one staging shared"]
    assert endpoint_state(module_standin, PRODUCTION)[0] == traffic
