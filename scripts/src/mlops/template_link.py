"""The link between an experiment repo and its template: cruft's ``.cruft.json``.

``cruft create`` writes it; a repo generated with plain cookiecutter gets it from ``cruft link``.
It records the template's location, the template commit the repo matches and the answers given at
generation, which is all an update needs to render the old and the new version of the template.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError

CRUFT_FILE = ".cruft.json"
LINK_HINT = ("link it first: `.venv/bin/cruft link <template git URL> --checkout <the template tag or commit you "
             "generated from>`, then commit .cruft.json (see README.md, Template updates)")

RESTORE = f"restore it with `git checkout -- {CRUFT_FILE}`"


@dataclass(frozen=True)
class TemplateLink:
    """Where the template lives, which of its commits this repo matches, and the generation answers."""

    template: str
    commit: str
    checkout: str | None
    answers: dict[str, Any]
    directory: str | None = None
    skip: tuple[str, ...] = ()

    @property
    def short_commit(self) -> str:
        """The recorded commit, abbreviated as git shows it."""
        return self.commit[:7]


def read_link(root: Path) -> TemplateLink:
    """Read ``.cruft.json`` under ``root``, or say how to create it."""
    path = root / CRUFT_FILE
    if not path.is_file():
        raise MlopsError(f"{CRUFT_FILE}: missing, so this repo is not linked to its template: {LINK_HINT}")
    return parse_link(path.read_bytes())


def parse_link(raw: bytes) -> TemplateLink:
    """Parse the contents of a ``.cruft.json``; a broken one is an error saying how to restore it."""
    try:
        state = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        where = f":{error.lineno}" if isinstance(error, json.JSONDecodeError) else ""
        raise MlopsError(f"{CRUFT_FILE}{where}: not valid JSON: {RESTORE}") from None
    if not isinstance(state, dict):
        raise MlopsError(f"{CRUFT_FILE}: expected a JSON object: {RESTORE}")
    missing = [key for key in ("template", "commit") if not isinstance(state.get(key), str) or not state[key]]
    if missing:
        raise MlopsError(f"{CRUFT_FILE}: no {missing[0]!r}: {LINK_HINT}")
    context = state.get("context")
    answers = context.get("cookiecutter") if isinstance(context, dict) else None
    skip = state.get("skip")
    return TemplateLink(template=state["template"], commit=state["commit"], checkout=state.get("checkout"),
                        answers=answers if isinstance(answers, dict) else {}, directory=state.get("directory"),
                        skip=tuple(skip) if isinstance(skip, list) else ())
