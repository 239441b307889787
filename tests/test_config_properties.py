"""Property-based checks of the config files: whatever a person saves, `mlops validate` answers in lines.

The generated repo runs the same properties in `make check` with a few examples; here they run with
many more (``MLOPS_PROPERTY_EXAMPLES``), seeded so a failure reproduces.
"""

from __future__ import annotations

import pytest

from conftest import bake

SUITE_EXAMPLES = "200"
PLAN_EXAMPLES = "40"  # plan loads every file with azure-ai-ml: about a second each


@pytest.fixture(scope="module")
def properties(tmp_path_factory):
    import os

    from mlops.config_properties import plan_properties, validate_properties
    from mlops.generated_inputs import EXAMPLES_VARIABLE

    os.environ.setdefault(EXAMPLES_VARIABLE, SUITE_EXAMPLES)
    repo = bake(tmp_path_factory.mktemp("pristine"))
    checks = validate_properties(repo, tmp_path_factory.mktemp("work"))
    os.environ[EXAMPLES_VARIABLE] = PLAN_EXAMPLES
    try:
        checks += plan_properties(repo, tmp_path_factory.mktemp("plan"))
    finally:
        os.environ[EXAMPLES_VARIABLE] = SUITE_EXAMPLES
    return {check.__name__: check for check in checks}


@pytest.mark.parametrize("name", ["validate_answers_every_azure-config.json",
                                  "validate_answers_every_azure-compute-config.json",
                                  "validate_answers_every_iris-classifier.yml"])
def test_validate_answers_every_generated_input_in_lines(properties, name):
    properties[name]()


@pytest.mark.parametrize("name", ["plan_accepts_every_valid_azure-config.json",
                                  "plan_accepts_every_valid_azure-compute-config.json",
                                  "plan_accepts_every_valid_iris-classifier.yml"])
def test_every_document_that_validates_is_planned_too(properties, name):
    properties[name]()


# --- the scoring API's generated requests (mlops api-test runs them against both real servers) ----------

SAMPLE = {"rows": [{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}]}


def test_generated_bodies_are_the_same_for_the_same_seed_and_differ_for_another():
    from mlops.api_properties import generated_bodies

    first = generated_bodies(SAMPLE, 40)
    assert first == generated_bodies(SAMPLE, 40) and len(set(first)) > 20
    assert generated_bodies(SAMPLE, 40, seed_value=1) != first


def _client(handler):
    import httpx

    return httpx.Client(transport=httpx.MockTransport(handler), base_url="http://server")


def test_the_generated_checks_catch_a_5xx_a_bare_refusal_and_an_adapter_that_answers_otherwise():
    import httpx

    from mlops.api_properties import check_generated

    bodies = [b'{"rows": []}', b"\x00", b"{}"]
    answers = iter([httpx.Response(422, json={"error": "invalid_request", "detail": "rows is empty"}),
                    httpx.Response(500, text="Internal Server Error"),
                    httpx.Response(422, json={"detail": "bare"})])
    with _client(lambda request: next(answers)) as client:
        outcomes, recorded = check_generated(client, "http://server/predict", bodies)
    failed = [o for o in outcomes if not o.passed]
    assert [o.case.name for o in failed] == ["generated request #1", "generated request #2",
                                             "3 generated requests (seed 20261201)"]
    assert "never get a server error; request body: b'\\x00'" in failed[0].detail
    assert 'must be {"error": ..., "detail": ...}' in failed[1].detail
    with _client(lambda request: httpx.Response(422, json={"error": "other", "detail": "x"})) as client:
        outcomes, _ = check_generated(client, "http://server/predict", bodies[:1], reference=recorded[:1])
    assert not outcomes[-1].passed and "the app answered 422" in outcomes[0].detail


def test_a_200_that_breaks_the_declared_response_schema_is_caught():
    import httpx

    from mlops.api_properties import check_generated, response_schema

    openapi = {"paths": {"/predict": {"post": {"responses": {"200": {"content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Answer"}}}}}}}},
        "components": {"schemas": {"Answer": {"type": "object", "required": ["predictions"],
                                              "properties": {"predictions": {"type": "array"}}}}}}
    schema = response_schema(openapi, "/predict")
    with _client(lambda request: httpx.Response(200, json={"predictions": "setosa"})) as client:
        outcomes, _ = check_generated(client, "http://server/predict", [b"{}"], schema=schema)
    assert "does not match the declared response schema" in outcomes[0].detail


def test_the_plan_check_catches_a_document_that_validates_and_then_fails_in_plan(tmp_path, monkeypatch):
    from mlops.commands import plan
    from mlops.config_properties import check_plan_accepts_what_validates
    from mlops.errors import MlopsError

    repo = bake(tmp_path)
    original = (repo / "azure-compute-config.json").read_bytes()
    assert check_plan_accepts_what_validates(repo, "azure-compute-config.json", b"[") is False

    def failing_plan(*args, **kwargs):
        raise MlopsError("azure-compute-config.json: the compute cannot be planned")

    monkeypatch.setattr(plan, "plan", failing_plan)
    with pytest.raises(AssertionError, match="(?s)validates but plan exits 1.*cannot be planned"):
        check_plan_accepts_what_validates(repo, "azure-compute-config.json", original)
