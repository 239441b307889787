"""Small inputs for the stand-in tests: a training script, a data file and a one-package runtime spec."""

from __future__ import annotations

from pathlib import Path

TRAIN = """\
import argparse, json, os, sys
parser = argparse.ArgumentParser()
parser.add_argument("--data")
parser.add_argument("--trees", type=int, default=1)
args = parser.parse_args()
rows = open(args.data).read().splitlines()
print(f"training on {len(rows)} rows with {args.trees} trees", flush=True)
import yaml  # from the runtime environment, not the toolkit's
os.makedirs("outputs/model", exist_ok=True)
json.dump({"rows": len(rows), "trees": args.trees}, open("outputs/metrics.json", "w"))
open("outputs/model/model.yaml", "w").write(yaml.safe_dump({"trees": args.trees}))
"""
# One small package, pinned as the toolkit pins it, so the environment builds from uv's cache.
SPEC = "name: standin-test\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n      - pyyaml==6.0.4\n"


def project_files(root: Path) -> dict[str, Path]:
    """Write the code folder, data file and spec under ``root``; return their paths."""
    code, data = root / "code", root / "data"
    code.mkdir(parents=True)
    data.mkdir()
    (code / "train.py").write_text(TRAIN)
    (data / "rows.csv").write_text("a,b\n1,2\n3,4\n")
    (root / "environment.yml").write_text(SPEC)
    return {"code": code, "data": data / "rows.csv", "spec": root / "environment.yml"}


def training_entities(files: dict[str, Path], job_name: str = "train-1"):
    """The compute, environment, data and command job a training run submits."""
    from azure.ai.ml import Input, command
    from azure.ai.ml.entities import AmlCompute, Data, Environment

    compute = AmlCompute(name="cpu-cluster", size="Standard_DS3_v2", max_instances=2)
    environment = Environment(name="train-env", version="1", image="mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04",
                              conda_file=str(files["spec"]))
    data = Data(name="rows", version="1", type="uri_file", path=str(files["data"]))
    job = command(name=job_name, code=str(files["code"]), command="python train.py --data ${{inputs.data}} --trees 3",
                  inputs={"data": Input(type="uri_file", path="azureml:rows:1")},
                  environment="azureml:train-env:1", compute="cpu-cluster", experiment_name="standin-test")
    return compute, environment, data, job


def submit_training(client, files: dict[str, Path], job_name: str = "train-1"):
    """Create what the job needs and submit it; return the submitted job."""
    compute, environment, data, job = training_entities(files, job_name)
    client.compute.begin_create_or_update(compute).result()
    client.environments.create_or_update(environment)
    client.data.create_or_update(data)
    return client.jobs.create_or_update(job)
