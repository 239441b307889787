"""Seeded Hypothesis inputs shared by the property checks: near-valid documents and half-edited fragments.

:mod:`mlops.config_properties` writes them into config files, :mod:`mlops.api_properties` sends them to
the scoring servers. Needs ``hypothesis`` (the toolkit's ``test`` extra).
"""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import strategies as st

# How many examples each property draws: small in `make check`, larger in the template's own suite.
EXAMPLES_VARIABLE = "MLOPS_PROPERTY_EXAMPLES"
DEFAULT_EXAMPLES = 25
SEED = 20261201
FRAGMENT_TOKENS = ["{", "}", "[", "]", ":", ",", "-", " ", "  ", "\t", "\n", '"', "'", "#", "&a", "*a",
                   "!!python/object:os.system", "~", "null", "true", "1e999", "-0", "0x1F", "\ufeff", "\x00",
                   "key", "max_nodes", "service_name", "deploy", "inputs", "<<", "|", ">", "%YAML 1.2", "---"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8)


def examples() -> int:
    """The number of examples per property: ``$MLOPS_PROPERTY_EXAMPLES``, else a few for ``make check``."""
    return int(os.environ.get(EXAMPLES_VARIABLE, DEFAULT_EXAMPLES))


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside a JSON-like document, parents before children."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _mutated(document: Any, path: tuple, mutation: str, replacement: Any) -> Any:
    """A deep copy of ``document`` with the value at ``path`` deleted, replaced or given a sibling key."""
    copy = json.loads(json.dumps(document))
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if mutation == "delete":
        del parent[last]
    elif mutation == "rename" and isinstance(parent, dict):
        parent[f"{last}_"] = parent.pop(last)
    else:
        parent[last] = replacement
    return copy


@st.composite
def near_valid(draw, document: Any) -> Any:
    """``document`` with one value deleted, renamed, or replaced by any JSON value or a valid-looking name."""
    paths = _paths(document)
    if not paths:
        return draw(json_values)
    path = draw(st.sampled_from(paths))
    mutation = draw(st.sampled_from(["delete", "rename", "replace", "name"]))
    if mutation == "name":
        replacement = draw(st.from_regex(r"[a-zA-Z][-a-zA-Z0-9_]{0,40}", fullmatch=True))
    else:
        replacement = draw(json_values)
    return _mutated(document, path, mutation, replacement)


def fragments() -> st.SearchStrategy[str]:
    """Short texts built from YAML and JSON syntax: the half-edited files a person saves by mistake."""
    return st.lists(st.sampled_from(FRAGMENT_TOKENS) | st.text(max_size=4), max_size=30).map("".join)
