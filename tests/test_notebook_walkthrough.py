"""The generated repo's notebook, run top to bottom with a real Jupyter kernel (nbclient + ipykernel)."""

from __future__ import annotations

import json
import time

import nbformat
import pytest
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
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(repo / "notebooks")}}).execute()
    print(f"notebook ({framework}) ran in {time.monotonic() - started:.1f} s")
    shown = [_shown(cell) for cell in notebook.cells if cell.cell_type == "code"]
    assert f"register_model='{framework}'" in shown[0]
    assert "Smoke training" in shown[1] or "smoke" in shown[1].lower(), shown[1]
    assert (repo / "outputs" / "metrics.json").is_file()
    assert "'iris-classifier-svc-2'" in shown[2]
    assert "endpoint: iris-classifier-svc-2 ->" in shown[2]
    assert "azure-compute-config.json" in shown[3] and "max_nodes" in shown[3]
    assert experiment_file.read_text() == before  # session changes only


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
