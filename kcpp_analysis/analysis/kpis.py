"""The outcome framework: KPIs against baselines and targets, and priority ratings.

:func:`evaluate_kpis` evaluates every KPI of ``params/kpis.yaml`` for a financial year;
:func:`priority_assessment` rates each priority of a theme (red / amber / green) and
recommends **high focus** or **maintain and monitor** following the partnership plan's own
rationale.

KPI values
----------
- ``count``: incidents in the financial year matching the KPI's ``select``;
- ``repeat_incident_rate`` / ``repeat_victim_rate``: from
  :func:`kcpp_analysis.analysis.repeats.repeat_victimisation`, in %;
- ``survey_share``: from :func:`kcpp_analysis.analysis.surveys.weighted_share` (wave = year), in %;
- ``indicator``: the partner-supplied figure for the year (``indicators`` table).

Targets: ``below_baseline`` (met when current < baseline), ``above_baseline``
(current > baseline), ``at_most`` v (current <= v), ``at_least`` v (current >= v),
``reduce_by_per_year`` n (current <= baseline - n x years since the baseline year).

Direction of travel (current vs previous year), by measure:
counts - :func:`kcpp_analysis.analysis.trends.year_on_year` (quasi-Poisson: the variance allows for
the extra-Poisson variation of the KPI's monthly series around a seasonal model);
survey shares - two-sample z-test (:func:`kcpp_analysis.analysis.surveys.compare_shares`);
repeat rates - change counted only when the two years' 95% Wilson intervals do not overlap
(conservative); indicators - no test is possible on a single figure, so the change is
labelled "(not tested)".

KPI RAG: **green** target met and not significantly worsening; **amber** target met but
significantly worsening, or not met but significantly improving or within 5% of the
target; **red** not met and not improving; **grey** no data.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from kcpp_analysis.analysis.prioritisation import score_criteria, score_priorities
from kcpp_analysis.analysis.repeats import repeat_victimisation
from kcpp_analysis.analysis.surveys import compare_shares, weighted_share
from kcpp_analysis.analysis.trends import (
    TrendFit,
    fit_trend,
    monthly_counts,
    recent_trend,
    year_on_year,
)
from kcpp_analysis.config.params import Kpi, Params, Priority, Theme, load_params
from kcpp_analysis.core.periods import (
    fy_bounds,
    fy_from_start_year,
    fy_label,
    fy_start_year,
    previous_fy,
)
from kcpp_analysis.data.selection import select_incidents
from kcpp_analysis.presentation import narrative

log = logging.getLogger(__name__)

KPI_COLUMNS = [
    "kpi_id",
    "theme",
    "priority",
    "label",
    "measure",
    "unit",
    "baseline_period",
    "baseline",
    "baseline_source",
    "previous",
    "current",
    "change_vs_baseline",
    "change_vs_baseline_pct",
    "target",
    "target_rule",
    "target_words",
    "since_baseline",
    "since_baseline_p_value",
    "status",
    "direction_of_travel",
    "travel_p_value",
    "rag",
    "note",
    "trajectory_years",
    "trajectory",
]


def _source_coverage(dataset) -> dict:
    from kcpp_analysis.data.dataset import source_coverage

    cov = dataset.meta.get("source_coverage")
    if cov is None:  # computed once and kept with the in-memory dataset's metadata
        cov = dataset.meta["source_coverage"] = source_coverage(dataset.incidents)
    return cov


def _window(dataset, inc: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last day that every source of ``inc`` covers (None: no coverage)."""
    cov = _source_coverage(dataset)
    srcs = set(inc["source"].dropna())
    if not srcs or any(s not in cov for s in srcs):
        return None
    first = max(pd.Period(cov[s]["first_month"], "M").start_time for s in srcs)
    last = min(pd.Period(cov[s]["last_month"], "M").end_time for s in srcs)
    return first, last


