"""The generated repo's notebook, run top to bottom with a real Jupyter kernel (nbclient + ipykernel)
started from the generated repo's own ``.venv``, as a data scientist would pick it."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

from conftest import bake, copy_sharing_venv

NOTEBOOK = "notebooks/walkthrough.ipynb"


def test_the_notebook_is_committed_without_outputs(tmp_path):
    repo = bake(tmp_path, framework="spacy")
    notebook = json.loads((repo / NOTEBOOK).read_text())
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code and all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)
    assert 'AzureMLRun(register_model="spacy")' in "".join(code[0]["source"])


@pytest.mark.parametrize("framework", ["sklearn", "spacy"])
def test_the_notebook_runs_top_to_bottom(set_up_repo, tmp_path, framework):
    repo = copy_sharing_venv(set_up_repo(framework), tmp_path / "repo")
    experiment_file = repo / "iris-classifier.yml"
    before = experiment_file.read_text()
    notebook = nbformat.read(repo / NOTEBOOK, as_version=4)
    started = time.monotonic()
    NotebookClient(notebook, timeout=600, km=_repo_kernel(repo, tmp_path / "kernels"),
                   resources={"metadata": {"path": str(repo / "notebooks")}}).execute()
    print(f"notebook ({framework}) ran in {time.monotonic() - started:.1f} s")
    shown = [_shown(cell) for cell in notebook.cells if cell.cell_type == "code"]
    assert f"register_model='{framework}'" in shown[0]
    # the training script's own lines, streamed into the cell while it runs, then the metrics
    assert "Smoke training: train.py" in shown[1], shown[1]
    assert "save performance plots: wrote" in shown[1], shown[1]
    assert {"sklearn": "'accuracy'", "spacy": "'ents_f'"}[framework] in shown[1]
    assert (repo / "outputs" / "metrics.json").is_file()
    assert "'iris-classifier-svc-2'" in shown[2]
    assert re.search(r"^\d+\. online endpoint .*: iris-classifier-svc-2 -> ", shown[2], re.M), shown[2]
    assert "azure-compute-config.json" in shown[3] and "max_nodes" in shown[3]
    assert experiment_file.read_text() == before  # session changes only


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
            parts.append(output.data.get("text/plain", ""))
        elif output.output_type == "error":
            parts.append("\n".join(output.traceback))
    return "".join(parts)
