"""Property-based checks of the scoring API, run by ``mlops api-test`` after the hand-picked requests.

Hypothesis draws request bodies from the sample request (one value deleted, renamed or replaced by any
JSON value or a name), from JSON/YAML fragments and from arbitrary bytes, seeded so a failure
reproduces. Every answer must be below 500; a refusal must be the contract's ``{"error", "detail"}``
object; a 200 must match the response schema the app declares in ``/openapi.json``; score.py must give
each body the same status and body as the app; and the server must still be ready afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from mlops.api_check import Case, Outcome
from mlops.generated_inputs import SEED, examples, fragments, near_valid

Answer = tuple[int, Any]


def generated_bodies(sample: dict[str, Any], count: int | None = None, seed_value: int = SEED) -> list[bytes]:
    """The same ``count`` request bodies for every run with the same sample and seed."""
    strategy = st.one_of(near_valid(sample).map(lambda value: json.dumps(value).encode("utf-8")),
                         fragments().map(lambda text: text.encode("utf-8")), st.binary(max_size=120))
    bodies: list[bytes] = []

    @seed(seed_value)
    @settings(max_examples=count or examples(), database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(body=strategy)
    def collect(body: bytes) -> None:
        bodies.append(body)

    collect()
    return bodies


def response_schema(openapi: dict[str, Any], path: str) -> dict[str, Any] | None:
    """The JSON Schema of ``path``'s 200 answer in an OpenAPI document, with its components to resolve refs."""
    try:
        declared = openapi["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    except (KeyError, TypeError):
        return None
    return {**declared, "components": openapi.get("components", {})}


def judge(status: int, body: Any, schema: dict[str, Any] | None) -> str:
    """What is wrong with one answer to a generated body ("" when nothing is)."""
    if status >= 500 or status == 0:
        return f"answered {status or 'nothing'}: a request must never get a server error"
    if status >= 400:
        if not (isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("detail"), str)):
            return f"a {status} must be {{\"error\": ..., \"detail\": ...}}, got {json.dumps(body)[:200]}"
        return ""
    if schema is not None:
        import jsonschema

        try:
            jsonschema.validate(body, schema)
        except jsonschema.ValidationError as error:
            return f"the 200 does not match the declared response schema: {error.message[:200]}"
    return ""


def check_generated(client: httpx.Client, url: str, bodies: list[bytes], *, schema: dict[str, Any] | None = None,
                    reference: list[Answer] | None = None,
                    server_log: Callable[[], str] = str) -> tuple[list[Outcome], list[Answer]]:
    """Send each body to ``url``; judge it, and compare it with ``reference`` (the app's answers) when given.

    Returns one outcome per body that failed (each naming the exact request) plus one summary outcome,
    and the answers, for replaying against the other adapter.
    """
    outcomes, answers = [], []
    server_log()
    for index, body in enumerate(bodies):
        case = Case(f"generated request #{index}", body, 0)
        try:
            answer = client.post(url, content=body, headers={"Content-Type": "application/json"})
            status, payload = answer.status_code, _json_or_text(answer)
        except httpx.HTTPError as error:
            status, payload = 0, f"{type(error).__name__}: {error}"
        answers.append((status, payload))
        problem = judge(status, payload, schema)
        if not problem and reference is not None and index < len(reference) and reference[index] != (status, payload):
            problem = (f"the app answered {reference[index][0]} {json.dumps(reference[index][1])[:150]}, "
                       f"this server {status} {json.dumps(payload)[:150]}")
        if problem:
            outcomes.append(Outcome(case, status, False, f"{problem}; request body: {body!r}", server_log().strip()))
    passed = len(bodies) - len(outcomes)
    summary = Case(f"{len(bodies)} generated requests (seed {SEED})", b"", 0)
    outcomes.append(Outcome(summary, 0, not outcomes, f"{passed} of {len(bodies)} answered as the contract says"
                            + (" and as the app did" if reference is not None else "")))
    return outcomes, answers


def still_ready(client: httpx.Client, health_url: str) -> Outcome:
    """After the generated requests, the server must still say it is ready."""
    case = Case("ready after the generated requests", b"", 200)
    try:
        status = client.get(health_url).status_code
    except httpx.HTTPError as error:
        return Outcome(case, 0, False, f"no answer from {health_url}: {type(error).__name__}")
    return Outcome(case, status, status == 200, f"GET {health_url.rsplit('/', 1)[-1] or '/'} answered {status}")


def _json_or_text(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return answer.text[:300]
