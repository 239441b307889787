"""The local HTTP adapter: a FastAPI app, ``api``, serving the predictor (``uvicorn app:api`` in serving/).

``mlops serve`` runs it; ``mlops api-test`` starts it and checks every answer. The body of
``POST /predict`` is the body Azure ML's ``/score`` receives through ``score.py``: both hand the
raw bytes to :func:`contract.parse`, so a request is accepted or refused the same way by both.
The model loads in a background thread: ``/health`` answers at once (live) and says ready only
once the model is loaded. Requests that arrive together are predicted in one call (``batching.py``).
"""

from __future__ import annotations

import asyncio
import json
import threading
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel
from starlette.exceptions import HTTPException

import contract
import {{ cookiecutter.framework }}_predictor as predictor
from batching import Batcher


class Health(BaseModel):
    """Liveness and readiness in one answer: 200 once the model is loaded, 503 before or if loading failed."""

    live: bool = True
    ready: bool
    status: Literal["loading", "ready", "failed"]
    detail: str = ""


class ErrorBody(BaseModel):
    """Every 4xx and 503 answer: a stable code and a sentence saying what to send instead."""

    error: str
    detail: str


class _State:
    model = None
    failure = ""


state = _State()


def _load_model() -> None:
    location = contract.model_dir()
    try:
        state.model = predictor.load(location)
        contract.freeze_loaded_objects()
    except Exception as error:  # any failure is reported by /health, never a crash loop
        state.failure = f"could not load the model from {location}: {type(error).__name__}: {error}"


batcher = Batcher(lambda request: predictor.predict(state.model, request), predictor.PredictRequest,
                  predictor.ITEMS, contract.MAX_ROWS)


@asynccontextmanager
async def lifespan(_: FastAPI):
    threading.Thread(target=_load_model, name="load-model", daemon=True).start()
    batching = asyncio.create_task(batcher.run())
    yield
    batching.cancel()


# Answers arrive through tojson into raw ''' strings: quotes and backslashes in them are data, not code.
MODEL_NAME = json.loads(r'''{{ cookiecutter.model_name | tojson }}''')
DESCRIPTION = json.loads(r'''{{ cookiecutter.description | tojson }}''')

# FastAPIOffline serves /docs with Swagger UI's files from the package, not from a CDN, so the
# interactive docs work on a machine (or a CI runner) without internet.
api = FastAPIOffline(
    title=MODEL_NAME,
    description=f"{DESCRIPTION} The body of POST /predict is also the body of the Azure ML endpoint's /score.",
    lifespan=lifespan,
)
ERRORS = {status: {"model": ErrorBody, "description": text} for status, text in {
    400: "Malformed JSON or an empty body", 408: "The body stopped arriving",
    413: "Body or item count over the limit", 422: "Wrong shape, type or features",
    503: "The model is not loaded yet"}.items()}


def _inlined(schema: dict) -> dict:
    """``schema`` with its ``$defs`` put in place: a request body in OpenAPI cannot refer to them."""
    definitions = schema.pop("$defs", {})

    def resolve(node):
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(definitions[node["$ref"].rsplit("/", 1)[-1]])
            return {key: resolve(value) for key, value in node.items()}
        return [resolve(value) for value in node] if isinstance(node, list) else node

    return resolve(schema)


REQUEST_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": _inlined(predictor.PredictRequest.model_json_schema()),
    "example": contract.SAMPLE_REQUEST}}}}


def _error(error: contract.InputError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status)


async def _read_body(request: Request) -> bytes:
    """The body, refused once it passes the size limit or stalls past the time limit (a slow client never hangs)."""
    chunks, size = [], 0
    try:
        async with asyncio.timeout(contract.BODY_TIMEOUT_SECONDS):
            async for chunk in request.stream():
                size += len(chunk)
                if size > contract.MAX_BODY_BYTES:
                    raise contract.too_large()
                chunks.append(chunk)
    except TimeoutError:
        raise contract.body_timeout() from None
    return b"".join(chunks)


@api.exception_handler(HTTPException)
async def _http_error(_: Request, error: HTTPException) -> JSONResponse:
    """A wrong path or method gets the same error body as a wrong request, pointing at the right call."""
    code = str(error.detail).lower().replace(" ", "_")
    return JSONResponse({"error": code, "detail": f"{error.detail}: send POST /predict with a JSON body, or GET "
                                                  "/health (the API is described at /docs)"},
                        status_code=error.status_code, headers=getattr(error, "headers", None))


@api.exception_handler(Exception)
async def _server_error(_: Request, error: Exception) -> JSONResponse:
    """A bug in serving/ is still a JSON answer; the server logs its traceback, as with any unhandled error."""
    return JSONResponse({"error": "internal_error", "detail": f"the server failed on this request: "
                                                              f"{type(error).__name__}: {error} (see the server log)"},
                        status_code=500)


@api.get("/health", response_model=Health, responses={503: {"model": Health, "description": "Not ready"}})
def health() -> JSONResponse:
    """Live whenever the process answers; ready once the model is loaded."""
    if state.model is not None:
        return JSONResponse({"live": True, "ready": True, "status": "ready", "detail": ""})
    status = "failed" if state.failure else "loading"
    return JSONResponse({"live": True, "ready": False, "status": status,
                         "detail": state.failure or "the model is loading"}, status_code=503)


@api.post("/predict", response_model=predictor.PredictResponse, responses=ERRORS, openapi_extra=REQUEST_BODY)
async def predict(request: Request) -> Response:
    """Predict for every item of the request; the body is read up to the size limit, then validated."""
    try:
        contract.check_declared_size(request.headers.get("content-length"))
        body = await _read_body(request)
        if state.model is None:
            raise contract.InputError(503, "not_ready", state.failure or "the model is still loading: retry when "
                                      "GET /health says ready")
        payload = contract.parse(body, predictor.PredictRequest, predictor.ITEMS)
        result = await batcher.submit(payload)
    except contract.InputError as error:
        return _error(error)
    return Response(result.model_dump_json(), media_type="application/json")
