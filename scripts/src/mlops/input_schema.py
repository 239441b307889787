"""A scikit-learn model's request schema, ``outputs/input-schema.json``: what each request row must hold.

The training script knows what the model was fitted on, so the ``save model`` section the toolkit
fills in for scikit-learn writes the file from the training input it leaves in ``features`` and its
labels in ``labels`` (a script without ``features``, like the reference document's, is searched for
the largest DataFrame with the model's fitted columns): each column's kind (number, whole number,
true/false, a category from the values seen in training, free text), its pandas dtype, whether it may
be missing (it had missing values in training, so the pipeline handles them), the model's classes,
and a few training rows as examples, one per class first. ``serving/sklearn_predictor.py`` builds its
typed request model from the file; ``mlops sample-request`` writes ``serving/sample-request.json``
from its examples.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError

SCHEMA_FILE = "input-schema.json"
ITEMS = "rows"

# Runs inside the training script (pandas is in every scikit-learn runtime), before the model is saved.
WRITER_CODE = '''\
def write_input_schema(model, features, labels, path, max_categories=50, examples=3):
    """The request schema of `model`, from the training input `features`: see mlops.input_schema."""
    import pandas as pd

    def plain(value):
        if pd.isna(value):
            return None
        return value.item() if hasattr(value, "item") else value

    columns = []
    for name in features.columns:
        column = features[name]
        entry = {"name": str(name), "dtype": str(column.dtype), "nullable": bool(column.isna().any())}
        if pd.api.types.is_bool_dtype(column):
            entry["kind"] = "boolean"
        elif pd.api.types.is_integer_dtype(column):
            entry["kind"] = "integer"
        elif pd.api.types.is_numeric_dtype(column):
            entry["kind"] = "number"
        else:
            values = sorted({str(value) for value in column.dropna()})
            entry["kind"] = "category" if len(values) <= max_categories else "text"
            if entry["kind"] == "category":
                entry["categories"] = values
        columns.append(entry)
    rows = features
    if labels is not None and len(labels) == len(features):
        first_of_each = features.groupby(list(labels), sort=False).head(1)
        rows = pd.concat([first_of_each, features.drop(index=first_of_each.index)])
    schema = {
        "features": columns,
        "target": str(getattr(labels, "name", "") or ""),
        "classes": [plain(c) for c in getattr(model, "classes_", [])],
        "examples": [{str(k): plain(v) for k, v in row.items()} for row in rows.head(examples).to_dict("records")],
    }
    path.write_text(json.dumps(schema, indent=2) + "\\n", encoding="utf-8")


def training_frame(model):
    """The training input: `features`, else the largest DataFrame of the script with the model's columns."""
    if hasattr(globals().get("features"), "columns"):
        return globals()["features"]
    fitted = [str(name) for name in getattr(model, "feature_names_in_", [])]
    frames = [value for value in globals().values()
              if hasattr(value, "columns") and hasattr(value, "dtypes") and [str(c) for c in value.columns] == fitted]
    return max(frames, key=len) if fitted and frames else None


schema_frame = training_frame(model)
if schema_frame is None:
    print("save model: no input-schema.json: leave the training input in a pandas DataFrame named `features` "
          "(fit the model on it) so that serving/ knows the columns and their types")
else:
    schema_labels = globals().get("labels")
    write_input_schema(model, schema_frame, schema_labels if len(getattr(schema_labels, "index", [])) ==
                       len(schema_frame) else None, OUTPUTS / "input-schema.json")
'''


def read_schema(path: Path, display: str) -> dict[str, Any]:
    """The schema at ``path``, or an error naming ``display`` and what to run."""
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MlopsError(f"{display} is missing: the last smoke run saved no input schema; run `make smoke-train`"
                         ) from None
    except ValueError as error:
        raise MlopsError(f"{display}: not valid JSON ({error}): run `make smoke-train` again") from None
    if not isinstance(schema, dict) or not isinstance(schema.get("examples"), list) or not schema["examples"]:
        raise MlopsError(f"{display}: holds no example rows: run `make smoke-train` again")
    return schema


def sample_request(schema: dict[str, Any]) -> str:
    """The body of ``serving/sample-request.json``: the schema's example rows, one per line."""
    rows = ",\n".join(f"    {json.dumps(row)}" for row in schema["examples"])
    return f'{{\n  "{ITEMS}": [\n{rows}\n  ]\n}}\n'