def ytd_months(dataset, kpi: Kpi, params: Params, fy: str) -> int | None:
    """Months of ``fy`` (from April) a count KPI's sources cover when they end part-way
    through the year (1-11); None when the year is covered whole or not at all."""
    if kpi.measure != "count":
        return None
    inc = select_incidents(dataset.incidents, kpi.select, params)
    win = _window(dataset, inc) if len(inc) else None
    s, e = fy_bounds(fy)
    if win is None or win[0] > s or win[1] >= e or win[1] < s:
        return None
    return (win[1].year - s.year) * 12 + win[1].month - s.month + 1


def _seasonal_share(dataset, kpi: Kpi, params: Params, months: int) -> float:
    """Share of a whole year's incidents that fall in its first ``months`` months, pooled
    over every financial year the KPI's sources cover in full (NaN when there is none)."""
    inc = select_incidents(dataset.incidents, kpi.select, params)
    win = _window(dataset, inc)
    if win is None:
        return np.nan
    d = inc["date"]
    part = whole = 0
    y = fy_start_year(fy_label(win[0]))
    while True:
        fy = fy_from_start_year(y)
        s, e = fy_bounds(fy)
        if e > win[1]:
            break
        if s >= win[0]:
            cut = s + pd.DateOffset(months=months)
            in_year = (d >= s) & (d <= e)
            whole += int(in_year.sum())
            part += int((in_year & (d < cut)).sum())
        y += 1
    return part / whole if whole else np.nan


