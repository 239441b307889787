"""The commands are callable from Python with typed arguments, under the thin argparse layer."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

from conftest import bake
from mlops.commands import COMMANDS

TYPED = {"validate": "validate", "runtime-env": "link_runtime_env", "assemble": "assemble_script",
         "smoke-train": "smoke_train", "serve": "prepare_server", "api-test": "api_test", "plan": "plan",
         "check": "check", "preflight": "preflight", "train": "train", "deploy": "deploy",
         "bootstrap-oidc": "bootstrap_oidc",
         "doctor": "doctor", "sample-request": "write_sample_request", "runs": "local_runs", "share": "share",
         "promote": "promote", "rollback": "rollback", "rehearse": "rehearse_merge",
         "update": "update", "migrate": "migrate", "drift": "drift"}


def test_every_command_has_a_typed_function_without_test_seams():
    assert set(TYPED) == set(COMMANDS)
    for command, function_name in TYPED.items():
        module = importlib.import_module(f"mlops.commands.{COMMANDS[command]}")
        function = getattr(module, function_name)
        signature = inspect.signature(function)
        assert signature.return_annotation is not inspect.Signature.empty, command
        assert all(p.annotation is not inspect.Parameter.empty for p in signature.parameters.values()), command
        assert "client" not in signature.parameters, command
        assert "client" not in inspect.signature(module.run).parameters, command


def test_validate_and_plan_return_data(tmp_path):
    from mlops.commands.plan import plan
    from mlops.commands.validate import validate

    repo = bake(tmp_path)
    assert validate(repo).errors == []
    report = plan(Path(repo))
    assert report.compared is False
    assert sorted(report.plan.documents) == ["compute.yml", "data-gate-evaluation.yml", "data-training_data.yml",
                                             "deployment.yml", "endpoint.yml", "environment.yml", "job.yml",
                                             "model.yml", "serving-environment.yml"]
    assert [item.command for item in report.items].count("deploy") == 4  # the quality gate's decision is one
    assert report.plan.project.experiment.model_name == "iris-classifier-model"
