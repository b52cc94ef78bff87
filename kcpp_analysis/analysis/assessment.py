"""One typed :class:`PriorityAssessment` per priority: the partnership's method applied to
the evidence, beside the partnership's own proposal, last assessment's rating and a
sensitivity check. Produced once (:func:`assess_priority`), saved and read back with its
schema (:func:`save_assessments`, :func:`load_assessments`), and read next year as "last
year" (:func:`previous_ratings`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from kcpp_analysis.analysis.evidence import PriorityEvidence
from kcpp_analysis.analysis.method import (
    NO_DATA,
    CriterionResult,
    Inputs,
    evaluate_criteria,
    recommend,
)
from kcpp_analysis.analysis.scoring import score_criteria, score_priorities
from kcpp_analysis.analysis.sensitivity import sensitivity
from kcpp_analysis.analysis.trends import TrendFit
from kcpp_analysis.config.models import Priority, Theme
from kcpp_analysis.config.params import Params

SCHEMA = "kcpp.priority_assessment/1"
#: RAG bands in order of concern (grey: no evidence)
RAG_ORDER = {"green": 0, "amber": 1, "red": 2}


def _f(v) -> float | None:
    """A float for JSON (NaN -> None)."""
    if v is None:
        return None
    v = float(v)
    return None if math.isnan(v) else v


class PriorityAssessment(BaseModel):
    """Everything the report says about one priority's recommendation, typed.

    ``status`` is the class the method recommends (``high focus``, ``continue to monitor``,
    ``cross-cutting`` or ``no data``); ``final_status`` is what the report adopts (the
    board's documented override when there is one, else ``status``). ``rag`` is the evidence
    score band (red / amber / green; grey: no data; unscored: data held that the score
    cannot use, such as a partner indicator alone), the strength of the data case.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    schema_id: Literal["kcpp.priority_assessment/1"] = SCHEMA
    year: str
    theme: str
    theme_title: str
    priority_id: str
    priority: str
    has_data: bool
    status: str
    reasons: list[str]
    criteria: list[CriterionResult]
    final_status: str
    overridden: bool = False
    override_reason: str = ""
    override_date: str = ""
    override_by: str = ""
    proposed_status: str | None = None
    proposed_reason: str = ""
    agrees: bool | None = None
    previous_rating: str | None = None
    previous_status: str | None = None
    previous_label: str = ""
    movement: str = "not recorded"
    criteria_changed: list[str] = []
    rag: str
    total: float | None
    concern: float | None
    harm: int
    confidence: str
    evidence_share: float
    thin_evidence: bool
    scores: dict[str, float | None]
    sensitivity: list[dict[str, Any]] = []
    statutory_duty: str | None = None
    connected_partnership: str | None = None
    yoy_label: str = "no data"
    yoy_current: float | None = None
    yoy_previous: float | None = None
    yoy_change_pct: float | None = None
    yoy_p_value: float | None = None
    yoy_period: str = ""
    trend_direction: str = "no data"
    trend_annual_pct: float | None = None
    recent_direction: str = "no data"
    recent_annual_pct: float | None = None
    recent_months: int = 0
    kpis_with_data: int = 0
    kpis_red: list[str] = []
    kpis_near: list[str] = []
    kpis_amber_met: list[str] = []
    rate_per_1000: float | None = None
    incident_repeat_pct: float | None = None
    rate_ratio: float | None = None
    rr_ci_low: float | None = None
    rr_ci_high: float | None = None
    survey_status: str | None = None
    insight_share_pct: float | None = None

    def criterion(self, key: str) -> CriterionResult | None:
        return next((c for c in self.criteria if c.key == key), None)

    @property
    def fired(self) -> list[str]:
        return [c.key for c in self.criteria if c.fired]


NOT_COMPARABLE = "not comparable"


def movement(previous: str | None, current: str, *, thin: bool = False) -> str:
    """``up`` (more concern), ``down``, ``same``, ``not recorded`` (no rating last time),
    ``no data`` (no rating this time) or ``not comparable`` (this year's rating rests on thin
    evidence, confidence C: a band that moved because data are missing is not a change in
    concern, so no direction is claimed), comparing RAG bands.

    >>> movement("red", "green"), movement("amber", "red"), movement(None, "red")
    ('down', 'up', 'not recorded')
    >>> movement("amber", "green", thin=True)
    'not comparable'
    """
    if previous is None:
        return "not recorded"
    if current not in RAG_ORDER:
        return NO_DATA
    if thin:
        return NOT_COMPARABLE
    d = RAG_ORDER[current] - RAG_ORDER[previous]
    return "up" if d > 0 else "down" if d < 0 else "same"


def assess_priority(
    pr: Priority,
    theme: Theme,
    evidence: PriorityEvidence,
    params: Params,
    year: str,
    *,
    previous: dict | None = None,
) -> PriorityAssessment:
    """Apply the evidence score and the partnership's method to one priority.

    ``previous`` is last assessment's entry for the priority (:func:`previous_ratings`):
    ``rating``, ``status``, ``label`` and, when last year's set was built by kcpp, the
    criteria that fired.
    """
    sc = params.scoring
    scores = score_criteria(evidence, sc)
    harm = int(sc.harm[pr.id])
    row = score_priorities(pd.DataFrame([{"priority_id": pr.id, "harm": harm, **scores}]), sc).iloc[
        0
    ]
    total = float(row.total)
    x = Inputs(
        priority=pr,
        evidence=evidence,
        scores=scores,
        total=total,
        confidence=str(row.confidence),
        thin_evidence=bool(row.thin_evidence),
        scoring=sc,
    )
    results = evaluate_criteria(x)
    # the method can continue to monitor a priority only when its evidence can be scored;
    # otherwise it is "no data" unless a duty, escalating community impact or the plan's
    # designation decides (community insight alone never makes a priority monitored)
    status, reasons = recommend(results, sc.method, not math.isnan(total))
    final = pr.override.status if pr.override else status
    # grey is "no data"; data that cannot be scored (indicators only) is "unscored"
    rag = "unscored" if (str(row.rag) == "grey" and evidence.has_data) else str(row.rag)
    prev = previous or {}
    prev_fired = prev.get("fired")
    fired_now = [k for k, r in results.items() if r.fired]
    changed = sorted(set(prev_fired) ^ set(fired_now)) if isinstance(prev_fired, list) else []
    ins = evidence.insight
    return PriorityAssessment(
        year=year,
        theme=theme.id,
        theme_title=theme.short_title,
        priority_id=pr.id,
        priority=pr.title,
        has_data=evidence.has_data,
        status=status,
        reasons=reasons,
        criteria=list(results.values()),
        final_status=final,
        overridden=pr.override is not None,
        override_reason=pr.override.reason if pr.override else "",
        override_date=str(pr.override.date) if pr.override else "",
        override_by=pr.override.by if pr.override else "",
        proposed_status=pr.proposed.status if pr.proposed else None,
        proposed_reason=pr.proposed.reason if pr.proposed else "",
        agrees=(pr.proposed.status == final) if pr.proposed else None,
        previous_rating=prev.get("rating"),
        previous_status=prev.get("status"),
        previous_label=prev.get("label", ""),
        movement=movement(
            prev.get("rating"),
            rag,
            thin=bool(row.thin_evidence) or str(row.confidence) == "C",
        ),
        criteria_changed=changed,
        rag=rag,
        total=_f(total),
        concern=_f(row.concern),
        harm=harm,
        confidence=str(row.confidence) if not math.isnan(total) else NO_DATA,
        evidence_share=float(row.evidence_share),
        thin_evidence=bool(row.thin_evidence),
        scores={k: _f(v) for k, v in scores.items()},
        sensitivity=sensitivity(x, status, reasons, harm),
        statutory_duty=str(pr.statutory_duty) if pr.statutory_duty else None,
        connected_partnership=pr.connected_partnership,
        yoy_label=evidence.yoy_label,
        yoy_current=_f(evidence.yoy_current),
        yoy_previous=_f(evidence.yoy_previous),
        yoy_change_pct=_f(evidence.yoy_change_pct),
        yoy_p_value=_f(evidence.yoy_p_value),
        yoy_period=evidence.yoy_period,
        trend_direction=evidence.trend_direction,
        trend_annual_pct=_f(evidence.trend_annual_pct),
        recent_direction=evidence.recent_direction,
        recent_annual_pct=_f(evidence.recent_annual_pct),
        recent_months=evidence.recent_months,
        kpis_with_data=evidence.kpis_with_data,
        kpis_red=list(evidence.kpis_red),
        kpis_near=list(evidence.kpis_near),
        kpis_amber_met=list(evidence.kpis_amber_met),
        rate_per_1000=_f(evidence.rate_per_1000),
        incident_repeat_pct=_f(evidence.incident_repeat_pct),
        rate_ratio=_f(evidence.rate_ratio),
        rr_ci_low=_f(evidence.rr_ci_low),
        rr_ci_high=_f(evidence.rr_ci_high),
        survey_status=evidence.survey_status,
        insight_share_pct=None if ins is None else _f(100 * ins.share),
    )


def assess_theme_priorities(
    dataset,
    theme: Theme | str,
    *,
    period: str,
    params: Params | None = None,
    kpis: pd.DataFrame | None = None,
    series: Mapping[str, pd.DataFrame] | None = None,
    fits: Mapping[str, TrendFit] | None = None,
    yoys: Mapping[str, pd.Series | None] | None = None,
    recents: Mapping[str, pd.Series | None] | None = None,
    insight: pd.DataFrame | None | str = "from dataset",
    previous: dict[str, dict] | None = None,
) -> list[PriorityAssessment]:
    """Assess every priority of a theme (:func:`assess_priority` on
    :func:`kcpp_analysis.analysis.evidence.gather_evidence`).

    Whatever the caller has already computed (each priority's monthly series, trend fit,
    year-on-year row and recent-trend row, keyed by priority id) is reused; the rest is
    computed here with the same settings the report uses (``year_on_year.alpha`` and
    ``trend.recent_months`` of ``params/sia.yaml``, with the priority's overrides), so a
    rating computed here and one computed by the report agree.
    """
    from kcpp_analysis.analysis.evidence import gather_evidence, insight_for_year, priority_series
    from kcpp_analysis.analysis.kpis import evaluate_kpis
    from kcpp_analysis.analysis.trends import fit_trend, recent_trend, year_on_year
    from kcpp_analysis.config.params import load_params
    from kcpp_analysis.data.selection import select_area_counts, select_incidents

    params = params or load_params()
    th = params.theme(theme) if isinstance(theme, str) else theme
    if kpis is None:
        kpis = evaluate_kpis(dataset, params.kpis_for_theme(th.id), period=period, params=params)
    if isinstance(insight, str):
        insight = insight_for_year(dataset, period)
    intr = [(i.start, i.end) for i in params.sia.interruptions]
    out = []
    for pr in th.priorities:
        s = fit = yoy = rec = inc = None
        if pr.selection is not None:
            inc = select_incidents(dataset.incidents, pr.selection, params, pr)
            s = (series or {}).get(pr.id)
            if s is None:
                s = priority_series(dataset, pr, params, period, incidents=inc)
            if s["count"].sum() > 0:
                fit = (fits or {}).get(pr.id) or fit_trend(s, interruptions=intr)
                yoy = (yoys or {}).get(pr.id)
                if yoy is None:
                    alpha = params.section_setting("year_on_year", "alpha", pr, 0.05)
                    yoy = year_on_year(s, period, fit=fit, alpha=alpha).iloc[0]
                rec = (recents or {}).get(pr.id)
                if rec is None:
                    months = params.section_setting("trend", "recent_months", pr, 36)
                    rec = recent_trend(s, fit, months=months).iloc[0]
        counts = select_area_counts(
            getattr(dataset, "extras", {}).get("area_counts"), pr.selection, params, pr
        )
        ev = gather_evidence(
            dataset,
            pr,
            params,
            period,
            series=s,
            fit=fit,
            yoy=yoy,
            recent=rec,
            kpis=kpis,
            insight=insight,
            incidents=inc,
            area_counts=counts,
        )
        out.append(
            assess_priority(pr, th, ev, params, period, previous=(previous or {}).get(pr.id))
        )
    return out


def to_frame(items: Iterable[PriorityAssessment]) -> pd.DataFrame:
    """One row per assessment: scalar fields as columns, ``score_<criterion>`` columns, and
    ``fired`` (the criteria that fired, "; "-separated)."""
    rows = []
    for a in items:
        d = a.model_dump(exclude={"criteria", "scores", "sensitivity", "schema_id"})
        for k in ("reasons", "kpis_red", "kpis_near", "kpis_amber_met", "criteria_changed"):
            d[k] = "; ".join(d[k])
        d.update({f"score_{k}": (np.nan if v is None else v) for k, v in a.scores.items()})
        d["fired"] = "; ".join(a.fired)
        for k, v in d.items():
            if v is None and k in PriorityAssessment.model_fields:
                ann = PriorityAssessment.model_fields[k].annotation
                if ann in (float | None,):
                    d[k] = np.nan
        rows.append(d)
    return pd.DataFrame(rows)


def save_assessments(items: list[PriorityAssessment], path: Path) -> None:
    """Write assessments as JSON (``{"schema": ..., "items": [...]}``), atomically."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    body = {"schema": SCHEMA, "items": [a.model_dump(mode="json") for a in items]}
    tmp.write_text(json.dumps(body, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def load_assessments(path: Path) -> list[PriorityAssessment]:
    """Read assessments written by :func:`save_assessments`, validating every field.

    Raises
    ------
    ValueError
        Naming the file when it is not a set of assessments of this schema.
    """
    path = Path(path)
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not readable as assessments ({exc})") from None
    if not isinstance(body, dict) or body.get("schema") != SCHEMA:
        raise ValueError(f"{path}: not a {SCHEMA} file")
    try:
        return [PriorityAssessment.model_validate(x) for x in body.get("items", [])]
    except ValidationError as exc:
        raise ValueError(
            f"{path}: an assessment does not match {SCHEMA}: {exc.errors()[0]['msg']}"
        ) from None


def previous_ratings(params: Params, previous_set: Path | None) -> tuple[dict[str, dict], str]:
    """Last assessment's rating per priority, and where it came from.

    Read from the previous published report set (``<previous set>/results/*_assessment.json``)
    when there is one, else from ``params/previous_assessment.yaml``. Returns
    ``({priority_id: {"rating", "status", "label", "fired"}}, source description)``;
    ``({}, "")`` when neither exists.
    """
    if previous_set is not None:
        files = sorted(Path(previous_set).glob("results/*_assessment.json"))
        if files:
            out = {}
            for f in files:
                for a in load_assessments(f):
                    out[a.priority_id] = {
                        "rating": a.rag if a.rag in RAG_ORDER else None,
                        "status": a.final_status,
                        "label": f"SIA {a.year}",
                        "fired": a.fired,
                    }
            return out, f"the {Path(previous_set).name} report set"
    p = params.previous
    if p is None:
        return {}, ""
    out = {
        pid: {"rating": r.rating, "status": r.status, "label": p.label, "reason": r.reason}
        for pid, r in p.ratings.items()
    }
    return out, f"{p.label} ({p.source})" if p.source else p.label
