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
