"""mlops sample-request: write serving/sample-request.json from a few rows of the training input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

HELP = "write serving/sample-request.json from example rows of the last smoke run's training input (scikit-learn)"


def add_arguments(parser) -> None:
    """No options: the rows come from ``outputs/input-schema.json``, written by the last smoke run."""


def write_sample_request(project_dir: Path) -> tuple[Path, dict[str, Any]]:
    """Replace the sample request with the example rows of the current smoke run's input schema.

    Returns the file written and the schema it came from.
    """
    from mlops.errors import MlopsError
    from mlops.input_schema import SCHEMA_FILE, read_schema, sample_request
    from mlops.layout import SAMPLE_REQUEST
    from mlops.project import load_project
    from mlops.smoke_record import OUTPUTS, require_current_outputs

    project = load_project(project_dir)
    if project.experiment.framework != "sklearn":
        raise MlopsError(f"sample-request writes rows for scikit-learn models; edit {SAMPLE_REQUEST} by hand for "
                         f"{project.experiment.framework}")
    require_current_outputs(project)
    schema = read_schema(project.path(f"{OUTPUTS}/{SCHEMA_FILE}"), f"{OUTPUTS}/{SCHEMA_FILE}")
    target = project.path(SAMPLE_REQUEST)
    target.write_text(sample_request(schema), encoding="utf-8")
    return target, schema


def run(args) -> int:
    """Write the file and say which columns its rows hold."""
    from mlops.layout import SAMPLE_REQUEST

    _, schema = write_sample_request(args.project_dir)
    print(f"Wrote {SAMPLE_REQUEST}: {len(schema['examples'])} rows of the training input "
          f"({', '.join(column['name'] for column in schema['features'])})")
    return 0
