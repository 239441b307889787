"""What each model framework saves: where the model lands in the job's outputs, and the code that saves it.

The ``#=====save model`` section that :mod:`mlops.assembly` fills in comes from here, and so does the
path the model is registered from after an Azure ML job, so the two cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlops.errors import MlopsError
from mlops.input_schema import SCHEMA_FILE, WRITER_CODE


@dataclass(frozen=True)
class Framework:
    """A model framework: its saved format and the code of the ``save model`` section."""

    name: str
    model_output: str
    """Where the model is saved, relative to the job's working folder (so under ``outputs/``)."""
    model_format: str
    """What a person finds at ``model_output``."""
    save_code: str
    """The body of ``#=====save model``: saves ``model`` to ``model_output``."""
    model_markers: tuple[str, ...] = ()
    """Files inside a folder that make it the model itself rather than a folder holding it."""
    model_companions: tuple[str, ...] = ()
    """Files saved next to the model that serving needs with it."""


SKLEARN = Framework(
    name="sklearn",
    model_output="outputs/model.joblib",
    model_format="a scikit-learn estimator pickled with joblib, and its request schema (input-schema.json)",
    save_code=f'''\
import joblib

{WRITER_CODE}
joblib.dump(model, OUTPUTS / "model.joblib")
''',
    model_companions=(SCHEMA_FILE,),
)

SPACY = Framework(
    name="spacy",
    model_output="outputs/model",
    model_format="a spaCy pipeline folder (nlp.to_disk: config.cfg, meta.json and one folder per component)",
    save_code='''\
model.to_disk(OUTPUTS / "model")
''',
    model_markers=("meta.json",),
)

FRAMEWORKS = {framework.name: framework for framework in (SKLEARN, SPACY)}


def get_framework(name: str) -> Framework:
    """The framework called ``name``, or an error listing the known ones."""
    try:
        return FRAMEWORKS[name]
    except KeyError:
        raise MlopsError(f"unknown framework {name!r}: use one of {', '.join(sorted(FRAMEWORKS))}") from None
