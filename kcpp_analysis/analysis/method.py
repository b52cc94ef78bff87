"""The partnership's decision method: criteria, each with its evidence, and the class.

The method is configuration (``params/prioritisation.yaml: method``,
:class:`kcpp_analysis.config.scoring.Method`); this module evaluates its criteria, one
function each in :data:`CRITERIA` (a registry: a new criterion is one function here and one
entry in the YAML), and applies the class rule (:func:`recommend`):

- **cross-cutting** when the plan designates the priority cross-cutting;
- else **high focus** when any criterion of ``high_focus_when`` fires (default: a current or
  emerging concern, a statutory duty for the partnership, community impact escalating),
  except that the criteria of ``held_in_view`` (default: community impact) do not count
  alone when a connected partnership already has the priority in view;
- else **continue to monitor**, with the criteria of ``monitor_when`` that fired as reasons
  (performance stable or improving, a connected partnership has it in view, community
  impact not escalating);
- a priority with no data at all, and no high-focus or cross-cutting criterion fired, is
  **no data**: it is never continued-to-monitor by default.

Each :class:`CriterionResult` holds whether the criterion fired (None: it cannot be judged
on the evidence held) and the facts behind it (numbers and labels, no prose); sentences are
written from them by :mod:`kcpp_analysis.presentation.narrative`.

SIA approach paper for the 2026/7-29 plan (Kirklees Communities Partnership), section 4.3.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from kcpp_analysis.analysis.evidence import PriorityEvidence
from kcpp_analysis.config.models import Priority
from kcpp_analysis.config.scoring import Method, Scoring

NO_DATA = "no data"


class CriterionResult(BaseModel):
    """One criterion of the method for one priority."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    key: str
    fired: bool | None
    facts: dict[str, Any] = {}


@dataclass(frozen=True)
class Inputs:
    """What a criterion reads."""

    priority: Priority
    evidence: PriorityEvidence
    scores: dict[str, float]
    total: float
    confidence: str
    thin_evidence: bool
    scoring: Scoring

    def setting(self, key: str, name: str, default):
        c = self.scoring.method.criteria.get(key)
        return c.settings.get(name, default) if c is not None else default


def _num(v) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def emerging_concern(x: Inputs) -> CriterionResult:
    """Fires on an evidence score in the high-focus band with enough confidence, or on a
    significant rise on last year or over the last three years (a change or trend score of
    3). Cannot be judged without any scored evidence."""
    band = x.scoring.bands.high_focus
    in_band = _num(x.total) is not None and x.total >= band and not x.thin_evidence
    change3 = x.scores.get("change") == 3
    trend3 = x.scores.get("trend") == 3
    ev = x.evidence
    facts = {
        "total": _num(x.total),
        "band": band,
        "confidence": x.confidence,
        "min_confidence": x.scoring.bands.high_focus_min_confidence,
        "in_band": bool(in_band),
        "thin_evidence": bool(x.thin_evidence),
        "change_rose": bool(change3),
        "trend_rose": bool(trend3),
        "yoy_label": ev.yoy_label,
        "yoy_current": _num(ev.yoy_current),
        "yoy_previous": _num(ev.yoy_previous),
        "yoy_change_pct": _num(ev.yoy_change_pct),
        "recent_direction": ev.recent_direction,
        "recent_annual_pct": _num(ev.recent_annual_pct),
        "recent_months": ev.recent_months,
    }
    if _num(x.total) is None:
        return CriterionResult(key="emerging_concern", fired=None, facts=facts)
    return CriterionResult(
        key="emerging_concern", fired=bool(in_band or change3 or trend3), facts=facts
    )


def statutory_duty(x: Inputs) -> CriterionResult:
    d = x.priority.statutory_duty
    return CriterionResult(
        key="statutory_duty", fired=d is not None, facts={"duty": str(d) if d else None}
    )


