"""The requests ``mlops api-test`` sends to a running server, and what each answer must be.

The sample request must be answered with one prediction per item; every bad request (malformed
JSON, an empty body, a wrong shape or type, no items, too many items, an oversized body) must get
its 4xx, its error code and a message. The cases are built from the shipped sample request and the
configured limits, so they hold for any framework's predictor. The server is reached through a
base URL and an ``httpx.Client``: that is the seam tests use.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import httpx


@dataclass(frozen=True)
class Case:
    """One request and the answer it must get."""

    name: str
    body: bytes
    status: int
    error: str = ""  # the ``error`` code a refusal must carry; empty for the sample request


@dataclass(frozen=True)
class Outcome:
    """What the server answered to a case, whether that was right, and what the server logged meanwhile."""

    case: Case
    status: int
    passed: bool
    detail: str
    server_log: str = ""


def _encode(value: Any) -> bytes:
    return json.dumps(value).encode()


def build_cases(sample: dict[str, Any], items: str, limits: dict[str, int]) -> list[Case]:
    """The sample request, then one case per kind of bad request, sized from ``limits``."""
    first = sample[items][0]
    max_rows, max_bytes = limits["max_rows"], limits["max_body_bytes"]
    if isinstance(first, dict) and first:
        wrong_type = {**first, next(iter(first)): {"not": "a value of any feature"}}
    else:
        wrong_type = 42
    many = [sample[items][i % len(sample[items])] for i in range(max_rows + 1)]
    many_body = _encode({items: many})
    # With a row limit too high for the body limit, the body limit is what refuses the request first.
    too_many = Case(f"{max_rows + 1} items (limit {max_rows})", many_body, 413,
                    "too_many_rows" if len(many_body) <= max_bytes else "body_too_large")
    oversized = _encode(sample)
    oversized += b" " * (max_bytes + 1 - len(oversized))
    cases = [
        Case("sample request", _encode(sample), 200),
        Case("malformed JSON", _encode(sample)[:-2], 400, "invalid_json"),
        Case("empty body", b"", 400, "empty_body"),
        Case("a list instead of an object", _encode(sample[items]), 422, "wrong_shape"),
        Case(f"no {items!r} field", _encode({"inputs": sample[items]}), 422, "invalid_input"),
        Case(f"{items!r} is not a list", _encode({items: "text"}), 422, "invalid_input"),
        Case("an item of the wrong type", _encode({items: [wrong_type]}), 422, "invalid_input"),
        Case(f"empty {items!r}", _encode({items: []}), 422, "empty_input"),
        too_many,
        Case(f"a body of {len(oversized)} bytes (limit {max_bytes})", oversized, 413, "body_too_large"),
    ]
    if isinstance(first, dict) and len(first) > 1:
        missing = dict(list(first.items())[:-1])
        cases.insert(7, Case("an item missing a feature", _encode({items: [missing]}), 422, "wrong_features"))
    cases.append(Case("sample request again (the server survived)", _encode(sample), 200))
    return cases


def check_answer(client: httpx.Client, url: str, case: Case, items_sent: int) -> Outcome:
    """Send ``case`` to ``url`` and judge the answer."""
    try:
        answer = client.post(url, content=case.body, headers={"Content-Type": "application/json"})
    except httpx.HTTPError as error:
        return Outcome(case, 0, False, f"no answer: {type(error).__name__}: {error}")
    try:
        body = answer.json()
    except ValueError:
        return Outcome(case, answer.status_code, False, f"not JSON: {answer.text[:200]!r}")
    if answer.status_code != case.status:
        return Outcome(case, answer.status_code, False, f"expected {case.status}, got {json.dumps(body)[:300]}")
    if case.status == 200:
        predictions = body.get("predictions") if isinstance(body, dict) else None
        if not isinstance(predictions, list) or len(predictions) != items_sent:
            return Outcome(case, answer.status_code, False,
                           f"expected {items_sent} predictions, got {json.dumps(body)[:300]}")
        return Outcome(case, answer.status_code, True, f"{len(predictions)} predictions, e.g. "
                                                        f"{json.dumps(predictions[0])[:120]}")
    error, detail = (body.get("error"), body.get("detail")) if isinstance(body, dict) else (None, None)
    if error != case.error or not isinstance(detail, str) or len(detail) < 20:
        return Outcome(case, answer.status_code, False,
                       f"expected error {case.error!r} with a message, got {json.dumps(body)[:300]}")
    return Outcome(case, answer.status_code, True, detail)


def run_checks(client: httpx.Client, url: str, sample: dict[str, Any], items: str, limits: dict[str, int],
               server_log: Callable[[], str] = str, alive: Callable[[], bool] = lambda: True) -> list[Outcome]:
    """Send every case to ``url`` in order and return the outcomes.

    ``server_log`` returns what the server logged since it was last called, so each failure carries the
    server's own error; ``alive`` says whether the server still runs. A connection the server dropped
    is retried once on a fresh one, so a failure is never a follow-on of the case before; once the
    server is gone, the remaining cases are not sent.
    """
    outcomes = []
    server_log()
    for case in build_cases(sample, items, limits):
        outcome = check_answer(client, url, case, len(sample[items]))
        if outcome.status == 0 and alive():
            with httpx.Client(timeout=client.timeout) as fresh:
                outcome = check_answer(fresh, url, case, len(sample[items]))
        if not outcome.passed:
            time.sleep(0.2)  # a server logs its exception as it answers: let that line reach the file
        logged = server_log().strip()
        outcomes.append(outcome if outcome.passed else replace(outcome, server_log=logged))
        if not alive():
            outcomes.append(Outcome(case, 0, False, "the server exited here: the remaining cases were not sent",
                                    server_log().strip()))
            break
    return outcomes
