"""A priority's evidence, gathered once: the numbers every criterion, score, page and
sentence about the priority reads (one truth per figure).

:func:`gather_evidence` takes what the report has already computed with its settings (the
monthly series, the trend fit, the year-on-year test, the recent trend, the KPI table) so
the rating and the sections never disagree; :func:`priority_series` builds the series.

Definitions (each labelled where it is shown):

- **volume**: the priority's incidents per 1,000 residents in the SIA year, annualised over
  the months the data cover;
- **incident repeat rate**: the share of the year's incidents against a victim with another
  incident of the priority in the previous 12 months
  (:func:`kcpp_analysis.analysis.repeats.repeat_victimisation`); the *victim* repeat rate
  (share of victims with two or more) is a different figure and is named so where shown;
- **deprivation rate ratio**: most against least deprived fifth of neighbourhoods with its
  95% interval (:func:`kcpp_analysis.analysis.deprivation.rate_ratio`);
- **survey**: each survey measure of the priority (its ``survey_questions`` and survey KPIs)
  tested for a trend over the last three waves (:func:`kcpp_analysis.analysis.surveys.share_trend`);
- **insight**: the priority's share of all coded community insight mentions in the year
  and the places that raised it (:func:`insight_signal`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kcpp_analysis.analysis.deprivation import lsoa_rates, rate_ratio
from kcpp_analysis.analysis.repeats import repeat_victimisation
from kcpp_analysis.analysis.surveys import share_trend
from kcpp_analysis.analysis.trends import TrendFit, monthly_counts
from kcpp_analysis.config.models import Priority
from kcpp_analysis.config.params import Params
from kcpp_analysis.core.periods import fy_bounds, in_fy, previous_fy
from kcpp_analysis.data.selection import select_incidents

#: survey waves a trend is tested over (the latest and the two before it)
SURVEY_WAVES = 3


@dataclass(frozen=True)
class SurveyMeasure:
    """One survey measure of a priority over its last waves (shares 0-1)."""

    survey: str
    question: str
    higher_is_better: bool
    first_wave: str | None
    last_wave: str | None
    first: float
    last: float
    p_value: float
    direction: str  # rising / falling / no clear change / insufficient data

    @property
    def worse(self) -> bool:
        """A significant trend the wrong way (the only thing that counts as escalating)."""
        bad = "falling" if self.higher_is_better else "rising"
        return self.direction == bad


@dataclass(frozen=True)
class InsightSignal:
    """A priority's share of the year's community insight (coded engagement feedback)."""

    mentions: int
    total_mentions: int
    places_raised: tuple[str, ...]
    channels: tuple[str, ...]
    share: float  # of all mentions, 0-1


@dataclass(frozen=True)
class PriorityEvidence:
    """Everything measured about one priority for one year (NaN / None where not held)."""

    priority_id: str
    has_data: bool
    worse_if_up: bool
    yoy_label: str = "no data"
    yoy_current: float = np.nan
    yoy_previous: float = np.nan
    yoy_change_pct: float = np.nan
    yoy_p_value: float = np.nan
    yoy_period: str = ""
    trend_direction: str = "no data"
    trend_annual_pct: float = np.nan
    recent_direction: str = "no data"
    recent_annual_pct: float = np.nan
    recent_months: int = 0
    kpis_with_data: int = 0
    kpi_rags: tuple[str, ...] = ()
    kpis_red: tuple[str, ...] = ()
    kpis_near: tuple[str, ...] = ()
    kpis_amber_met: tuple[str, ...] = ()
    survey: tuple[SurveyMeasure, ...] = ()
    insight: InsightSignal | None = None
    insight_supplied: bool = False
    rate_per_1000: float = np.nan
    incident_repeat_pct: float = np.nan
    rate_ratio: float = np.nan
    rr_ci_low: float = np.nan
    rr_ci_high: float = np.nan
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def survey_status(self) -> str | None:
        """``worse`` / ``not worse`` / None (no survey measure with two waves)."""
        tested = [m for m in self.survey if m.direction != "insufficient data"]
        if not tested:
            return None
        return "worse" if any(m.worse for m in tested) else "not worse"


def priority_series(
    dataset,
    priority: Priority,
    params: Params,
    period: str,
    *,
    incidents: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Monthly counts of a priority's incidents from ``trend_start`` to the end of ``period``.

    ``incidents`` may pass the priority's already-selected incidents (computed once).
    """
    inc = (
        incidents
        if incidents is not None
        else select_incidents(dataset.incidents, priority.selection, params, priority)
    )
    start, _ = fy_bounds(params.sia.trend_start)
    cov_start = dataset.coverage[0] if dataset.meta.get("coverage") else start
    start = max(start, cov_start)
    _, end = fy_bounds(period)
    return monthly_counts(inc, start=start, end=end)


