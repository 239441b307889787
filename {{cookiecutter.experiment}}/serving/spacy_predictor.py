"""The spaCy predictor: load the pipeline, check the texts, return each text's named entities.

Both adapters use it: ``app.py`` (FastAPI, local) and ``score.py`` (Azure ML). The model is the
folder ``nlp.to_disk`` wrote (``config.cfg``, ``meta.json`` and one folder per component); the
texts of one request run through ``nlp.pipe`` together, so a batch costs far less per text than
single calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import spacy
from pydantic import BaseModel, ConfigDict, Field

from contract import SAMPLE_REQUEST

ITEMS = "texts"
MAX_TEXT_CHARS = 100_000

Text = Annotated[str, Field(strict=True, max_length=MAX_TEXT_CHARS)]


class PredictRequest(BaseModel):
    """Texts to find entities in."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [SAMPLE_REQUEST]})

    texts: list[Text] = Field(min_length=1, description=f"One string per document, at most {MAX_TEXT_CHARS} "
                                                         "characters each.")


class Entity(BaseModel):
    """One entity: its label and where it is in the text (character offsets, end excluded)."""

    label: str
    start: int
    end: int
    text: str


class Prediction(BaseModel):
    """The entities of one text, in order of appearance."""

    entities: list[Entity]


class PredictResponse(BaseModel):
    """One prediction per text, in the order of the request."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"predictions": [{"entities": [
        {"label": "NAME", "start": 14, "end": 25, "text": "Fatima Khan"}]}]}]})

    predictions: list[Prediction]


class Model:
    """A loaded spaCy pipeline and the folder it came from."""

    def __init__(self, nlp: spacy.Language, path: Path):
        self.nlp = nlp
        self.path = path


def load(location: Path) -> Model:
    """Load the pipeline ``nlp.to_disk`` saved: ``outputs/model`` in the model folder ``location``, or ``location``."""
    location = Path(location)
    folders = [folder for folder in (location / "outputs" / "model", location)
               if (folder / "meta.json").is_file() and (folder / "config.cfg").is_file()]
    if not folders:
        raise FileNotFoundError(f"no spaCy pipeline (meta.json + config.cfg) in {location}: run `mlops smoke-train` "
                                "or pass the model folder")
    return Model(spacy.load(folders[0]), folders[0])


def predict(model: Model, request: PredictRequest) -> PredictResponse:
    """Run every text through the pipeline in one batch and list its entities."""
    return PredictResponse(predictions=[
        Prediction(entities=[Entity(label=ent.label_, start=ent.start_char, end=ent.end_char, text=ent.text)
                             for ent in doc.ents])
        for doc in model.nlp.pipe(request.texts)])
