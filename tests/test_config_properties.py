"""Property-based checks of the config files: whatever a person saves, `mlops validate` answers in lines.

The generated repo runs the same properties in `make check` with a few examples; here they run with
many more (``MLOPS_PROPERTY_EXAMPLES``), seeded so a failure reproduces.
"""

from __future__ import annotations

import pytest

from conftest import bake

SUITE_EXAMPLES = "300"


@pytest.fixture(scope="module")
def properties(tmp_path_factory):
    import os

    from mlops.config_properties import EXAMPLES_VARIABLE, validate_properties

    os.environ.setdefault(EXAMPLES_VARIABLE, SUITE_EXAMPLES)
    repo = bake(tmp_path_factory.mktemp("pristine"))
    return {check.__name__: check for check in validate_properties(repo, tmp_path_factory.mktemp("work"))}


@pytest.mark.parametrize("name", ["validate_answers_every_azure-config.json",
                                  "validate_answers_every_azure-compute-config.json",
                                  "validate_answers_every_iris-classifier.yml"])
def test_validate_answers_every_generated_input_in_lines(properties, name):
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
