"""The generated README's "Bring your own data" section, followed step by step on a mixed-type churn CSV,
ends with `make check` passing and a server whose request schema comes from the new data."""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import httpx
import pytest

from conftest import run
from mlops.project import load_project
from mlops.server_process import free_port, running_server
from mlops.serving import ADAPTERS, plan_launch, resolve_model, serving_python

CONTRACTS = ["month-to-month", "one-year", "two-year"]


def write_churn_csv(path: Path, rows: int = 400, seed: int = 11) -> None:
    """Numbers (whole and decimal, some missing), a text category, true/false and a target named `churned`."""
    rng = random.Random(seed)
    lines = ["tenure_months,monthly_charges,support_calls,contract,paperless_billing,churned"]
    for _ in range(rows):
        tenure, calls, contract = rng.randint(1, 72), rng.randint(0, 6), rng.choice(CONTRACTS)
        charges = "" if rng.random() < 0.05 else f"{rng.uniform(20, 120):.2f}"
        risk = 2 * (contract == "month-to-month") + (calls >= 4) + (tenure < 12)
        lines.append(f"{tenure},{charges},{calls},{contract},{rng.choice(['True', 'False'])},"
                     f"{'yes' if risk >= 2 else 'no'}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def section_commands(readme: str) -> list[str]:
    """The commands of the README's "Bring your own data" section, in order."""
    section = readme.split("## Bring your own data", 1)[1].split("\n## ", 1)[0]
    return [line.strip() for block in re.findall(r"```console\n(.*?)```", section, re.DOTALL)
            for line in block.splitlines() if line.strip()]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} no longer holds {old!r}: update the README section and this test"
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def repo(set_up_repo, tmp_path) -> Path:
    """A copy of the set-up sklearn repo (its .venv shared by symlink) to swap the data in."""
    source = set_up_repo("sklearn")
    copy = tmp_path / source.name
    shutil.copytree(source, copy, symlinks=True, ignore=shutil.ignore_patterns(".venv", "outputs", "build",
                                                                                 "mlruns"))
    (copy / ".venv").symlink_to(source / ".venv")
    return copy


def test_the_readme_section_swaps_iris_for_a_mixed_type_csv(repo, tmp_path):
    commands = section_commands((repo / "README.md").read_text(encoding="utf-8"))
    assert commands == ["make validate", "make smoke-train", "make sample-request", "make test", "make check"]
    steps = iter(commands)

    # 1. the data, and rows held out of it for the quality gate
    write_churn_csv(repo / "data" / "churn.csv")
    (repo / "data" / "iris.csv").unlink()
    write_churn_csv(repo / "data" / "evaluation" / "churn.csv", rows=100, seed=12)
    (repo / "data" / "evaluation" / "iris.csv").unlink()
    # 2. the experiment file
    experiment = next(repo.glob("*.yml"))
    edit(experiment, "sample: data/iris.csv", "sample: data/churn.csv")
    edit(experiment, "register_from: data/iris.csv", "register_from: data/churn.csv")
    edit(experiment, "Iris measurements (from scikit-learn's bundled copy) with their species.",
         "Customers and whether they churned.")
    edit(experiment, "sample: data/evaluation/iris.csv", "sample: data/evaluation/churn.csv")
    edit(experiment, "register_from: data/evaluation/iris.csv", "register_from: data/evaluation/churn.csv")
    run(next(steps).split(), repo)
    # 3. the training script, and the label the gate's evaluate.py scores against
    edit(repo / "train.py", 'TARGET = "species"', 'TARGET = "churned"')
    edit(repo / "evaluate.py", 'LABEL = "species"', 'LABEL = "churned"')
    run(next(steps).split(), repo)
    # 4. the sample request
    run(next(steps).split(), repo)
    assert '"contract": "' in (repo / "serving" / "sample-request.json").read_text()
    # 5. the quality floor
    edit(repo / "tests" / "test_experiment.py", 'METRIC, FLOOR = "accuracy", 0.8', 'METRIC, FLOOR = "f1_macro", 0.75')
    run(next(steps).split(), repo)
    # 6. everything
    result = run(next(steps).split(), repo)
    assert "check: all passed" in result.stdout

    project = load_project(repo)
    adapter = ADAPTERS["app"]
    launch = plan_launch(project, adapter, serving_python(project, adapter, log=lambda _: None), host="127.0.0.1",
                         port=free_port(), model=resolve_model(project, None))
    row = {"tenure_months": 3, "monthly_charges": 80.5, "support_calls": 5, "contract": "month-to-month",
           "paperless_billing": True}
    with running_server(launch, tmp_path / "app.log", log=lambda _: None) as server:
        def post(*rows):
            return httpx.post(server.base_url + "/predict", json={"rows": list(rows)}, timeout=30)

        good = post(row, {**row, "monthly_charges": None, "contract": "two-year", "tenure_months": 60,
                          "support_calls": 0})
        assert good.status_code == 200, good.text
        assert [p["prediction"] for p in good.json()["predictions"]] == ["yes", "no"]
        assert set(good.json()["predictions"][0]["probabilities"]) == {"no", "yes"}

        refusals = {
            "unknown category": ({**row, "contract": "weekly"},
                                 "rows[0].contract: Input should be 'month-to-month', 'one-year' or 'two-year'"),
            "text for a number": ({**row, "tenure_months": "long"},
                                  "rows[0].tenure_months: Input should be a valid integer"),
            "missing where training had none": ({**row, "tenure_months": None},
                                                "rows[0].tenure_months: Input should be a valid integer"),
            "a number for a boolean": ({**row, "paperless_billing": 1},
                                       "rows[0].paperless_billing: Input should be a valid boolean"),
        }
        for name, (body, words) in refusals.items():
            answer = post(body)
            assert answer.status_code == 422 and answer.json()["error"] == "invalid_input", (name, answer.text)
            assert answer.json()["detail"].startswith(words), (name, answer.json()["detail"])

        spec = httpx.get(server.base_url + "/openapi.json", timeout=10).json()
        body = spec["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
        contract = body["schema"]["properties"]["rows"]["items"]["properties"]["contract"]
        assert contract["enum"] == CONTRACTS and "one of month-to-month" in contract["description"]
        assert set(body["example"]["rows"][0]) == set(row)
        assert spec["components"]["schemas"]["PredictResponse"]["examples"][0]["predictions"][0]["prediction"] in (
            "no", "yes")
