"""The request contract both adapters share: limits, body parsing, and errors that say what to send.

``app.py`` (FastAPI) and ``score.py`` (Azure ML) hand the raw request body to :func:`parse`, so a
body is accepted or refused, with the same status and the same message, whichever server runs.
Framework code lives in the predictor module; nothing here imports a model library.
"""

from __future__ import annotations

import gc
import json
import os
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

HERE = Path(__file__).resolve().parent
SAMPLE_REQUEST_FILE = HERE / "sample-request.json"
SAMPLE_REQUEST: dict[str, Any] = json.loads(SAMPLE_REQUEST_FILE.read_text(encoding="utf-8"))


def _limit(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name}={value!r}: use a whole number of at least 1")
    return int(value)


MAX_ROWS = _limit("PREDICT_MAX_ROWS", 1000)
MAX_BODY_BYTES = _limit("PREDICT_MAX_BODY_BYTES", 1_048_576)
BODY_TIMEOUT_SECONDS = _limit("PREDICT_BODY_TIMEOUT_SECONDS", 10)


class InputError(Exception):
    """A request the client must change; ``status`` is the 4xx to answer with."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, str]:
        """The JSON error body both adapters send."""
        return {"error": self.code, "detail": self.message}


def model_dir() -> Path:
    """The registered model's folder: ``$AZUREML_MODEL_DIR`` (set by Azure ML and by ``mlops serve``), else the
    repo root. Both hold the training job's ``outputs/`` folder, where the model was saved."""
    return Path(os.environ.get("AZUREML_MODEL_DIR") or HERE.parent)


def freeze_loaded_objects() -> None:
    """Hide everything loaded so far (the model, the libraries) from the garbage collector.

    The model lives as long as the process, yet every full collection would scan it again: freezing
    after the load removes those multi-millisecond pauses from the latency tail.
    """
    gc.collect()
    gc.freeze()


def example(items_field: str) -> str:
    """A one-item request, as compact JSON, to quote in error messages."""
    items = SAMPLE_REQUEST.get(items_field) or []
    return json.dumps({items_field: items[:1]}, separators=(", ", ": "))


def check_declared_size(content_length: int | str | None) -> None:
    """Refuse a body whose declared length is over the limit before reading any of it."""
    if content_length is not None and str(content_length).isdigit() and int(content_length) > MAX_BODY_BYTES:
        raise too_large(int(content_length))


def too_large(size: int | None = None) -> InputError:
    """The error for a body over ``MAX_BODY_BYTES``."""
    seen = f"{size} bytes" if size is not None else f"more than {MAX_BODY_BYTES} bytes"
    return InputError(413, "body_too_large",
                      f"the request body is {seen}; the limit is {MAX_BODY_BYTES} bytes (PREDICT_MAX_BODY_BYTES): "
                      "split the input into smaller requests")


def body_timeout() -> InputError:
    """The error for a body that stops arriving before its declared end."""
    return InputError(408, "body_timeout",
                      f"the request body did not arrive within {BODY_TIMEOUT_SECONDS} s "
                      "(PREDICT_BODY_TIMEOUT_SECONDS): send the whole body with a correct Content-Length")


def read_limited(chunks: Iterable[bytes]) -> bytes:
    """Join body chunks, refusing the body as soon as it grows past ``MAX_BODY_BYTES``."""
    parts, size = [], 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large()
        parts.append(chunk)
    return b"".join(parts)


def parse(body: bytes, request_model: type[BaseModel], items_field: str) -> BaseModel:
    """Validate a raw JSON body against ``request_model``, or raise an :class:`InputError` that says what to send."""
    hint = f"send a JSON object like {example(items_field)} (see serving/sample-request.json)"
    if not body.strip():
        raise InputError(400, "empty_body", f"the request body is empty: {hint}")
    try:
        request = request_model.model_validate_json(body)
    except ValidationError as error:
        keys = item_keys(request_model, items_field)
        raise explain(error.errors(include_url=False), items_field, hint, keys) from None
    count = len(getattr(request, items_field))
    if count > MAX_ROWS:
        raise InputError(413, "too_many_rows",
                         f"{items_field} has {count} items; the limit is {MAX_ROWS} per request (PREDICT_MAX_ROWS): "
                         f"send at most {MAX_ROWS} per request")
    return request


def item_keys(request_model: type[BaseModel], items_field: str) -> list[str]:
    """The keys each item must have, when the items are typed objects (the names their fields are sent as)."""
    item = (typing.get_args(request_model.model_fields[items_field].annotation) or (None,))[0]
    fields = getattr(item, "model_fields", {})
    return [field.alias or name for name, field in fields.items()]


def explain(errors: list[dict[str, Any]], items_field: str, hint: str, keys: list[str] = ()) -> InputError:
    """Turn pydantic's errors into one readable 4xx: malformed JSON is a 400, a wrong shape or value a 422."""
    first = errors[0]
    if first["type"] in ("missing", "extra_forbidden") and len(first["loc"]) == 3 and first["loc"][0] == items_field:
        return _wrong_keys(errors, first["loc"][:2], keys)
    if first["type"] == "json_invalid":
        reason = first.get("ctx", {}).get("error", first["msg"])
        return InputError(400, "invalid_json", f"the request body is not valid JSON ({reason}): {hint}")
    if first["type"] == "model_type" and not first["loc"]:
        kind = _kind(first.get("input"))
        return InputError(422, "wrong_shape", f"the body must be a JSON object, not {kind}: {hint}")
    if first["type"] == "too_short" and tuple(first["loc"]) == (items_field,):
        return InputError(422, "empty_input", f"{items_field} is empty: {hint}")
    problems = [f"{_where(e['loc'])}: {e['msg']}{_got(e)}" for e in errors[:3]]
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return InputError(422, "invalid_input", f"{'; '.join(problems)}{more}: {hint}")


def _wrong_keys(errors: list[dict[str, Any]], item: tuple, keys: list[str]) -> InputError:
    """The 422 for an item with missing or unknown keys: which, and exactly what it needs."""
    def named(kind: str) -> str:
        return ", ".join(str(e["loc"][2]) for e in errors if e["type"] == kind and tuple(e["loc"][:2]) == item)

    return InputError(422, "wrong_features",
                      f"{_where(item)}: missing features: {named('missing') or 'none'}; unknown features: "
                      f"{named('extra_forbidden') or 'none'}: each needs exactly {', '.join(keys)}, e.g. "
                      f"{example(item[0])}")


def _where(loc: Iterable[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def _got(error: dict[str, Any]) -> str:
    if error["type"] in ("missing", "extra_forbidden") or "input" not in error:
        return ""
    shown = json.dumps(error["input"]) if not isinstance(error["input"], (dict, list)) else _kind(error["input"])
    return f" (got {shown[:60]})"


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
