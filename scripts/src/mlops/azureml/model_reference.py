"""The ``name:version`` of a model reference, as a deployment or a job input holds it."""

from __future__ import annotations

import re
from typing import Any

MODEL_ID = re.compile(r"models/([^/:]+)/versions/([^/]+)$")


def model_label(reference: Any) -> str:
    """``name:version`` of a model reference, whether ``azureml:name:version`` or a full resource id."""
    text = str(reference or "")
    if match := MODEL_ID.search(text):
        return f"{match.group(1)}:{match.group(2)}"
    return text.removeprefix("azureml:")
