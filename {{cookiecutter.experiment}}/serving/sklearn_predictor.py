"""The scikit-learn predictor: load the model, check each row against the model's input schema, predict.

Both adapters use it: ``app.py`` (FastAPI, local) and ``score.py`` (Azure ML). The request schema is
``input-schema.json``, which the training script saves next to the model: one field per feature, typed
as in the training data (a number, a whole number, true/false, one of the categories seen in training,
free text), and nullable where the training data had missing values, so the pipeline handles them. A
wrong type or an unknown category is a 422 naming the column and what it accepts. Retraining on other
columns needs no change here: ``mlops sample-request`` writes a matching ``sample-request.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import joblib
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, create_model

from contract import SAMPLE_REQUEST, InputError, model_dir

ITEMS = "rows"
MODEL_FILE = "model.joblib"
SCHEMA_FILE = "input-schema.json"

KINDS: dict[str, Any] = {
    "number": Annotated[float, Field(strict=True, allow_inf_nan=False)],
    "integer": Annotated[int, Field(strict=True)],
    "boolean": Annotated[bool, Field(strict=True)],
    "text": Annotated[str, Field(strict=True)],
}
WORDS = {"number": "a number", "integer": "a whole number", "boolean": "true or false", "text": "text"}


def model_file(location: Path) -> Path | None:
    """``model.joblib`` in the model folder ``location`` (under ``outputs/``, as Azure ML lays it out), or the file."""
    location = Path(location)
    candidates = [location] if location.is_file() else [location / "outputs" / MODEL_FILE, location / MODEL_FILE]
    return next((path for path in candidates if path.is_file()), None)


def read_schema(location: Path) -> dict[str, Any] | None:
    """The input schema saved next to the model in ``location``; None when there is none."""
    found = model_file(location)
    try:
        return json.loads((found.parent / SCHEMA_FILE).read_text(encoding="utf-8")) if found else None
    except (OSError, ValueError):
        return None


def _field(column: dict[str, Any]) -> tuple[Any, Any]:
    kind = column["kind"]
    if kind == "category":
        annotation, accepts = Literal[tuple(column["categories"])], "one of " + ", ".join(column["categories"])
    else:
        annotation, accepts = KINDS[kind], WORDS[kind]
    if column.get("nullable"):
        annotation, accepts = annotation | None, accepts + ", or null"
    return annotation, Field(alias=column["name"], description=f"{accepts} (trained as {column['dtype']})")


def request_model(schema: dict[str, Any] | None) -> type[BaseModel]:
    """The typed request for ``schema``: rows of exactly its features; any row of values without one."""
    if schema:
        fields = {f"feature_{i}": _field(column) for i, column in enumerate(schema["features"])}
        row: Any = create_model("Row", __config__=ConfigDict(extra="forbid"), **fields)
        description = "One object per row: " + ", ".join(c["name"] for c in schema["features"]) + "."
    else:
        row, description = dict[str, float | int | bool | str | None], "One object per row: feature name -> value."
    config = ConfigDict(extra="forbid", json_schema_extra={"examples": [SAMPLE_REQUEST]})
    return create_model("PredictRequest", __config__=config, __doc__="Rows to predict, each an object of features.",
                        rows=(list[row], Field(min_length=1, description=description)))


SCHEMA = read_schema(model_dir())
PredictRequest = request_model(SCHEMA)
CLASSES = (SCHEMA or {}).get("classes") or []


class Prediction(BaseModel):
    """The model's answer for one row."""

    prediction: str | int | float | bool = Field(description="The predicted class (or value, for a regressor).")
    probabilities: dict[str, float] | None = Field(default=None, description="Probability of each class.")


class PredictResponse(BaseModel):
    """One prediction per row, in the order of the request."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"predictions": [
        {"prediction": CLASSES[0], "probabilities": {str(c): float(i == 0) for i, c in enumerate(CLASSES)}}]}]}
        if CLASSES else None)

    predictions: list[Prediction]


class Model:
    """A loaded estimator and the columns it was trained on, with their pandas dtypes."""

    def __init__(self, estimator: Any, path: Path, schema: dict[str, Any]):
        self.estimator = estimator
        self.path = path
        self.features = [column["name"] for column in schema["features"]]
        self.dtypes = {column["name"]: column["dtype"] for column in schema["features"]}
        self.object_columns = [name for name, dtype in self.dtypes.items() if dtype == "object"]
        fitted = [str(name) for name in getattr(estimator, "feature_names_in_", self.features)]
        if fitted != self.features:
            raise ValueError(f"{path.parent / SCHEMA_FILE} lists {self.features} but the model was fitted on {fitted}: "
                             "save both from the same run (`mlops smoke-train`)")
        self.classes = [_plain(c) for c in getattr(estimator, "classes_", [])]


def load(location: Path) -> Model:
    """Load the model and its input schema from the model folder ``location`` (or the model file itself)."""
    found = model_file(location)
    if found is None:
        raise FileNotFoundError(f"no outputs/{MODEL_FILE} in {location}: "
                                "run `mlops smoke-train` or pass the model path")
    schema = read_schema(location)
    if schema is None:
        raise FileNotFoundError(f"no readable {SCHEMA_FILE} next to {found}: the training script's `save model` "
                                "section writes it (see `mlops assemble train.py`); run `mlops smoke-train`")
    if schema != SCHEMA:
        raise ValueError(f"{found.parent / SCHEMA_FILE} changed after this server started: restart it")
    return Model(joblib.load(found), found, schema)


def predict(model: Model, request: BaseModel) -> PredictResponse:
    """Predict every row (validated against the schema already); a row the model still refuses is a 422."""
    records = [row.model_dump(by_alias=True) for row in request.rows]
    # The training dtypes: a missing value becomes NaN, as when pandas read the training data.
    frame = pd.DataFrame.from_records(records, columns=model.features).astype(model.dtypes)
    for name in model.object_columns:
        frame[name] = frame[name].where(frame[name].notna(), float("nan"))
    estimator = model.estimator
    try:
        if hasattr(estimator, "predict_proba") and model.classes:
            probabilities = estimator.predict_proba(frame)
            return PredictResponse(predictions=[
                Prediction(prediction=model.classes[row.argmax()],
                           probabilities={str(c): round(float(p), 6) for c, p in zip(model.classes, row, strict=True)})
                for row in probabilities])
        return PredictResponse(predictions=[Prediction(prediction=_plain(v)) for v in estimator.predict(frame)])
    except (ValueError, TypeError) as error:
        raise InputError(422, "unusable_input", f"the model could not use these rows: {error}") from None


def _plain(value: Any) -> str | int | float | bool:
    return value.item() if hasattr(value, "item") and not isinstance(value, str) else value
