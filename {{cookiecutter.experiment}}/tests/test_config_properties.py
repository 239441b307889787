"""Whatever is saved in a config file, `mlops validate` answers with located lines, never a traceback.

Hypothesis draws near-valid documents, YAML/JSON fragments and arbitrary bytes for each config file,
seeded so a failure reproduces; `MLOPS_PROPERTY_EXAMPLES` sets how many (a few here, more in the
template's own suite).
"""

from pathlib import Path

import pytest
from mlops.config_properties import validate_properties

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def properties(tmp_path_factory):
    return validate_properties(ROOT, tmp_path_factory.mktemp("properties"))


@pytest.mark.parametrize("index", range(3), ids=["azure-config", "azure-compute-config", "experiment-file"])
def test_validate_answers_every_input_in_located_lines(properties, index):
    properties[index]()
