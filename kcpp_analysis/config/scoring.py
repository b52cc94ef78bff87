"""``params/prioritisation.yaml``: the partnership's decision method and the evidence score.

Two parts, both printed in the report so a board can check any recommendation:

- **method**: the approach paper's classes (high focus, continue to monitor, cross-cutting
  high priority focus) and the criteria that lead to each, every one with a printed rule and
  its thresholds. Which criteria lead to high focus, and which support continuing to monitor,
  are lists here, so a partnership can change its method without code.
- **evidence score** (the strength of the data case): each evidence criterion scored 0-3 by
  its rule, weighted, times a harm factor; bands turn it into RED/AMBER/GREEN and confidence
  grades say how much of the weight had evidence.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from kcpp_analysis.config.models import STATUSES, Strict

#: evidence criteria of the score (each scored 0-3 by :mod:`kcpp_analysis.analysis.scoring`)
EVIDENCE = ("volume", "change", "trend", "kpis", "repeats", "inequality", "public_concern")
#: the method's criteria (each evaluated by :mod:`kcpp_analysis.analysis.method`)
METHOD_CRITERIA = (
    "emerging_concern",
    "statutory_duty",
    "community_impact",
    "stable_or_improving",
    "connected_partnership",
    "community_impact_not_escalating",
    "cross_cutting",
)


class Criterion(Strict):
    weight: float = Field(ge=0)
    label: str
    rule: str
    thresholds: list[float] | None = None

    @model_validator(mode="after")
    def _sorted(self):
        t = self.thresholds
        if t is not None and (len(t) != 3 or list(t) != sorted(t)):
            raise ValueError("thresholds must be three increasing values (scores 1, 2, 3)")
        return self


class Bands(Strict):
    high_focus: float = Field(gt=0, le=100)
    amber: float = Field(ge=0, le=100)
    high_focus_min_confidence: str = Field("B", pattern="^[ABC]$")

    @model_validator(mode="after")
    def _order(self):
        if self.amber > self.high_focus:
            raise ValueError("amber must not be above high_focus")
        return self


class MethodCriterion(Strict):
    """One criterion of the decision method: its label, the rule printed beside every
    recommendation, and its thresholds (used by the criterion's code)."""

    label: str
    rule: str
    settings: dict[str, float | int | str | list[str]] = {}


class MethodClass(Strict):
    label: str
    description: str


class Method(Strict):
    """Classes and criteria (SIA approach paper, section 4.3).

    The recommended class: **cross-cutting** when the priority is designated cross-cutting;
    else **high focus** when any criterion of ``high_focus_when`` fires (criteria listed in
    ``held_in_view`` do not count when a connected partnership has the priority in view);
    else **continue to monitor**, with the criteria of ``monitor_when`` that fired as its
    reasons; a priority with no data and no criterion fired is **no data**.
    """

    classes: dict[Literal[STATUSES], MethodClass]  # type: ignore[valid-type]
    criteria: dict[Literal[METHOD_CRITERIA], MethodCriterion]  # type: ignore[valid-type]
    high_focus_when: list[Literal[METHOD_CRITERIA]]  # type: ignore[valid-type]
    monitor_when: list[Literal[METHOD_CRITERIA]]  # type: ignore[valid-type]
    #: high-focus criteria that, on their own, do not make a priority high focus when a
    #: connected partnership already has it in view (its arrangements answer them)
    held_in_view: list[Literal[METHOD_CRITERIA]] = []  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _known(self):
        missing = [
            c
            for c in (*self.high_focus_when, *self.monitor_when, *self.held_in_view)
            if c not in self.criteria
        ]
        if missing:
            raise ValueError(f"criteria {missing} are used but not defined under 'criteria'")
        if set(self.classes) != set(STATUSES):
            raise ValueError(f"classes must be exactly {list(STATUSES)}")
        return self


class Scoring(Strict):
    method: Method
    criteria: dict[str, Criterion]
    harm: dict[str, int]
    bands: Bands
    confidence: dict[str, float]

    @model_validator(mode="after")
    def _check(self):
        unknown = set(self.criteria) - set(EVIDENCE)
        if unknown:
            raise ValueError(f"unknown criteria {sorted(unknown)}; known: {', '.join(EVIDENCE)}")
        bad = {k: v for k, v in self.harm.items() if v not in (0, 1, 2, 3)}
        if bad:
            raise ValueError(f"harm grades must be 0-3: {bad}")
        if set(self.confidence) != {"A", "B"} or self.confidence["B"] > self.confidence["A"]:
            raise ValueError("confidence needs A >= B (shares of the criteria weight)")
        if sum(c.weight for c in self.criteria.values()) <= 0:
            raise ValueError("criteria weights must not all be 0")
        return self
