"""Each variant's generated repo passes its own `make check`, exactly as its pull-request workflow runs it."""

from __future__ import annotations

import getpass
import json
import re

import pytest

from conftest import PNG_MAGIC, mlflow_runs, run
from mlops.assembly import assemble
from mlops.frameworks import get_framework

SHOWN = {"sklearn": "accuracy", "spacy": "ents_f"}


@pytest.mark.parametrize("framework", ["sklearn", "spacy"])
def test_generated_repo_passes_make_check(set_up_repo, tmp_path, framework):
    repo = set_up_repo(framework)
    config_before = (repo / "config.cfg").read_bytes() if framework == "spacy" else None
    summary = tmp_path / "summary.md"
    scratch = tmp_path / "tmp"  # the temporary folder of every process `make check` starts
    scratch.mkdir()
    result = run(["make", "check"], repo, env={"GITHUB_STEP_SUMMARY": str(summary), "TMPDIR": str(scratch)})
    assert "check: all passed" in result.stdout
    # nothing is left there but the base folder of the repo's own pytest run (pytest keeps its last three)
    assert {path.name for path in scratch.iterdir()} <= {f"pytest-of-{getpass.getuser()}"}

    # The smoke run ran the assembled script: byte for byte what `mlops assemble` gives and the job stages.
    staged = (repo / "build/smoke/train.py").read_text(encoding="utf-8")
    base = (repo / "train.py").read_text(encoding="utf-8")
    assert staged == assemble(base, get_framework(framework)).text != base

    metrics = json.loads((repo / "outputs" / "metrics.json").read_text())
    assert (repo / "outputs" / "confusion_matrix.png").read_bytes().startswith(PNG_MAGIC)
    model = repo / get_framework(framework).model_output
    if framework == "spacy":
        assert "--training.max_epochs 1" in result.stdout
        assert (repo / "config.cfg").read_bytes() == config_before  # never edited for the quick run
        assert {"config.cfg", "meta.json", "ner", "tok2vec"} <= {p.name for p in model.iterdir()}
        assert json.loads((model / "meta.json").read_text())["pipeline"] == ["tok2vec", "ner"]
    else:
        assert model.is_file() and model.stat().st_size > 0
    shown = SHOWN[framework]
    assert f"| {shown} | {metrics[shown]} |" in summary.read_text()
    # The quality gate's step ran as in the job: the smoke model judged against a locally saved copy of itself.
    gate = json.loads((repo / "outputs" / "gate.json").read_text())
    assert gate["champion"]["model"] == "local:smoke-champion"
    assert gate["champion"]["metrics"] == gate["challenger"]["metrics"] and shown in gate["challenger"]["metrics"]
    assert f"| {shown} (primary) |" in summary.read_text()

    latest = max(mlflow_runs(repo), key=lambda path: path.stat().st_mtime)
    assert float((latest / "metrics" / shown).read_text().split()[1]) == metrics[shown]
    assert (latest / "artifacts" / "confusion_matrix.png").is_file()
    for adapter in ("app", "score"):
        assert f"api-test {adapter}: started process group" in result.stdout
        assert re.search(rf"api-test {adapter}: (\d+) of \1 answers right; server stopped", result.stdout)
