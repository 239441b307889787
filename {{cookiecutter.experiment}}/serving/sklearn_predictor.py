"""The scikit-learn predictor: load the model, check the rows against its features, predict.

Both adapters use it: ``app.py`` (FastAPI, local) and ``score.py`` (Azure ML). The request names
each feature, so a column can never be silently swapped; the features come from the model itself
(``feature_names_in_``), so retraining on other columns needs no change here, only a new
``sample-request.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import joblib
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from contract import SAMPLE_REQUEST, InputError, example

ITEMS = "rows"
MODEL_FILE = "model.joblib"

Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]


class PredictRequest(BaseModel):
    """Rows to classify, each an object of feature name to number."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [SAMPLE_REQUEST]})

    rows: list[dict[str, Number]] = Field(min_length=1, description="One object per row: feature name -> number.")


class Prediction(BaseModel):
    """The model's answer for one row."""

    prediction: str | int | float = Field(description="The predicted class (or value, for a regressor).")
    probabilities: dict[str, float] | None = Field(default=None, description="Probability of each class.")


class PredictResponse(BaseModel):
    """One prediction per row, in the order of the request."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"predictions": [
        {"prediction": "setosa", "probabilities": {"setosa": 1.0, "versicolor": 0.0, "virginica": 0.0}}]}]})

    predictions: list[Prediction]


class Model:
    """A loaded estimator and the features it was trained on."""

    def __init__(self, estimator: Any, path: Path):
        self.estimator = estimator
        self.path = path
        names = getattr(estimator, "feature_names_in_", None)
        if names is None:
            raise ValueError(f"{path}: the model was fitted without feature names: fit it on a pandas DataFrame")
        self.features = [str(name) for name in names]
        self.classes = [_plain(c) for c in getattr(estimator, "classes_", [])]


def load(location: Path) -> Model:
    """Load the model from ``location``: the model folder (``outputs/model.joblib`` in it), or the file itself."""
    location = Path(location)
    candidates = [location] if location.is_file() else [location / "outputs" / MODEL_FILE, location / MODEL_FILE]
    found = [path for path in candidates if path.is_file()]
    if not found:
        raise FileNotFoundError(f"no outputs/{MODEL_FILE} in {location}: run `mlops smoke-train` or pass the model path")
    return Model(joblib.load(found[0]), found[0])


def predict(model: Model, request: PredictRequest) -> PredictResponse:
    """Predict every row; a row with missing or unknown features is a 422 naming them."""
    expected = set(model.features)
    for index, row in enumerate(request.rows):
        if row.keys() != expected:
            missing = ", ".join(f for f in model.features if f not in row) or "none"
            unknown = ", ".join(sorted(set(row) - expected)) or "none"
            raise InputError(422, "wrong_features",
                             f"rows[{index}]: missing features: {missing}; unknown features: {unknown}: each row needs "
                             f"exactly {', '.join(model.features)}, e.g. {example(ITEMS)}")
    frame = pd.DataFrame.from_records(request.rows, columns=model.features)
    estimator = model.estimator
    if hasattr(estimator, "predict_proba") and model.classes:
        probabilities = estimator.predict_proba(frame)
        return PredictResponse(predictions=[
            Prediction(prediction=model.classes[row.argmax()],
                       probabilities={str(c): round(float(p), 6) for c, p in zip(model.classes, row)})
            for row in probabilities])
    return PredictResponse(predictions=[Prediction(prediction=_plain(v)) for v in estimator.predict(frame)])


def _plain(value: Any) -> str | int | float:
    return value.item() if hasattr(value, "item") and not isinstance(value, str) else value
