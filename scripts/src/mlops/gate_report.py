"""The quality gate's verdict for people: the side-by-side table of the step summary, and the model's tags."""

from __future__ import annotations

import json
from typing import Any

from mlops.gate import Verdict, verdict_from_dict

TAG_PREFIX = "gate"


def verdict_markdown(record: dict[str, Any], title: str, model: str = "the new model",
                     notes: list[str] = ()) -> str:
    """A step-summary section: the verdict, then one row per check with both models' values side by side."""
    verdict = verdict_from_dict(record["verdict"])
    champion = verdict.champion or "none (first release)"
    outcome = "passed" if verdict.passed else "**refused**"
    data = record.get("evaluation_data", "?")
    scope = (f"New model `{model}` scored on `{data}`; no model serves yet (a first release), so only the floors "
             "apply." if verdict.first_release else
             f"New model `{model}` against champion `{champion}` (the model serving most traffic), both scored by "
             f"the same evaluation code on `{data}`.")
    lines = [f"### {title}: {outcome}", "", scope, "",
             f"| metric | rule | champion `{champion}` | new `{model}` | result |", "|---|---|---:|---:|---|"]
    for check in verdict.checks:
        result = "ok" if check.passed else "**failed**"
        lines.append(f"| {check.metric} ({check.kind}) | {_cell(check.rule)} | {_number(check.champion)} | "
                     f"{_number(check.challenger)} | {result} |")
    lines += ["", f"Verdict: {verdict.reason()}", *notes]
    return "\n".join(lines) + "\n\n"


def model_tags(record: dict[str, Any]) -> dict[str, str]:
    """The tags that put the verdict on the registered model: outcome, champion, reason, and each metric."""
    verdict = verdict_from_dict(record["verdict"])
    tags = {f"{TAG_PREFIX}": "passed" if verdict.passed else "refused",
            f"{TAG_PREFIX}_champion": verdict.champion or "none",
            f"{TAG_PREFIX}_reason": verdict.reason()[:500]}
    for check in verdict.checks:
        if check.kind != "floor":
            tags[f"{TAG_PREFIX}_champion_{check.metric}"] = _number(check.champion)
        tags[f"{TAG_PREFIX}_new_{check.metric}"] = _number(check.challenger)
    return tags


def model_properties(record: dict[str, Any]) -> dict[str, str]:
    """The whole record as a model property (set once, at registration): rule, both metrics and the verdict."""
    return {f"{TAG_PREFIX}_record": json.dumps(record, sort_keys=True, default=str)}


def registration_marks(record: dict[str, Any] | None, gated: bool) -> tuple[dict[str, str], dict[str, str]]:
    """(tags, properties) for a model registered from a job: its verdict, or that a gated job left none."""
    if record is not None:
        return model_tags(record), model_properties(record)
    if gated:
        return {TAG_PREFIX: "missing", f"{TAG_PREFIX}_reason": "the job left no outputs/gate.json"}, {}
    return {}, {}


def is_gate_tag(key: str) -> bool:
    """Whether a model tag is one of the gate's marks (``gate``, ``gate_new_accuracy``, ...)."""
    return key == TAG_PREFIX or key.startswith(f"{TAG_PREFIX}_")


def record_of(properties: dict[str, str] | None, tags: dict[str, str] | None) -> dict[str, Any] | None:
    """The gate record a registered model carries, or None when it was registered without a gate."""
    text = (properties or {}).get(f"{TAG_PREFIX}_record") or (tags or {}).get(f"{TAG_PREFIX}_record")
    if not text:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    return record if isinstance(record, dict) and "verdict" in record else None


def verdict_of(record: dict[str, Any]) -> Verdict:
    """The verdict in a gate record."""
    return verdict_from_dict(record["verdict"])


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
