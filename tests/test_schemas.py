"""The JSON Schemas themselves: valid draft 2020-12, every field described with an example, closed objects."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from conftest import BIN, TEMPLATE, bake, run

SCHEMAS = sorted((TEMPLATE / "schemas").glob("*.schema.json"))
CONFIG_SCHEMAS = {"azure-config.json": "azure-config.schema.json",
                  "azure-compute-config.json": "azure-compute-config.schema.json",
                  "iris-classifier.yml": "experiment.schema.json"}


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
    repo = bake(tmp_path)
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
