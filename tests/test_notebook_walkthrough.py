"""The generated repo's notebook, run top to bottom with a real Jupyter kernel (nbclient + ipykernel)
started from the generated repo's own ``.venv``, as a data scientist would pick it."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

from conftest import bake, copy_sharing_venv
from mlops.azureml.provenance import read_provenance
from mlops.rehearsal import NO_COMMIT, workflow_environment
from mlops.server_process import port_is_listening
from mlops.standin.fixtures import running_standin

NOTEBOOK = "notebooks/walkthrough.ipynb"


def test_the_notebook_is_committed_without_outputs(tmp_path):
    repo = bake(tmp_path, framework="spacy")
    notebook = json.loads((repo / NOTEBOOK).read_text())
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code and all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)
    assert 'AzureMLRun(register_model="spacy")' in "".join(code[0]["source"])


@pytest.mark.parametrize("framework", ["sklearn", "spacy"])
def test_the_notebook_runs_top_to_bottom_against_the_stand_in(set_up_repo, tmp_path, framework):
    repo = copy_sharing_venv(set_up_repo(framework), tmp_path / "repo")  # before the stand-in's proxy variables
    with running_standin(tmp_path / "standin") as standin:
        _run_and_check(repo, standin, tmp_path, framework)


def _run_and_check(repo: Path, standin, tmp_path: Path, framework: str) -> None:
    experiment_file = repo / "iris-classifier.yml"
    before = experiment_file.read_text()
    notebook = nbformat.read(repo / NOTEBOOK, as_version=4)
    [azure] = [cell for cell in notebook.cells if "IN_AZURE = False" in cell.source]
    azure.source = azure.source.replace("IN_AZURE = False", "IN_AZURE = True")  # as a user would, here on 127.0.0.1
    # the kernel gets what the deploy workflow's commands get: the stand-in's variables, no login of its own
    commit = read_provenance(repo, {}).commit or NO_COMMIT
    kernel_env = workflow_environment(dict(os.environ), standin.client_environment(), commit)
    kernel_tmp = tmp_path / "kernel-tmp"  # where a telemetry exporter would queue what it could not send
    kernel_tmp.mkdir()
    kernel_env["TMPDIR"] = str(kernel_tmp)
    started = time.monotonic()
    kernel = _repo_kernel(repo, tmp_path / "kernels")
    # nbclient shuts down only a kernel whose manager it made: this one when the cells are done, failed or not
    NotebookClient(notebook, timeout=600, km=kernel,
                   resources={"metadata": {"path": str(repo / "notebooks")}}).execute(env=kernel_env, cleanup_kc=True)
    assert not kernel.has_kernel  # not left running until the test worker exits
    print(f"notebook ({framework}) ran in {time.monotonic() - started:.1f} s")
    shown = [_shown(cell) for cell in notebook.cells if cell.cell_type == "code"]
    assert f"register_model='{framework}'" in shown[0]
    # the training script's own lines, streamed into the cell while it runs, then the metrics
    assert "Smoke training: train.py" in shown[1], shown[1]
    assert "save performance plots: wrote" in shown[1], shown[1]
    assert {"sklearn": "'accuracy'", "spacy": "'ents_f'"}[framework] in shown[1]
    assert (repo / "outputs" / "metrics.json").is_file()
    # a local server in the background, asked once, stopped at the end of the `with` block
    served = re.search(r"^serving outputs at http://127\.0\.0\.1:(\d+)/predict \(log: build/serve/app\.log\)$",
                       shown[2], re.M)
    assert served, shown[2]
    assert {"sklearn": "'prediction'", "spacy": "'entities'"}[framework] in shown[2]
    assert not port_is_listening(int(served[1])) and (repo / "build" / "serve" / "app.log").is_file()
    assert "'iris-classifier-svc-2'" in shown[3]
    assert re.search(r"^\d+\. online endpoint .*: iris-classifier-svc-2 -> ", shown[3], re.M), shown[3]
    assert "azure-compute-config.json" in shown[4] and "max_nodes" in shown[4]
    assert experiment_file.read_text() == before  # session changes only
    # setup_run, train_model, deploy_model through the SDK to the stand-in; statuses updated in place
    deployment = f"c{commit[:8]}"
    for step in ("1/5 training cluster", "3/5 data", "4/5 training job", "5/5 model", "3/5 smoke test"):
        assert step in shown[5], shown[5]
    assert re.search(r"^  [\w-]+: (\w+ -> )*Completed$", shown[5], re.M), shown[5]
    assert re.search(rf"^  {deployment}: (Transitioning -> )?Healthy$", shown[5], re.M), shown[5]
    assert ".." not in shown[5]  # no dot per poll from the SDK
    endpoint = standin.ml_client(*_workspace(repo)).online_endpoints.get("iris-classifier-svc-2")
    assert endpoint.traffic == {deployment: 100}
    # azure-ai-ml sends usage telemetry from a Jupyter kernel unless told not to: the toolkit's clients do not
    assert not list(kernel_tmp.glob("Microsoft-AzureMonitor-*"))


def _workspace(repo: Path) -> tuple[str, str]:
    config = json.loads((repo / "azure-config.json").read_text())
    return config["resource_group"], config["workspace_name"]


def _repo_kernel(repo: Path, kernels: Path) -> AsyncKernelManager:
    """A kernel manager whose only kernel is ipykernel in the repo's ``.venv``."""
    spec = kernels / "repo-venv"
    spec.mkdir(parents=True)
    python = repo / ".venv" / "bin" / "python"
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "repo .venv", "language": "python"}))
    specs = KernelSpecManager(kernel_dirs=[str(kernels)])
    return AsyncKernelManager(kernel_name="repo-venv", kernel_spec_manager=specs)


def _shown(cell) -> str:
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output:
            parts.append(output.data.get("text/plain", "") + "\n")
        elif output.output_type == "error":
            parts.append("\n".join(output.traceback))
    return "".join(parts)