def survey_measures(dataset, pr: Priority, params: Params, period: str) -> list[SurveyMeasure]:
    """The priority's survey measures (its ``survey_questions`` and survey-share KPIs)
    tested over the last :data:`SURVEY_WAVES` waves."""
    refs = [(r.survey, r.question, r.higher_is_better) for r in pr.survey_questions]
    refs += [
        (k.survey, k.question, k.direction == "higher")
        for k in params.kpis
        if k.priority == pr.id and k.measure == "survey_share"
    ]
    waves = [previous_fy(period, n) for n in range(SURVEY_WAVES - 1, -1, -1)]
    out = []
    survey = dataset.survey
    for name, q, hib in dict.fromkeys(refs):
        if survey.empty or not ((survey["question"] == q) & (survey["survey"] == name)).any():
            continue
        t = share_trend(survey, q, waves=waves, survey_name=name).iloc[0]
        out.append(
            SurveyMeasure(
                survey=name,
                question=q,
                higher_is_better=hib,
                first_wave=None if pd.isna(t.first_wave) else str(t.first_wave),
                last_wave=None if pd.isna(t.last_wave) else str(t.last_wave),
                first=float(t["first"]),
                last=float(t["last"]),
                p_value=float(t.p_value),
                direction=str(t.direction),
            )
        )
    return out


def insight_signal(
    insight: pd.DataFrame | None, priority_id: str, topics: dict
) -> InsightSignal | None:
    """The priority's share of the year's insight mentions (``insight`` rows already cut to
    the year), the places that raised it and through which channels; None when no insight
    was supplied for the year."""
    if insight is None or insight.empty:
        return None
    pri = insight["topic"].map(lambda t: topics[t].priority if t in topics else None)
    mine = insight[pri == priority_id]
    total = int(insight["mentions"].sum())
    places = tuple(sorted(mine.loc[mine["mentions"] > 0, "place"].dropna().unique()))
    return InsightSignal(
        mentions=int(mine["mentions"].sum()),
        total_mentions=total,
        places_raised=places,
        channels=tuple(sorted(mine["channel"].unique())),
        share=float(mine["mentions"].sum()) / total if total else np.nan,
    )


