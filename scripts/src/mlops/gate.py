"""The quality gate: a rule, the metrics of a challenger and of the champion (or none), and the verdict.

:func:`judge_challenger` is a pure function of (rule, challenger metrics, champion metrics or ``None``), so any
stage can call it: the training job scores both models and judges, and a promotion can judge again
against another stage's champion. ``None`` as the champion means a first release: only the floors
apply. This module uses the standard library only: it is staged into the training job's code
snapshot (see :mod:`mlops.gate_staging`), where the toolkit is not installed.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field
from typing import Any

MAXIMIZE, MINIMIZE = "maximize", "minimize"
DEPLOY, REFUSE = "deploy", "refuse"
TIE_TOLERANCE = 1e-9
RULE_KEYS = ("primary", "guards", "floors", "tie")
EVALUATION_SCRIPT = "evaluate.py"

# The defaults of the generated experiment files, per framework: readable there, used when `gate:` is absent.
DEFAULT_RULES: dict[str, dict[str, Any]] = {
    "sklearn": {
        "primary": {"metric": "accuracy", "direction": MAXIMIZE, "max_drop": 0.0},
        "guards": {"f1_macro": {"direction": MAXIMIZE, "max_drop": 0.02}},
        "floors": {"accuracy": {"min": 0.8}, "f1_macro": {"min": 0.8}},
        "tie": DEPLOY,
    },
    "spacy": {
        "primary": {"metric": "ents_f", "direction": MAXIMIZE, "max_drop": 0.0},
        "guards": {"ents_r": {"direction": MAXIMIZE, "max_drop": 0.02}},
        "floors": {"ents_f": {"min": 0.5}},
        "tie": DEPLOY,
    },
}


@dataclass(frozen=True)
class Comparison:
    """How a metric of the challenger must compare with the champion's."""

    metric: str
    direction: str = MAXIMIZE
    min_improvement: float | None = None
    max_drop: float | None = None

    def words(self) -> str:
        """The comparison as a person reads it."""
        better = "higher" if self.direction == MAXIMIZE else "lower"
        if self.min_improvement is not None:
            return f"must beat the champion by at least {_number(self.min_improvement)} ({better} is better)"
        drop = self.max_drop or 0.0
        if drop == 0:
            return f"may not be worse than the champion ({better} is better)"
        return f"may be at most {_number(drop)} worse than the champion ({better} is better)"

    def gain(self, challenger: float, champion: float) -> float:
        """How much better the challenger is (negative: worse), in the metric's direction."""
        return challenger - champion if self.direction == MAXIMIZE else champion - challenger

    def allows(self, gain: float) -> bool:
        """Whether a gain (an improvement, or a drop when negative) meets this comparison."""
        if self.min_improvement is not None:
            return gain >= self.min_improvement - TIE_TOLERANCE
        return -gain <= (self.max_drop or 0.0) + TIE_TOLERANCE


@dataclass(frozen=True)
class Floor:
    """An absolute bound a metric must meet, champion or not."""

    metric: str
    minimum: float | None = None
    maximum: float | None = None

    def words(self) -> str:
        """The bound as a person reads it."""
        parts = ([f">= {_number(self.minimum)}"] if self.minimum is not None else []) + \
                ([f"<= {_number(self.maximum)}"] if self.maximum is not None else [])
        return "must be " + " and ".join(parts) + " (floor, applies to every release)"

    def allows(self, value: float) -> bool:
        """Whether ``value`` is within the bound."""
        return (self.minimum is None or value >= self.minimum - TIE_TOLERANCE) and \
               (self.maximum is None or value <= self.maximum + TIE_TOLERANCE)


@dataclass(frozen=True)
class Rule:
    """The whole gate: the primary comparison, the guards, the floors and what an exact tie does."""

    primary: Comparison
    guards: tuple[Comparison, ...] = ()
    floors: tuple[Floor, ...] = ()
    tie: str = DEPLOY

    @property
    def metrics(self) -> list[str]:
        """Every metric the rule names, primary first, each once."""
        names = [self.primary.metric, *(g.metric for g in self.guards), *(f.metric for f in self.floors)]
        return list(dict.fromkeys(names))

    def words(self) -> list[str]:
        """One line per part of the rule, as the plan and the summaries say it."""
        tie = "an exact tie with the champion " + ("is released" if self.tie == DEPLOY else "is refused")
        return [f"{self.primary.metric} {self.primary.words()}; {tie}",
                *(f"{g.metric} (guard) {g.words()}" for g in self.guards),
                *(f"{f.metric} {f.words()}" for f in self.floors)]


@dataclass(frozen=True)
class Check:
    """One line of the verdict: a metric, both values, the rule applied and whether it held."""

    kind: str
    metric: str
    challenger: float | None
    champion: float | None
    rule: str
    passed: bool


