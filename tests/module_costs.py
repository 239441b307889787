"""Each test module's cost in seconds, so the suite starts its longest modules first.

pytest-xdist hands whole modules to workers (``--dist loadscope``) in collection order. When a long
module starts last, one worker runs it alone at the end while the others idle: on two workers that
was minutes of the run. Ordering by cost, longest first (as pytest-split does from its
``.test_durations``), keeps both busy to the end.

Costs come from the last full run on this checkout (``build/test-cache/module-costs.json``, written by
every ``make test``) over the committed ``tests/module-costs.json`` (what a fresh clone, e.g. CI, has;
``make test-costs`` refreshes it from the last run). A module in neither starts early when it holds
slow tests (it likely sets up a repo) and late otherwise.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

COMMITTED = Path("tests") / "module-costs.json"
MEASURED = Path("build") / "test-cache" / "module-costs.json"
UNKNOWN_SLOW_SECONDS = 120.0

_measured: dict[str, float] = defaultdict(float)


def module_of(nodeid: str) -> str:
    """The module part of a test id: ``tests/test_x.py`` of ``tests/test_x.py::test_y[z]``."""
    return nodeid.split("::", 1)[0]


def _read(path: Path) -> dict[str, float]:
    try:
        return {str(k): float(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def recorded(root: Path, slow_modules: set[str]) -> dict[str, float]:
    """module -> seconds, the last run's figures over the committed ones; unknown modules get a guess."""
    known = {**_read(root / COMMITTED), **_read(root / MEASURED)}
    guesses = defaultdict(float, {module: UNKNOWN_SLOW_SECONDS for module in slow_modules})
    return defaultdict(float, {**guesses, **known})


def add(nodeid: str, seconds: float) -> None:
    """Count one test phase's (set-up, call or tear-down) seconds to its module."""
    _measured[module_of(nodeid)] += seconds


def is_full_run(args: list[str], keyword: str, markexpr: str) -> bool:
    """Whether a run's figures stand for whole modules: no ``-k``/``-m`` and only folders named."""
    return not keyword and not markexpr and all("::" not in arg and not arg.endswith(".py") for arg in args)


def save(root: Path) -> None:
    """Write this run's module costs over the last recorded ones (``build/test-cache/module-costs.json``)."""
    if not _measured:
        return
    target = root / MEASURED
    target.parent.mkdir(parents=True, exist_ok=True)
    merged = {**_read(target), **{module: round(seconds, 1) for module, seconds in _measured.items()}}
    partial = target.with_suffix(".json.part")
    partial.write_text(json.dumps(dict(sorted(merged.items())), indent=1) + "\n", encoding="utf-8")
    os.replace(partial, target)
