"""Check a document against its JSON Schema and explain each violation in one line."""

from __future__ import annotations

import difflib
import json
import re
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource

from mlops.findings import Finding, dotted
from mlops.positioned import Document

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas"
SECRETS_MESSAGE = "secrets belong in GitHub secrets or .env, not in config"


@cache
def _registry() -> Registry:
    resources = [
        (path.name, Resource.from_contents(json.loads(path.read_text(encoding="utf-8"))))
        for path in sorted(SCHEMA_DIR.glob("*.schema.json"))
    ]
    return Registry().with_resources(resources)


@cache
def validator(schema_name: str) -> Draft202012Validator:
    """The validator for ``schemas/<schema_name>``, with the sibling schemas available to ``$ref``."""
    schema = _registry().contents(schema_name)
    return Draft202012Validator(schema, registry=_registry())


@cache
def secret_key_pattern() -> re.Pattern:
    """The pattern of keys that look like secrets, matched regardless of case."""
    names = _registry().contents("azure-names.schema.json")
    return re.compile(names["$defs"]["notASecret"]["not"]["pattern"], re.IGNORECASE)


def check_schema(document: Document, schema_name: str, file: str) -> list[Finding]:
    """Return one finding per schema violation in ``document``, ordered by position."""
    findings: list[Finding] = []
    findings += _secret_keys(document.data, (), document, file)
    for error in validator(schema_name).iter_errors(document.data):
        findings += _explain(error, document, file)
    unique = {(f.line, f.col, f.field, f.message): f for f in findings}
    return sorted(unique.values(), key=lambda f: (f.line, f.col, f.field))


def _secret_keys(data, path: tuple, document: Document, file: str) -> list[Finding]:
    found: list[Finding] = []
    if isinstance(data, dict):
        for key, value in data.items():
            child = path + (key,)
            if secret_key_pattern().search(str(key)):
                line, col = document.position(child, key=True)
                found.append(Finding(file, line, col, dotted(child), f"looks like a secret: {SECRETS_MESSAGE}"))
            else:
                found += _secret_keys(value, child, document, file)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found += _secret_keys(item, path + (index,), document, file)
    return found


def _explain(error: ValidationError, document: Document, file: str) -> list[Finding]:
    path = tuple(error.absolute_path)
    kind = error.validator
    if kind == "propertyNames" or "propertyNames" in error.absolute_schema_path:
        return []  # reported by _secret_keys, which also catches upper-case keys
    if kind == "additionalProperties":
        return _unknown_keys(error, path, document, file)
    if kind in ("anyOf", "oneOf") and error.context:
        deepest = max(error.context, key=lambda e: len(e.absolute_path))
        if deepest.validator != "type":
            return _explain(deepest, document, file)
    line, col = document.position(path)
    return [Finding(file, line, col, dotted(path), _message(error))]


def _unknown_keys(error: ValidationError, path: tuple, document: Document, file: str) -> list[Finding]:
    allowed = sorted(error.schema.get("properties", {}))
    patterns = list(error.schema.get("patternProperties", {}))
    findings = []
    for key in error.instance:
        if key in allowed or any(re.search(p, key) for p in patterns) or secret_key_pattern().search(key):
            continue
        child = path + (key,)
        line, col = document.position(child, key=True)
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(allowed)}"
        findings.append(Finding(file, line, col, dotted(child), f"unknown key {key!r}: {hint}"))
    return findings


_TYPE_NAMES = {
    "string": "a string", "integer": "a whole number", "number": "a number", "boolean": "true or false",
    "object": "a mapping", "array": "a list", "null": "null",
}


def _described(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return repr(value)


def _message(error: ValidationError) -> str:
    schema, value, kind = error.schema, error.instance, error.validator
    rule = schema.get("description", "").rstrip(".")
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"missing required key {missing!r}: add it (see the schema for an example)"
    if kind == "type":
        expected = error.validator_value
        expected = [expected] if isinstance(expected, str) else expected
        names = " or ".join(_TYPE_NAMES.get(t, t) for t in expected)
        return f"expected {names}, found {_described(value)}"
    if kind == "enum":
        options = ", ".join(repr(o) for o in error.validator_value)
        return f"{_described(value)} is not allowed: use one of {options}"
    if kind == "const":
        return f"must be {error.validator_value!r}"
    if kind in ("minLength", "maxLength"):
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        limit = f"{low}-{high}" if high is not None else f"at least {low}"
        return f"{_described(value)} has {len(value)} characters, allowed {limit}" + (f": {rule}" if rule else "")
    if kind == "pattern":
        return f"{_described(value)} is not valid" + (f": {rule}" if rule else f": must match {schema['pattern']}")
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        return f"{_described(value)} is out of range: use a value from {low} to {high}"
    if kind == "uniqueItems":
        return "lists an item twice: keep one"
    if kind == "not" and list(error.validator_value) == ["required"]:
        keys = " and ".join(repr(k) for k in error.validator_value["required"])
        return f"sets both {keys}: keep one"
    return error.message