@dataclass(frozen=True)
class Verdict:
    """The gate's answer for one challenger."""

    passed: bool
    checks: tuple[Check, ...]
    champion: str | None = None
    first_release: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def failures(self) -> list[Check]:
        """The checks that did not hold: against the champion first (primary, then guards), then floors."""
        order = {"primary": 0, "guard": 1, "floor": 2}
        return sorted((c for c in self.checks if not c.passed), key=lambda c: order.get(c.kind, 3))

    def reason(self) -> str:
        """One line naming the first failed check: metric, both values, the rule and the champion."""
        if self.passed:
            return "passed: " + ("first release, floors met" if self.first_release else
                                 f"no worse than champion {self.champion} by the rule")
        check = self.failures[0]
        against = "" if check.champion is None else f" vs {_number(check.champion)} for champion {self.champion}"
        return (f"{check.metric} {_value(check.challenger)}{against}: {check.metric} {check.rule}"
                + (f" (and {len(self.failures) - 1} more failed check(s))" if len(self.failures) > 1 else ""))

    def to_dict(self) -> dict[str, Any]:
        """The verdict as JSON-ready data (the job's outputs/gate.json holds it)."""
        return asdict(self)


def rule_from_config(section: dict[str, Any] | None, framework: str) -> Rule:
    """The rule of an experiment file's ``gate:`` section, the framework's default where it is absent."""
    config = {**DEFAULT_RULES.get(framework, DEFAULT_RULES["sklearn"]), **(section or {})}
    primary = config["primary"]
    return Rule(
        primary=_comparison(primary["metric"], primary),
        guards=tuple(_comparison(name, spec) for name, spec in (config.get("guards") or {}).items()),
        floors=tuple(Floor(name, spec.get("min"), spec.get("max"))
                     for name, spec in (config.get("floors") or {}).items()),
        tie=config.get("tie", DEPLOY),
    )


def rule_to_config(rule: Rule) -> dict[str, Any]:
    """The rule in the shape of the experiment file's ``gate:`` section (what the job receives)."""
    def comparison(c: Comparison) -> dict[str, Any]:
        limit = {"min_improvement": c.min_improvement} if c.min_improvement is not None else \
            {"max_drop": c.max_drop or 0.0}
        return {"direction": c.direction, **limit}

    floors = {f.metric: {k: v for k, v in (("min", f.minimum), ("max", f.maximum)) if v is not None}
              for f in rule.floors}
    return {"primary": {"metric": rule.primary.metric, **comparison(rule.primary)},
            "guards": {g.metric: comparison(g) for g in rule.guards}, "floors": floors, "tie": rule.tie}


def judge_challenger(rule: Rule, challenger: dict[str, Any], champion: dict[str, Any] | None,
          champion_name: str | None = None) -> Verdict:
    """The verdict on ``challenger``'s metrics against ``champion``'s (``None``: a first release, floors only)."""
    checks = [Check("floor", f.metric, _metric(challenger, f.metric), None, f.words(),
                    _metric(challenger, f.metric) is not None and f.allows(_metric(challenger, f.metric)))
              for f in rule.floors]
    notes = []
    if champion is None:
        notes.append("first release: no model serves yet, so only the floors apply")
    else:
        checks.append(_compare("primary", rule.primary, challenger, champion, rule.tie))
        checks += [_compare("guard", guard, challenger, champion, None) for guard in rule.guards]
    return Verdict(all(c.passed for c in checks), tuple(checks), champion_name, champion is None, tuple(notes))


def verdict_from_dict(data: dict[str, Any]) -> Verdict:
    """A verdict read back from :meth:`Verdict.to_dict`'s data."""
    checks = tuple(Check(**check) for check in data.get("checks", []))
    return Verdict(bool(data["passed"]), checks, data.get("champion"), bool(data.get("first_release")),
                   tuple(data.get("notes", ())))


def _compare(kind: str, comparison: Comparison, challenger: dict[str, Any], champion: dict[str, Any],
             tie: str | None) -> Check:
    """One comparison; ``tie`` (the primary metric's ``gate.tie``) decides an exact tie, None: the margin does."""
    mine, theirs = _metric(challenger, comparison.metric), _metric(champion, comparison.metric)
    if mine is None or theirs is None:
        missing = "the challenger" if mine is None else "the champion"
        return Check(kind, comparison.metric, mine, theirs, f"{comparison.words()}; {missing} has no value", False)
    gain = comparison.gain(mine, theirs)
    if tie is not None and math.isclose(gain, 0.0, abs_tol=TIE_TOLERANCE):
        return Check(kind, comparison.metric, mine, theirs,
                     f"{comparison.words()}; a tie is {'released' if tie == DEPLOY else 'refused'} (gate.tie: {tie})",
                     tie == DEPLOY)
    return Check(kind, comparison.metric, mine, theirs, comparison.words(), comparison.allows(gain))


def _comparison(metric: str, spec: dict[str, Any]) -> Comparison:
    return Comparison(metric, spec.get("direction", MAXIMIZE), spec.get("min_improvement"), spec.get("max_drop"))


def _metric(metrics: dict[str, Any], name: str) -> float | None:
    value = metrics.get(name)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        return None
    return float(value)


def _number(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _value(value: float | None) -> str:
    return "(not reported)" if value is None else _number(value)