def community_impact(x: Inputs) -> CriterionResult:
    """Fires when a survey measure of the priority trends significantly the wrong way over
    its last waves, or when the priority drew at least ``insight_share_pct``% of the year's
    insight mentions and was raised in at least ``insight_places`` places. Cannot be judged
    with neither survey nor insight evidence."""
    ev = x.evidence
    share_pct = float(x.setting("community_impact", "insight_share_pct", 10))
    places = int(x.setting("community_impact", "insight_places", 3))
    tested = [m for m in ev.survey if m.direction != "insufficient data"]
    worse = [m for m in tested if m.worse]
    ins = ev.insight
    ins_fires = bool(
        ins is not None
        and ins.total_mentions > 0
        and 100 * ins.share >= share_pct
        and len(ins.places_raised) >= places
    )
    facts = {
        "survey_tested": len(tested),
        "survey_worse": [
            {
                "survey": m.survey,
                "question": m.question,
                "first_wave": m.first_wave,
                "last_wave": m.last_wave,
                "first_pct": 100 * m.first,
                "last_pct": 100 * m.last,
                "p_value": _num(m.p_value),
            }
            for m in worse
        ],
        "insight_supplied": ev.insight_supplied,
        "insight_share_pct": None if ins is None else _num(100 * ins.share),
        "insight_mentions": None if ins is None else ins.mentions,
        "insight_places": [] if ins is None else list(ins.places_raised),
        "insight_channels": [] if ins is None else list(ins.channels),
        "share_threshold_pct": share_pct,
        "places_threshold": places,
    }
    if not tested and ins is None:
        return CriterionResult(key="community_impact", fired=None, facts=facts)
    return CriterionResult(key="community_impact", fired=bool(worse) or ins_fires, facts=facts)


def stable_or_improving(x: Inputs) -> CriterionResult:
    """Fires when the data show no significant rise on last year, no significant rise over
    the last three years and no KPI rated red. Cannot be judged without data."""
    ev = x.evidence
    judged = [k for k in ("change", "trend", "kpis") if _num(x.scores.get(k)) is not None]
    facts = {
        "yoy_label": ev.yoy_label,
        "recent_direction": ev.recent_direction,
        "kpis_red": list(ev.kpis_red),
        "judged_on": judged,
    }
    if not ev.has_data or not judged:
        return CriterionResult(key="stable_or_improving", fired=None, facts=facts)
    bad = x.scores.get("change") == 3 or x.scores.get("trend") == 3 or bool(ev.kpis_red)
    return CriterionResult(key="stable_or_improving", fired=not bad, facts=facts)


def connected_partnership(x: Inputs) -> CriterionResult:
    cp = x.priority.connected_partnership
    return CriterionResult(
        key="connected_partnership", fired=cp is not None, facts={"partnership": cp}
    )


def community_impact_not_escalating(x: Inputs) -> CriterionResult:
    ci = community_impact(x)
    return CriterionResult(
        key="community_impact_not_escalating",
        fired=None if ci.fired is None else not ci.fired,
        facts=ci.facts,
    )


def cross_cutting(x: Inputs) -> CriterionResult:
    return CriterionResult(key="cross_cutting", fired=bool(x.priority.cross_cutting), facts={})


CRITERIA: dict[str, Callable[[Inputs], CriterionResult]] = {
    "emerging_concern": emerging_concern,
    "statutory_duty": statutory_duty,
    "community_impact": community_impact,
    "stable_or_improving": stable_or_improving,
    "connected_partnership": connected_partnership,
    "community_impact_not_escalating": community_impact_not_escalating,
    "cross_cutting": cross_cutting,
}


def evaluate_criteria(x: Inputs) -> dict[str, CriterionResult]:
    """Every criterion the method defines, evaluated for one priority."""
    return {k: CRITERIA[k](x) for k in x.scoring.method.criteria}


def recommend(
    results: dict[str, CriterionResult], method: Method, has_data: bool
) -> tuple[str, list[str]]:
    """The recommended class and the criteria that explain it (see the module docstring).

    ``has_data``: whether the method can judge the priority from data at all (its evidence
    can be scored, or its community impact judged).

    >>> from kcpp_analysis.config import load_params
    >>> m = load_params().scoring.method
    >>> r = {k: CriterionResult(key=k, fired=False) for k in m.criteria}
    >>> r["connected_partnership"] = CriterionResult(key="connected_partnership", fired=True)
    >>> recommend(r, m, has_data=True)
    ('continue to monitor', ['connected_partnership'])
    >>> recommend(r, m, has_data=False)
    ('no data', [])
    >>> r["community_impact"] = CriterionResult(key="community_impact", fired=True)
    >>> recommend(r, m, has_data=True)
    ('continue to monitor', ['community_impact', 'connected_partnership'])
    >>> r["statutory_duty"] = CriterionResult(key="statutory_duty", fired=True)
    >>> recommend(r, m, has_data=False)
    ('high focus', ['statutory_duty', 'community_impact'])
    """
    fired = [k for k, r in results.items() if r.fired]
    hf = [k for k in method.high_focus_when if k in fired]
    if "cross_cutting" in fired:
        return "cross-cutting", ["cross_cutting", *hf]
    held = "connected_partnership" in fired and set(hf) <= set(method.held_in_view)
    if hf and not held:
        return "high focus", hf
    if not has_data:
        return NO_DATA, []
    monitor = [k for k in method.monitor_when if k in fired]
    return "continue to monitor", hf + monitor if held else monitor
