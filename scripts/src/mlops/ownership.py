"""Who owns which file of an experiment repo: the template, or the data scientist.

The data scientist's files are the ones listed under ``[tool.cruft] skip`` in ``pyproject.toml``
(plus any ``skip`` in ``.cruft.json``): cruft leaves them out of every update, so an update never
overwrites them. Everything else the template generated is the template's, and updates reach it.
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path, PurePosixPath

from mlops.errors import MlopsError
from mlops.template_link import TemplateLink

PYPROJECT = "pyproject.toml"


def user_owned_patterns(root: Path, link: TemplateLink) -> list[str]:
    """The skip entries cruft will honour in ``root``: paths, folders or ``*`` patterns."""
    patterns = list(link.skip)
    path = root / PYPROJECT
    if path.is_file():
        try:
            config = tomllib.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise MlopsError(f"{PYPROJECT}: not valid TOML ({error}): cruft reads its skip list there") from None
        skip = config.get("tool", {}).get("cruft", {}).get("skip", [])
        if not isinstance(skip, list) or not all(isinstance(entry, str) for entry in skip):
            raise MlopsError(f"{PYPROJECT}: tool.cruft.skip must be a list of paths, like [\"train.py\", \"data\"]")
        patterns += skip
    return patterns


def is_user_owned(relative: str, patterns: list[str]) -> bool:
    """True when the repo path ``relative`` (posix) is skipped by one of ``patterns``, as cruft matches them."""
    path = PurePosixPath(relative)
    for pattern in patterns:
        if "*" in pattern:
            if fnmatch.fnmatchcase(relative, pattern):
                return True
        elif path == PurePosixPath(pattern) or PurePosixPath(pattern) in path.parents:
            return True
    return False