def gather_evidence(
    dataset,
    pr: Priority,
    params: Params,
    period: str,
    *,
    series: pd.DataFrame | None,
    fit: TrendFit | None,
    yoy: pd.Series | None,
    recent: pd.Series | None,
    kpis: pd.DataFrame,
    insight: pd.DataFrame | None = None,
    incidents: pd.DataFrame | None = None,
    area_counts: pd.DataFrame | None = None,
) -> PriorityEvidence:
    """Collect one priority's evidence for ``period`` (see the module docstring).

    ``yoy`` and ``recent`` are the rows of :func:`kcpp_analysis.analysis.trends.year_on_year`
    and :func:`kcpp_analysis.analysis.trends.recent_trend` computed with the report's
    settings; ``insight`` is the year's insight rows (None: none supplied);
    ``area_counts`` the priority's aggregated counts by area, used for its volume when it
    has no incident records.
    """
    kt = kpis[kpis["priority"] == pr.id] if len(kpis) else kpis
    with_data = kt[kt["status"] != "no data"] if len(kt) else kt
    has_data = False
    ev: dict = {"priority_id": pr.id, "worse_if_up": pr.improvement == "decrease"}
    inc = incidents
    if pr.selection is not None and inc is None:
        inc = select_incidents(dataset.incidents, pr.selection, params, pr)
    if series is not None and len(series) and series["count"].sum() > 0:
        has_data = True
        if yoy is not None:
            ev.update(
                yoy_label=str(yoy.label),
                yoy_current=float(yoy.current),
                yoy_previous=float(yoy.previous),
                yoy_change_pct=float(yoy.change_pct),
                yoy_p_value=float(yoy.p_value),
                yoy_period=str(yoy.period),
            )
        if fit is not None:
            ev.update(trend_direction=fit.direction, trend_annual_pct=fit.annual_change_pct)
        if recent is not None:
            ev.update(
                recent_direction=str(recent.direction),
                recent_annual_pct=float(recent.annual_change_pct),
                recent_months=int(recent.months),
            )
        cur = series[in_fy(series["month"], period)]
        pop = float(dataset.areas["population"].sum()) if len(dataset.areas) else 0.0
        if len(cur) and pop > 0:
            ev["rate_per_1000"] = 1000 * float(cur["count"].sum()) * 12 / len(cur) / pop
        ev["sources"] = (
            tuple(sorted(set(inc["source"].dropna().unique()))) if inc is not None else ()
        )
    elif area_counts is not None and len(area_counts):
        first = pd.Period(area_counts["first_month"].iloc[0], "M")
        months = (pd.Period(area_counts["last_month"].iloc[0], "M") - first).n + 1
        pop = float(dataset.areas["population"].sum()) if len(dataset.areas) else 0.0
        if pop > 0:
            has_data = True
            ev["rate_per_1000"] = 1000 * float(area_counts["count"].sum()) * 12 / months / pop
            ev["sources"] = tuple(sorted(set(area_counts["source"])))
    if inc is not None and len(inc):
        if pr.victims and inc["victim_id"].notna().any():
            r = repeat_victimisation(inc, period=period).iloc[0]
            if r.n_incidents > 0:
                ev["incident_repeat_pct"] = 100 * float(r.incident_repeat_rate)
        y = inc[in_fy(inc["date"], period)]
        if len(y) >= 20 and len(dataset.areas):
            try:
                rr = rate_ratio(lsoa_rates(y, dataset.areas)).iloc[0]
                ev.update(
                    rate_ratio=float(rr.rate_ratio),
                    rr_ci_low=float(rr.ci_low),
                    rr_ci_high=float(rr.ci_high),
                )
            except (ValueError, KeyError) as exc:
                ev["notes"] = (f"no deprivation rate ratio: {exc}",)
    if len(with_data):
        has_data = True
        not_met = with_data[with_data["status"] == "not met"]
        ev.update(
            kpis_with_data=len(with_data),
            kpi_rags=tuple(with_data["rag"]),
            kpis_red=tuple(not_met.loc[not_met["rag"] == "red", "label"]),
            kpis_near=tuple(not_met.loc[not_met["rag"] != "red", "label"]),
            kpis_amber_met=tuple(
                with_data.loc[
                    (with_data["status"] == "met") & (with_data["rag"] == "amber"), "label"
                ]
            ),
        )
    sm = survey_measures(dataset, pr, params, period)
    if any(m.direction != "insufficient data" for m in sm):
        has_data = True
    ind = dataset.indicators
    if any(len(ind[(ind["indicator_id"] == i) & (ind["period"] == period)]) for i in pr.indicators):
        has_data = True
    sig = insight_signal(insight, pr.id, params.insight.topics)
    return PriorityEvidence(
        has_data=has_data,
        survey=tuple(sm),
        insight=sig,
        insight_supplied=insight is not None,
        **ev,
    )


def insight_for_year(dataset, period: str) -> pd.DataFrame | None:
    """The insight rows dated in ``period`` (None when the dataset holds no insight at all:
    not supplied, which is different from supplied and silent on a priority)."""
    t = dataset.extras.get("insight") if hasattr(dataset, "extras") else None
    if t is None:
        return None
    return t[in_fy(t["date"], period)].reset_index(drop=True)
