"""AzureMLRun's progress in a real Jupyter kernel: a job's or deployment's status updates one line in place."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

LINES = ["Training train-1", "  train-1: Queued", "  train-1: Running", "  accuracy: 0.97", "  train-1: Running",
         "  train-1: Completed", "  c1234abcd: Transitioning", "  c1234abcd: Healthy"]


def test_status_lines_update_in_place_and_the_others_are_printed():
    source = (f"from mlops.notebook_display import NotebookLog\n"
              f"log = NotebookLog()\nfor line in {LINES!r}:\n    log(line)")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    shown = [output.text if output.output_type == "stream" else output.data["text/plain"]
             for output in notebook.cells[0].outputs]
    assert shown == ["Training train-1\n", "  train-1: Queued -> Running -> Completed", "  accuracy: 0.97\n",
                     "  c1234abcd: Transitioning -> Healthy"]
