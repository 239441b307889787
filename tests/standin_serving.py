"""A tiny scoring folder and serving spec for the stand-in's deployment tests (no model library needed)."""

from __future__ import annotations

from pathlib import Path

from mlops.serving import INFERENCE_SERVER_PACKAGES

SCORE = """\
import json
import os
from pathlib import Path

MODEL = None


def init():
    global MODEL
    MODEL = next(Path(os.environ["AZUREML_MODEL_DIR"]).rglob("model.txt")).read_text().strip()


def run(data):
    return {"model": MODEL, "echo": json.loads(data)}
"""


def serving_files(root: Path, model_text: str = "blue-model") -> dict[str, Path]:
    """A scoring folder, a model folder and the serving environment's conda file under ``root``."""
    code, model = root / "serving", root / "model"
    code.mkdir(parents=True)
    model.mkdir()
    (code / "score.py").write_text(SCORE)
    (code / "sample-request.json").write_text('{"rows": [{"x": 1}]}')
    (model / "model.txt").write_text(model_text)
    spec = root / "serving-environment.yml"
    spec.write_text("name: standin-serving\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n      - pyyaml==6.0.4\n"
                    + "".join(f"      - {package}\n" for package in INFERENCE_SERVER_PACKAGES))
    return {"code": code, "model": model, "spec": spec, "request": code / "sample-request.json"}


def release_entities(files: dict[str, Path], endpoint: str = "standin-ep"):
    """The environment, model and endpoint a release creates."""
    from azure.ai.ml.entities import Environment, ManagedOnlineEndpoint, Model

    environment = Environment(name="serving-env", version="1", conda_file=str(files["spec"]),
                              image="mcr.microsoft.com/azureml/minimal-py311-inference")
    model = Model(name="standin-model", version="1", path=str(files["model"]), type="custom_model")
    return environment, model, ManagedOnlineEndpoint(name=endpoint, auth_mode="key")


def deployment(files: dict[str, Path], name: str, endpoint: str = "standin-ep", model: str = "azureml:standin-model:1"):
    """A managed deployment of the scoring folder."""
    from azure.ai.ml.entities import CodeConfiguration, ManagedOnlineDeployment

    return ManagedOnlineDeployment(name=name, endpoint_name=endpoint, model=model,
                                   environment="azureml:serving-env:1", instance_type="Standard_DS3_v2",
                                   instance_count=1, code_configuration=CodeConfiguration(code=str(files["code"]),
                                                                                          scoring_script="score.py"))


def prepare_release(client, files: dict[str, Path], endpoint: str = "standin-ep") -> None:
    """Create the environment, model and endpoint (what a first release needs before its deployment)."""
    environment, model, online_endpoint = release_entities(files, endpoint)
    client.environments.create_or_update(environment)
    client.models.create_or_update(model)
    client.online_endpoints.begin_create_or_update(online_endpoint).result()


def set_traffic(client, endpoint: str, traffic: dict[str, int], mirror: dict[str, int] | None = None) -> None:
    """Read the endpoint, set its traffic (and mirror), write it back and wait."""
    current = client.online_endpoints.get(endpoint)
    current.traffic = traffic
    current.mirror_traffic = mirror or {}
    client.online_endpoints.begin_create_or_update(current).result()
