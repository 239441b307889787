"""Each test's recorded seconds: the suite starts its longest modules first, and ``make test-fast`` skips
the tests that took seconds.

pytest-xdist hands whole scopes to workers (``--dist loadscope``) in collection order. A scope is a
module, except in the modules of ``SPREAD_MODULES``, whose tests are scopes of their own: they share no
module fixture and no order, so two long ones (a whole ``make check`` of each framework) run side by
side instead of one after the other on one worker. When a long scope starts last, one worker runs it
alone at the end while the others idle: on two workers that was minutes of the run. Ordering by cost,
longest first (as pytest-split does from its ``.test_durations``), keeps every worker busy to the end.

Durations come from the last full run on this checkout (``build/test-cache/test-durations.json``,
written by every ``make test``) over the committed ``tests/test-durations.json`` (what a fresh clone,
e.g. CI, has; ``make test-costs`` refreshes it from the last run). A module in neither starts early
when it holds slow tests (it likely sets up a repo) and late otherwise.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

COMMITTED = Path("tests") / "test-durations.json"
MEASURED = Path("build") / "test-cache" / "test-durations.json"
UNKNOWN_SLOW_SECONDS = 120.0
# a test that took this long in the last recorded run is left out of `make test-fast`; the figures are
# taken under a whole run's load (three workers share two cores), and 1.5 s keeps the quick loop under a
# minute here (2 s let it reach 58-70 s)
SLOW_TEST_SECONDS = 1.5
# a worker whose pending tests take longer than this gets the cheapest scope left, not the next longest
LONG_PENDING_SECONDS = 10.0
# Modules of one long walkthrough per framework, each setting up what it uses (no module fixture, no
# test building on an earlier one): their tests run side by side. Spreading modules of many shorter
# tests measured slower (fresh clone, 420 s against 379 s): more workers build and first import the
# same new environments at once, and the suite's long modules keep every worker busy anyway.
SPREAD_MODULES = frozenset({"tests/test_make_check.py", "tests/test_notebook_walkthrough.py"})

_measured: dict[str, float] = defaultdict(float)


def module_of(nodeid: str) -> str:
    """The module part of a test id: ``tests/test_x.py`` of ``tests/test_x.py::test_y[z]``."""
    return nodeid.split("::", 1)[0]


def scope_of(nodeid: str) -> str:
    """The unit a worker runs whole: the test's module, or the test itself in a module of ``SPREAD_MODULES``."""
    module = module_of(nodeid)
    return nodeid if module in SPREAD_MODULES else module


def _read(path: Path) -> dict[str, float]:
    try:
        return {str(k): float(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def recorded(root: Path) -> dict[str, float]:
    """test id -> seconds: the last run's figures over the committed ones."""
    return {**_read(root / COMMITTED), **_read(root / MEASURED)}


def scope_seconds(durations: dict[str, float], slow_scopes: set[str]) -> dict[str, float]:
    """scope (:func:`scope_of`) -> its tests' recorded seconds; a slow scope with none recorded gets a guess."""
    seconds = defaultdict(float, {scope: UNKNOWN_SLOW_SECONDS for scope in slow_scopes})
    known: dict[str, float] = defaultdict(float)
    for nodeid, duration in durations.items():
        known[scope_of(nodeid)] += duration
    return defaultdict(float, {**seconds, **known})


def add(nodeid: str, seconds: float) -> None:
    """Count one test phase's (set-up, call or tear-down) seconds to its test."""
    _measured[nodeid] += seconds


def is_full_run(args: list[str], keyword: str, markexpr: str) -> bool:
    """Whether a run's figures stand for whole modules: no ``-k``/``-m`` and only folders named."""
    return not keyword and not markexpr and all("::" not in arg and not arg.endswith(".py") for arg in args)


def save(root: Path) -> None:
    """Write this run's test durations (``build/test-cache/test-durations.json``), dropping tests that are gone."""
    if not _measured:
        return
    target = root / MEASURED
    target.parent.mkdir(parents=True, exist_ok=True)
    durations = {nodeid: round(seconds, 2) for nodeid, seconds in sorted(_measured.items())}
    partial = target.with_suffix(".json.part")
    partial.write_text(json.dumps(durations, indent=1) + "\n", encoding="utf-8")
    os.replace(partial, target)
