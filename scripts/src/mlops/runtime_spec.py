"""The one runtime dependency spec: a conda YAML whose Python and pip packages define the runtime.

The same file is the Azure ML environment's ``conda_file`` and the recipe of the local smoke
environment, so the two cannot drift. Conda packages other than ``python`` and ``pip`` are refused:
the smoke environment is built with uv and could not reproduce them.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from mlops.errors import MlopsError
from mlops.findings import Finding
from mlops.positioned import DocumentError, load_document

PYTHON_PIN = re.compile(r"^python\s*=?=\s*(\d+\.\d+)(\.\d+|\.\*)?$")


@dataclass(frozen=True)
class RuntimeSpec:
    """Python version and pip requirements of the training and scoring runtime."""

    path: Path
    python: str
    requirements: tuple[str, ...]
    warnings: tuple[Finding, ...] = ()

    def digest(self, extra: tuple[str, ...] = ()) -> str:
        """A short hash of everything that shapes an environment built from this spec."""
        payload = json.dumps({"python": self.python, "pip": list(self.requirements), "extra": list(extra)})
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


class SpecError(MlopsError):
    """The spec cannot be used; carries findings that say where and why."""

    def __init__(self, findings: list[Finding]):
        super().__init__(findings=findings)


def load_runtime_spec(path: Path, display: str) -> RuntimeSpec:
    """Read the conda spec at ``path``; ``display`` is how findings name the file."""
    try:
        document = load_document(path)
    except DocumentError as error:
        raise SpecError([error.finding(display)]) from None
    dependencies = document.data.get("dependencies")
    if not isinstance(dependencies, list):
        line, col = document.position(("dependencies",))
        raise SpecError([Finding(display, line, col, "dependencies",
                                 "expected a list with 'python=3.x', 'pip' and a 'pip:' list of packages")])
    python, requirements, findings, warnings = None, [], [], []
    for index, item in enumerate(dependencies):
        line, col = document.position(("dependencies", index))
        if isinstance(item, dict) and set(item) == {"pip"} and isinstance(item["pip"], list):
            requirements += [str(r).strip() for r in item["pip"]]
            warnings += [_unpinned(display, document.position(("dependencies", index, "pip", at)), str(r).strip())
                         for at, r in enumerate(item["pip"]) if not is_pinned(str(r))]
        elif isinstance(item, str) and PYTHON_PIN.match(item.strip()):
            python = PYTHON_PIN.match(item.strip()).group(1)
        elif isinstance(item, str) and re.match(r"^pip\s*([=<>!~].*)?$", item.strip()):
            continue
        else:
            findings.append(Finding(display, line, col, f"dependencies[{index}]",
                                    f"conda package {item!r} cannot be installed in the smoke environment: "
                                    "list it under 'pip:' instead"))
    if python is None:
        line, col = document.position(("dependencies",))
        findings.append(Finding(display, line, col, "dependencies", "no Python version: add '- python=3.11'"))
    if not requirements and not findings:
        line, col = document.position(("dependencies",))
        findings.append(Finding(display, line, col, "dependencies", "no pip packages: add a '- pip:' list"))
    if findings:
        raise SpecError(findings)
    return RuntimeSpec(path=path, python=python, requirements=tuple(requirements), warnings=tuple(warnings))


def is_pinned(requirement: str) -> bool:
    """Whether a pip requirement names exactly one version (``name==1.2.3``), so every build gets the same."""
    try:
        specifiers = list(Requirement(requirement).specifier)
    except InvalidRequirement:
        return False
    return len(specifiers) == 1 and specifiers[0].operator in ("==", "===") and "*" not in specifiers[0].version


def _unpinned(display: str, position: tuple[int, int], requirement: str) -> Finding:
    line, col = position
    return Finding(display, line, col, "dependencies.pip",
                   f"{requirement!r} is not pinned: write one version ('name==X.Y.Z'); the Azure ML environment "
                   "is rebuilt only when this file changes, so an unpinned package can differ between the "
                   "smoke run and Azure", severity="warning")
