"""The JSON Schemas themselves: valid draft 2020-12, every field described with an example, closed objects."""

from __future__ import annotations

import ast
import dataclasses
import json

import pytest
from jsonschema import Draft202012Validator

from conftest import BIN, TEMPLATE, bake, run

SCHEMAS = sorted((TEMPLATE / "schemas").glob("*.schema.json"))
CONFIG_SCHEMAS = {"azure-config.json": "azure-config.schema.json",
                  "azure-compute-config.json": "azure-compute-config.schema.json",
                  "iris-classifier.yml": "experiment.schema.json",
                  "azure-stages.json": "azure-stages.schema.json"}


def properties_of(schema: dict, path: str = ""):
    """Yield (path, subschema) for every declared property, at any depth."""
    for name, sub in schema.get("properties", {}).items():
        yield f"{path}{name}", sub
        yield from properties_of(sub, f"{path}{name}.")
        if isinstance(sub.get("additionalProperties"), dict):
            yield from properties_of(sub["additionalProperties"], f"{path}{name}.*.")


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_schema_is_valid_draft_2020_12(path):
    schema = json.loads(path.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", [p for p in SCHEMAS if p.name != "azure-names.schema.json"], ids=lambda p: p.name)
def test_every_field_has_a_description_and_an_example(path):
    schema = json.loads(path.read_text())
    assert schema["additionalProperties"] is False
    fields = list(properties_of(schema))
    assert fields
    for name, sub in fields:
        assert sub.get("description"), f"{path.name}: {name} has no description"
        assert sub.get("examples"), f"{path.name}: {name} has no examples"


@pytest.mark.parametrize("config", sorted(CONFIG_SCHEMAS))
def test_generated_configs_pass_an_independent_checker(tmp_path, config):
    repo = bake(tmp_path, stages="staging-production")
    schema = TEMPLATE / "schemas" / CONFIG_SCHEMAS[config]
    result = run([str(BIN / "check-jsonschema"), "--schemafile", str(schema), str(repo / config)], repo, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", [p for p in SCHEMAS if p.name != "azure-names.schema.json"], ids=lambda p: p.name)
def test_every_example_is_valid_for_its_field(path):
    from mlops.validation.schemas import validator

    root = validator(path.name)
    for name, sub in properties_of(json.loads(path.read_text())):
        for example in sub.get("examples", []):
            errors = list(root.evolve(schema=sub).iter_errors(example))
            assert not errors, f"{path.name}: {name} example {example!r}: {errors[0].message}"


def model_defaults(kind: type) -> dict:
    """Each field of a settings dataclass with its default, as JSON would spell it (tuples as lists)."""
    found = {}
    for field in dataclasses.fields(kind):
        if field.default is not dataclasses.MISSING:
            value = field.default
        elif field.default_factory is not dataclasses.MISSING:
            value = field.default_factory()
        else:
            value = REQUIRED
        found[field.name] = list(value) if isinstance(value, tuple) else value
    return found


REQUIRED = object()


def settings_classes():
    """Each schema (or part of one) and the dataclass of mlops.project that holds its settings."""
    from mlops import project

    experiment = json.loads((TEMPLATE / "schemas" / "experiment.schema.json").read_text())
    sections = experiment["properties"]
    stages = json.loads((TEMPLATE / "schemas" / "azure-stages.schema.json").read_text())
    return [
        ("azure-config", json.loads((TEMPLATE / "schemas" / "azure-config.schema.json").read_text()),
         project.AzureSettings),
        ("azure-compute-config", json.loads((TEMPLATE / "schemas" / "azure-compute-config.schema.json").read_text()),
         project.ComputeSettings),
        ("experiment", experiment, project.ExperimentSettings),
        ("experiment train", sections["train"], project.TrainSettings),
        ("experiment smoke", sections["smoke"], project.SmokeSettings),
        ("experiment serve", sections["serve"], project.ServeSettings),
        ("experiment deploy", sections["deploy"], project.DeploySettings),
        ("experiment inputs.*", sections["inputs"]["additionalProperties"], project.Input),
        ("experiment gate", sections["gate"], project.GateSettings),
        ("azure-stages", stages, project.StagesSettings),
        ("azure-stages registry", stages["properties"]["registry"], project.RegistrySettings),
        ("azure-stages production", stages["properties"]["production"], project.ProductionSettings),
    ]


@pytest.mark.parametrize(("name", "schema", "kind"), [pytest.param(*case, id=case[0]) for case in settings_classes()])
def test_the_schemas_defaults_are_the_project_models(name, schema, kind):
    defaults = model_defaults(kind)
    declared = {key: sub for key, sub in schema["properties"].items() if key != "$schema"}
    assert set(declared) == set(defaults) - {"name" if kind.__name__ == "Input" else ""}, name
    for key, sub in declared.items():
        model = defaults[key]
        if "default" in sub:
            assert model == sub["default"], f"{name}.{key}: schema default {sub['default']!r}, model {model!r}"
        elif model is REQUIRED:
            assert key in schema.get("required", []), f"{name}.{key}: the model requires it, the schema does not"
        else:  # no schema default: the model's is "not set" (None) or a whole section of defaults
            assert model is None or dataclasses.is_dataclass(model), f"{name}.{key}: model default {model!r}"


def test_the_shipped_scoring_contract_falls_back_to_the_models_limits():
    # serving/contract.py ships to Azure without the toolkit, so it keeps its own fallback limits; the
    # toolkit always passes the configured ones (PREDICT_MAX_ROWS, PREDICT_MAX_BODY_BYTES). Same numbers.
    from mlops.project import ServeSettings
    from mlops.serving import LIMIT_VARIABLES

    source = (TEMPLATE / "{{cookiecutter.experiment}}" / "serving" / "contract.py").read_text()
    fallbacks = {node.args[0].value: node.args[1].value for node in ast.walk(ast.parse(source))
                 if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_limit"}
    assert {name: fallbacks[variable] for name, variable in LIMIT_VARIABLES.items()} == \
        dataclasses.asdict(ServeSettings())