def _covers(dataset, inc: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> bool:
    """Whether every source of ``inc`` holds data for the whole of ``start``..``end``
    (coverage from the data: ``dataset.json: source_coverage``, else computed)."""
    cov = _source_coverage(dataset)
    for src in set(inc["source"].dropna()):
        c = cov.get(src)
        if c is None:
            return False
        if (
            pd.Period(c["first_month"], "M").start_time > start
            or pd.Period(c["last_month"], "M").end_time < end
        ):
            return False
    return True


def _count(dataset, kpi: Kpi, params: Params, fy: str, months: int | None = None) -> float:
    """Incidents in ``fy``, or in its first ``months`` months (year to date)."""
    inc = select_incidents(dataset.incidents, kpi.select, params)
    s, e = fy_bounds(fy)
    if months is not None:
        e = s + pd.DateOffset(months=months) - pd.Timedelta(days=1)
    cs, ce = dataset.coverage if dataset.meta.get("coverage") else (s, e)
    if s < cs or e > ce:
        return np.nan
    if inc.empty:
        # nothing of this kind anywhere in the dataset: the source is absent (e.g. no council
        # extract, or police.uk data without the Home Office split), not a count of zero
        return np.nan
    if not _covers(dataset, inc, s, e):
        # the source does not hold data for the whole year (it starts later or ends
        # earlier): no figure, rather than a count padded with missing months
        return np.nan
    return float(((inc["date"] >= s) & (inc["date"] <= e)).sum())


def _repeat(dataset, kpi: Kpi, params: Params, fy: str) -> tuple[float, float, float]:
    inc = select_incidents(dataset.incidents, kpi.select, params)
    if inc.empty or inc["victim_id"].notna().sum() == 0:
        return np.nan, np.nan, np.nan
    r = repeat_victimisation(inc, period=fy).iloc[0]
    key = "incident" if kpi.measure == "repeat_incident_rate" else "victim"
    n = r.n_incidents if key == "incident" else r.n_victims
    if n == 0:
        return np.nan, np.nan, np.nan
    return (
        100 * r[f"{key}_repeat_rate"],
        100 * r[f"{key}_rate_ci_low"],
        100 * r[f"{key}_rate_ci_high"],
    )


def _survey(dataset, kpi: Kpi, fy: str) -> float:
    ws = weighted_share(dataset.survey, kpi.question, wave=fy, survey_name=kpi.survey)
    return float(100 * ws["share"].iloc[0]) if len(ws) else np.nan


def _indicator(dataset, kpi: Kpi, fy: str) -> float:
    t = dataset.indicators
    v = t[(t["indicator_id"] == kpi.indicator_id) & (t["period"] == fy)]["value"]
    return float(v.iloc[0]) if len(v) else np.nan


def kpi_value(dataset, kpi: Kpi, params: Params, fy: str, months: int | None = None) -> float:
    """The KPI's value for one financial year, or for its first ``months`` months (counts
    only; year to date), NaN when there are no data."""
    if kpi.measure == "count":
        return _count(dataset, kpi, params, fy, months)
    if kpi.measure in ("repeat_incident_rate", "repeat_victim_rate"):
        return _repeat(dataset, kpi, params, fy)[0]
    if kpi.measure == "survey_share":
        return _survey(dataset, kpi, fy)
    return _indicator(dataset, kpi, fy)


def _target(kpi: Kpi, baseline: float, fy: str) -> float:
    r = kpi.target
    if r.rule in ("below_baseline", "above_baseline"):
        return baseline
    if r.rule in ("at_most", "at_least"):
        return float(r.value)
    years = fy_start_year(fy) - fy_start_year(kpi.baseline_period)
    return baseline - float(r.value) * years


def _met(kpi: Kpi, current: float, target: float) -> bool:
    rule = kpi.target.rule
    if rule == "below_baseline":
        return current < target
    if rule == "above_baseline":
        return current > target
    if rule in ("at_most", "reduce_by_per_year"):
        return current <= target
    return current >= target


def _travel(
    dataset, kpi: Kpi, params: Params, fy: str, prev_fy: str, current: float, previous: float
) -> tuple[str, float]:
    if np.isnan(current) or np.isnan(previous):
        return "no data", np.nan
    better_if_lower = kpi.direction == "lower"
    if kpi.measure == "count":
        inc = select_incidents(dataset.incidents, kpi.select, params)
        s, e = fy_bounds(prev_fy)[0], fy_bounds(fy)[1]
        lo = min(fy_bounds(params.sia.trend_start)[0], s)
        if dataset.meta.get("coverage"):
            lo = max(lo, dataset.coverage[0])
        win = _window(dataset, inc)
        if win is not None:  # the series ends where the data end (year to date compared
            lo, e = max(lo, win[0]), min(e, win[1])  # like for like by year_on_year)
        r = year_on_year(monthly_counts(inc, start=lo, end=e), fy).iloc[0]
        sig = r.label in ("rose significantly", "fell significantly")
        up, p = current > previous, float(r.p_value)
    elif kpi.measure == "survey_share":
        r = compare_shares(
            dataset.survey,
            kpi.question,
            current_wave=fy,
            previous_wave=prev_fy,
            survey_name=kpi.survey,
        ).iloc[0]
        sig, up, p = bool(r.significant), current > previous, float(r.p_value)
    elif kpi.measure in ("repeat_incident_rate", "repeat_victim_rate"):
        _, clo, chi = _repeat(dataset, kpi, params, fy)
        _, plo, phi = _repeat(dataset, kpi, params, prev_fy)
        sig, up, p = (clo > phi) or (chi < plo), current > previous, np.nan
    else:
        if current == previous:
            return "no change", np.nan
        good = (current < previous) == better_if_lower
        return ("improving (not tested)" if good else "worsening (not tested)"), np.nan
    if not sig:
        return "no significant change", p
    return ("improving" if up != better_if_lower else "worsening"), p


def _since_baseline(
    dataset, kpi: Kpi, params: Params, period: str, current: float, baseline: float, months
) -> tuple[str, float]:
    """Is the change from the baseline real? ``(label, p_value)``.

    - counts: the exact conditional test (:func:`kcpp_analysis.analysis.trends.compare_periods`) on
      effective counts (each count divided by the quasi-Poisson dispersion of the KPI's
      monthly series, :func:`kcpp_analysis.analysis.trends.seasonal_dispersion`, floored at 1);
    - survey shares: the two-wave test of :func:`kcpp_analysis.analysis.surveys.compare_shares` when the
      survey holds the baseline wave;
    - repeat rates: a change only when the two years' 95% Wilson intervals do not overlap;
    - partner indicators and baselines with no data behind them: not tested.
    """
    from kcpp_analysis.analysis.trends import compare_periods, seasonal_dispersion

    if np.isnan(current) or np.isnan(baseline):
        return "no data", np.nan
    if kpi.measure == "count":
        inc = select_incidents(dataset.incidents, kpi.select, params)
        win = _window(dataset, inc) if len(inc) else None
        phi = 1.0
        if win is not None:
            s = monthly_counts(inc, start=win[0], end=win[1])
            d = seasonal_dispersion(
                s, interruptions=[(i.start, i.end) for i in params.sia.interruptions]
            )
            phi = d if np.isfinite(d) else 1.0
        r = compare_periods(round(current / phi), round(baseline / phi)).iloc[0]
        if not r.significant:
            return "no clear change", float(r.p_value)
        return ("rose significantly" if current > baseline else "fell significantly"), float(
            r.p_value
        )
    if kpi.measure == "survey_share":
        if not (dataset.survey["wave"] == kpi.baseline_period).any():
            return "not tested: no baseline wave in the data", np.nan
        r = compare_shares(
            dataset.survey,
            kpi.question,
            current_wave=period,
            previous_wave=kpi.baseline_period,
            survey_name=kpi.survey,
        ).iloc[0]
        lab = (
            ("rose significantly" if r.difference > 0 else "fell significantly")
            if r.significant
            else "no clear change"
        )
        return lab, float(r.p_value)
    if kpi.measure in ("repeat_incident_rate", "repeat_victim_rate"):
        _, clo, chi = _repeat(dataset, kpi, params, period)
        _, blo, bhi = _repeat(dataset, kpi, params, kpi.baseline_period)
        if np.isnan(blo):
            return "not tested: no baseline year in the data", np.nan
        if clo > bhi:
            return "rose significantly", np.nan
        if chi < blo:
            return "fell significantly", np.nan
        return "no clear change", np.nan
    return "not tested: a single published figure", np.nan


def target_in_words(kpi: Kpi, target: float) -> str:
    """The target rule as a reader would say it."""
    r = kpi.target
    v = narrative.fmt_value(target, kpi.unit)
    if r.rule == "below_baseline":
        return f"below the baseline ({v})"
    if r.rule == "above_baseline":
        return f"above the baseline ({v})"
    if r.rule == "at_most":
        return f"at most {v}"
    if r.rule == "at_least":
        return f"at least {v}"
    return f"{narrative.fmt_value(r.value, kpi.unit)} fewer each year than the baseline ({v} this year)"


def _rag(status: str, travel: str, current: float, target: float) -> str:
    if status == "no data":
        return "grey"
    worsening = travel.startswith("worsening")
    improving = travel.startswith("improving")
    if status == "met":
        return "amber" if worsening else "green"
    near = target != 0 and abs(current - target) <= 0.05 * abs(target)
    if improving or (near and not worsening):
        return "amber"
    return "red"


def _kpi_list(kpi_definitions) -> list[Kpi]:
    if isinstance(kpi_definitions, Params):
        return list(kpi_definitions.kpis)
    return list(kpi_definitions)


def evaluate_kpis(
    dataset,
    kpi_definitions: Params | Sequence[Kpi] | None = None,
    *,
    period: str,
    params: Params | None = None,
) -> pd.DataFrame:
    """Evaluate every KPI for the financial year ``period``.

    Parameters
    ----------
    dataset : Dataset
        A prepared dataset (:func:`kcpp_analysis.load_dataset`).
    kpi_definitions : Params or list of Kpi
        The outcome framework (default: the project's ``params/kpis.yaml``).
    period : str
        Financial year, e.g. ``"2025/26"``; "previous" is the year before.

    Returns
    -------
    DataFrame
        One row per KPI (none dropped; a KPI without data has status ``no data``), columns
        ``kpi_id``, ``theme``, ``priority``, ``label``, ``measure``, ``unit``,
        ``baseline_period``, ``baseline``, ``baseline_source`` (``plan`` or ``measured``),
        ``previous``, ``current``, ``change_vs_baseline``, ``change_vs_baseline_pct``,
        ``target``, ``target_rule``, ``status`` (``met`` / ``not met`` / ``no data``),
        ``direction_of_travel``, ``travel_p_value``, ``rag``, ``note``.
    """
    params = params or (kpi_definitions if isinstance(kpi_definitions, Params) else load_params())
    kpis = _kpi_list(kpi_definitions if kpi_definitions is not None else params)
    prev_fy = previous_fy(period)
    rows = []
    for k in kpis:
        months = ytd_months(dataset, k, params, period)
        current = kpi_value(dataset, k, params, period, months)
        previous = kpi_value(dataset, k, params, prev_fy, months)
        if k.baseline is not None:
            baseline, bsrc = float(k.baseline), "plan"
        else:
            baseline, bsrc = kpi_value(dataset, k, params, k.baseline_period, months), "measured"
        target = (
            _target(k, baseline, period)
            if not np.isnan(baseline) or k.target.rule in ("at_most", "at_least")
            else np.nan
        )
        ytd_note = None
        if months is not None:
            # year to date: like for like with the same months of earlier years; a whole-year
            # plan figure or fixed target is scaled by the share of a year's incidents that
            # fall in those months (from the years the data cover in full)
            share = _seasonal_share(dataset, k, params, months)
            if bsrc == "plan":
                baseline = baseline * share
            if k.target.rule in ("at_most", "at_least"):
                target = target * share
            elif k.target.rule == "reduce_by_per_year":
                years = fy_start_year(period) - fy_start_year(k.baseline_period)
                target = baseline - float(k.target.value) * years * share
            else:
                target = baseline
            end = fy_bounds(period)[0] + pd.DateOffset(months=months - 1)
            ytd_note = (
                f"Year to date (April to {end:%B}): the data end part-way through {period}, "
                f"so this year, the previous year{' and the baseline' if bsrc == 'measured' else ''} "
                "are counted over the same months"
                + (
                    f"; the plan's whole-year figures are scaled by {100 * share:.1f}%, the "
                    "share of a year's incidents falling in those months in the years the "
                    "data cover in full."
                    if bsrc == "plan"
                    or k.target.rule in ("at_most", "at_least", "reduce_by_per_year")
                    else "."
                )
            )
        if np.isnan(current) or np.isnan(target):
            status = "no data"
        else:
            status = "met" if _met(k, current, target) else "not met"
        travel, p = _travel(dataset, k, params, period, prev_fy, current, previous)
        since, since_p = _since_baseline(dataset, k, params, period, current, baseline, months)
        years = [
            fy_from_start_year(y)
            for y in range(fy_start_year(k.baseline_period), fy_start_year(period) + 1)
        ]
        trajectory = [
            float(kpi_value(dataset, k, params, fy, months))  # like for like when year to date
            for fy in years
        ]
        notes = [n for n in (ytd_note, k.target.note, k.baseline_note) if n]
        if k.target.rule in ("at_most", "at_least") and np.isfinite(baseline):
            worse_meets = (
                k.target.value > baseline if k.direction == "lower" else k.target.value < baseline
            )
            if worse_meets:
                notes.append(
                    f"The target ({k.target.value:g}) is on the wrong side of the "
                    f"baseline ({baseline:.1f}): a worse value than the baseline "
                    "would still meet it."
                )
        rows.append(
            {
                "kpi_id": k.id,
                "theme": k.theme,
                "priority": k.priority,
                "label": k.label,
                "measure": k.measure,
                "unit": k.unit,
                "baseline_period": k.baseline_period,
                "baseline": baseline,
                "baseline_source": bsrc,
                "previous": previous,
                "current": current,
                "change_vs_baseline": current - baseline,
                "change_vs_baseline_pct": 100 * (current - baseline) / baseline
                if baseline
                else np.nan,
                "target": target,
                "target_rule": k.target.rule,
                "target_words": target_in_words(k, target) if np.isfinite(target) else "",
                "since_baseline": since,
                "since_baseline_p_value": since_p,
                "trajectory_years": years,
                "trajectory": trajectory,
                "status": status,
                "direction_of_travel": travel,
                "travel_p_value": p,
                "rag": _rag(status, travel, current, target),
                "note": " ".join(notes),
            }
        )
    return pd.DataFrame(rows, columns=KPI_COLUMNS)


# --------------------------------------------------------------------------------------
# priority assessment
# --------------------------------------------------------------------------------------
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


def _evidence(dataset, pr: Priority, params: Params, period: str, series) -> dict:
    """Volume (annualised rate per 1,000 residents over the months the data cover), repeat
    victims (% of incidents) and the deprivation rate ratio of a priority's incidents."""
    from kcpp_analysis.analysis.deprivation import lsoa_rates, rate_ratio

    ev: dict = {}
    if pr.selection is None or series is None:
        return ev
    s, e = fy_bounds(period)
    months = series[(series["month"] >= s) & (series["month"] <= e)]
    pop = float(dataset.areas["population"].sum()) if len(dataset.areas) else 0.0
    inc = select_incidents(dataset.incidents, pr.selection, params, pr)
    if len(months) and pop > 0:
        ev["rate_per_1000"] = 1000 * float(months["count"].sum()) * 12 / len(months) / pop
    if pr.victims and inc["victim_id"].notna().any():
        r = repeat_victimisation(inc, period=period).iloc[0]
        if r.n_incidents > 0:
            ev["repeat_pct"] = 100 * float(r.incident_repeat_rate)
    y = inc[(inc["date"] >= s) & (inc["date"] <= e)]
    if len(y) >= 20 and len(dataset.areas):
        try:
            rr = rate_ratio(lsoa_rates(y, dataset.areas)).iloc[0]
            ev["rate_ratio"], ev["rr_ci_low"] = float(rr.rate_ratio), float(rr.ci_low)
        except (ValueError, KeyError):
            pass
    return ev


def priority_assessment(
    dataset,
    theme: str | Theme,
    *,
    period: str,
    params: Params | None = None,
    kpi_table: pd.DataFrame | None = None,
    series: Mapping[str, pd.DataFrame] | None = None,
    fits: Mapping[str, TrendFit] | None = None,
) -> pd.DataFrame:
    """Rate each priority of a theme and recommend high focus or maintain and monitor.

    Evidence gathered per priority:

    - **trend**: the seasonal count model (:func:`kcpp_analysis.analysis.trends.fit_trend`, with the
      lockdown interruptions) over monthly counts from ``trend_start`` to ``period``;
    - **year on year**: the exact test of ``period`` against the previous year;
    - **KPIs** of the priority not met (:func:`evaluate_kpis`): a KPI counts as a concern
      when it is rated red (missed by more than 5% and not significantly improving); a
      narrow miss or an improving one is named in the rationale but is not a concern signal;
    - **community impact**: any survey measure of the priority (its ``survey_questions`` and
      survey KPIs) significantly worse than the previous wave.

    Concern signals are: a significant worsening year on year; an underlying trend in the
    wrong direction; KPIs rated red; community impact escalating. Following the plan's
    rationale, the recommendation is **high focus** where there is a current or emerging
    concern (any concern signal), a statutory duty, or escalating community impact;
    otherwise **maintain and monitor** (performance stable or improving, community impact
    not escalating, and, where flagged, a connected partnership already has it in view).
    RAG: **red** two or more concern signals, **amber** one, **green** none; **grey** when
    the priority has no data at all. An analyst override in the theme YAML replaces the
    rating and recommendation; the computed ones and the reason stay in the row.

    ``series`` and ``fits`` may pass each priority's monthly series and trend fit, keyed by
    priority id, when the caller has already computed them (the report does: computed
    once, shared by the rating and the sections). The rationale's wording comes from
    :func:`kcpp_analysis.presentation.narrative.rationale`.

    Returns
    -------
    DataFrame
        ``theme``, ``priority_id``, ``priority``, ``rag``, ``recommendation``, ``rationale``,
        ``overridden``, ``override_reason``, ``computed_rag``, ``computed_recommendation``,
        ``concern_signals``, ``trend_direction``, ``annual_change_pct``, ``current``,
        ``previous``, ``yoy_change_pct``, ``yoy_p_value``, ``kpis_not_met``, ``kpis_total``,
        ``survey_worsening``, ``statutory_duty``, ``connected_partnership``,
        ``kpis_red``, ``kpis_near`` (labels, "; "-separated), ``yoy_significant``,
        ``yoy_label`` (from :func:`kcpp_analysis.analysis.trends.year_on_year`).
    """
    params = params or load_params()
    th = params.theme(theme) if isinstance(theme, str) else theme
    if kpi_table is None:
        kpi_table = evaluate_kpis(
            dataset, params.kpis_for_theme(th.id), period=period, params=params
        )
    prev = previous_fy(period)
    intr = [(i.start, i.end) for i in params.sia.interruptions]
    rows = []
    thr = params.sia.disclosure.threshold
    for pr in th.priorities:
        signals = 0
        worse_if_up = pr.improvement == "decrease"
        trend_dir, change_pct = "no data", np.nan
        cur = prv = yoy_pct = yoy_p = np.nan
        yoy_sig = False
        yoy_label = "no data"
        recent_dir, recent_pct = "no data", np.nan
        has_data = False
        if pr.selection is not None:
            s = (series or {}).get(pr.id)
            if s is None:
                s = priority_series(dataset, pr, params, period)
            if s["count"].sum() > 0:
                has_data = True
                fit = (fits or {}).get(pr.id)
                if fit is None:
                    fit = fit_trend(s, interruptions=intr)
                y = year_on_year(s, period, fit=fit).iloc[0]
                cur, prv = float(y.current), float(y.previous)
                yoy_pct, yoy_p, yoy_label = float(y.change_pct), float(y.p_value), y.label
                yoy_sig = yoy_label in ("rose significantly", "fell significantly")
                if yoy_sig and (cur > prv) == worse_if_up:
                    signals += 1
                trend_dir, change_pct = fit.direction, fit.annual_change_pct
                rt = recent_trend(s, fit).iloc[0]
                recent_dir, recent_pct = rt.direction, float(rt.annual_change_pct)
                opposite = {"increasing": "decreasing", "decreasing": "increasing"}
                # a whole-period trend counts only when the last 36 months do not run
                # significantly the other way (it is not a current concern then)
                if (
                    fit.direction in ("increasing", "decreasing")
                    and (fit.direction == "increasing") == worse_if_up
                    and recent_dir != opposite[fit.direction]
                ):
                    signals += 1
        kt = kpi_table[kpi_table["priority"] == pr.id]
        n_not_met = int((kt["status"] == "not met").sum())
        n_with = int((kt["status"] != "no data").sum())
        red, near = [], []
        if n_with:
            red = kt[(kt["status"] == "not met") & (kt["rag"] == "red")]["label"].tolist()
            near = kt[(kt["status"] == "not met") & (kt["rag"] != "red")]["label"].tolist()
            has_data = True
            if red:
                signals += 1
        survey_worse = False
        for ref in pr.survey_questions:
            c = compare_shares(
                dataset.survey,
                ref.question,
                current_wave=period,
                previous_wave=prev,
                survey_name=ref.survey,
            ).iloc[0]
            if pd.notna(c.current):
                has_data = True
            if c.significant and (c.difference < 0) == ref.higher_is_better:
                survey_worse = True
        if (kt["measure"].eq("survey_share") & kt["direction_of_travel"].eq("worsening")).any():
            survey_worse = True
        if survey_worse:
            signals += 1
        ind = dataset.indicators
        if any(
            len(ind[(ind["indicator_id"] == i) & (ind["period"] == period)]) for i in pr.indicators
        ):
            has_data = True
        ev = _evidence(dataset, pr, params, period, s if pr.selection is not None else None)
        ev.update(
            yoy_label=yoy_label,
            worse_if_up=worse_if_up,
            trend_direction=trend_dir,
            recent_direction=recent_dir,
            kpi_rags=kt["rag"].tolist() if "rag" in kt else [],
            survey_status=(
                "worse"
                if survey_worse
                else "not worse"
                if (pr.survey_questions or kt["measure"].eq("survey_share").any())
                and len(dataset.survey)
                else None
            ),
        )
        scores = score_criteria(ev, params.scoring)
        sc = score_priorities(
            pd.DataFrame([{"priority_id": pr.id, "harm": params.scoring.harm[pr.id], **scores}]),
            params.scoring,
        ).iloc[0]
        rag, rec = str(sc.rag), str(sc.recommendation)
        row = {
            "theme": th.id,
            "priority_id": pr.id,
            "priority": pr.title,
            "rag": rag,
            "recommendation": rec,
            "rationale": "",
            "overridden": False,
            "override_reason": "",
            "computed_rag": rag,
            "computed_recommendation": rec,
            "concern_signals": signals,
            "trend_direction": trend_dir,
            "recent_direction": recent_dir,
            "recent_change_pct": recent_pct,
            "annual_change_pct": change_pct,
            "current": cur,
            "previous": prv,
            "yoy_change_pct": yoy_pct,
            "yoy_p_value": yoy_p,
            "yoy_significant": yoy_sig,
            "yoy_label": yoy_label,
            "kpis_not_met": n_not_met,
            "kpis_total": n_with,
            "kpis_red": "; ".join(red),
            "kpis_near": "; ".join(near),
            "kpis_amber_met": "; ".join(
                kt[(kt["status"] == "met") & (kt["rag"] == "amber")]["label"].tolist()
                if "rag" in kt
                else []
            ),
            "survey_worsening": survey_worse,
            "statutory_duty": pr.statutory_duty or "",
            "connected_partnership": pr.connected_partnership or "",
            "has_data": has_data,
            "rate_per_1000": ev.get("rate_per_1000", np.nan),
            "repeat_pct": ev.get("repeat_pct", np.nan),
            "rate_ratio": ev.get("rate_ratio", np.nan),
            **{f"score_{k}": v for k, v in scores.items()},
            "harm": params.scoring.harm[pr.id],
            "concern": float(sc.concern),
            "total": float(sc.total),
            "confidence": str(sc.confidence),
            "evidence_share": float(sc.evidence_share),
            "thin_evidence": bool(sc.thin_evidence),
        }
        row["rationale"] = narrative.rationale(row, threshold=thr)
        if pr.override is not None:
            row.update(
                rag=pr.override.rag,
                recommendation=pr.override.recommendation,
                overridden=True,
                override_reason=pr.override.reason,
                rationale=(
                    f"{row['rationale']} Analyst override to "
                    f"{pr.override.rag.upper()} / {pr.override.recommendation}: "
                    f"{pr.override.reason}"
                ),
            )
        rows.append(row)
    return pd.DataFrame(rows)
