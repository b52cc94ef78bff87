"""KPI measure kinds: one entry each in :data:`MEASURES` (a dispatch table, no if/elif).

Each :class:`Measure` gives a KPI's value for a financial year, its direction of travel on
the previous year and whether it changed since the baseline, each with the method named:

- ``count``: incidents in the year matching the KPI's ``select``; travel by
  :func:`kcpp_analysis.analysis.trends.year_on_year` (allowing for extra-Poisson variation
  and correlated months); since a baseline measured from the data by
  :func:`kcpp_analysis.analysis.trends.period_change` (the same test against the baseline
  year, like-for-like months); since a plan's published baseline by the exact conditional
  test (:func:`kcpp_analysis.analysis.trends.compare_periods`) on counts divided by the
  series' dispersion and the year's design effect for correlated months;
- ``repeat_incident_rate`` / ``repeat_victim_rate``: from
  :func:`kcpp_analysis.analysis.repeats.repeat_victimisation` (%); a change only when the
  two years' 95% Wilson intervals do not overlap (conservative);
- ``survey_share``: :func:`kcpp_analysis.analysis.surveys.weighted_share` (%), changes by
  the two-wave test of :func:`kcpp_analysis.analysis.surveys.compare_shares`;
- ``indicator``: the partner-supplied figure; a single published figure cannot be tested,
  so its changes are "not tested" and never count as significant.

To add a measure kind: name it and the keys it needs in
:data:`kcpp_analysis.config.models.MEASURE_FIELDS`, and add one :class:`Measure` here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kcpp_analysis.analysis.repeats import repeat_victimisation
from kcpp_analysis.analysis.surveys import compare_shares, weighted_share
from kcpp_analysis.analysis.trends import (
    compare_periods,
    monthly_counts,
    period_change,
    seasonal_noise,
    year_on_year,
)
from kcpp_analysis.analysis.trends.correlation import sum_design_effect
from kcpp_analysis.config.models import Kpi
from kcpp_analysis.config.params import Params
from kcpp_analysis.core.periods import fy_bounds, fy_from_start_year, fy_label, fy_start_year
from kcpp_analysis.data.dataset import source_coverage
from kcpp_analysis.data.selection import select_incidents

#: labels of a tested change (the only ones a RAG rule or a score may use)
TESTED = ("improving", "worsening", "rose significantly", "fell significantly")


@dataclass(frozen=True)
class Change:
    """A labelled change and the p-value behind it (NaN when not tested)."""

    label: str
    p_value: float = np.nan


@dataclass(frozen=True)
class Inputs:
    """What a measure reads: the dataset, the KPI and the parameters."""

    dataset: object
    kpi: Kpi
    params: Params
    #: results already computed for this KPI (a measure's value, travel and baseline test
    #: ask for the same year's figures)
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    def incidents(self) -> pd.DataFrame:
        return select_incidents(self.dataset.incidents, self.kpi.select, self.params)


@dataclass(frozen=True)
class Measure:
    value: Callable[[Inputs, str, int | None], float]
    travel: Callable[[Inputs, str, str, float, float], Change]
    since_baseline: Callable[[Inputs, str, float, float], Change]
    tested: bool = True


# --------------------------------------------------------------------------------------
# source coverage (which months each source holds)
# --------------------------------------------------------------------------------------
def coverage_of(dataset) -> dict:
    """First and last month per source (``dataset.json``, else computed once)."""
    cov = dataset.meta.get("source_coverage")
    if cov is None:
        cov = dataset.meta["source_coverage"] = source_coverage(dataset.incidents)
    return cov


def window(dataset, inc: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last day that every source of ``inc`` covers (None: no coverage)."""
    cov = coverage_of(dataset)
    srcs = set(inc["source"].dropna().unique())
    if not srcs or any(s not in cov for s in srcs):
        return None
    first = max(pd.Period(cov[s]["first_month"], "M").start_time for s in srcs)
    last = min(pd.Period(cov[s]["last_month"], "M").end_time for s in srcs)
    return first, last


def covers(dataset, inc: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> bool:
    """Whether every source of ``inc`` holds data for the whole of ``start``..``end``."""
    w = window(dataset, inc)
    return w is not None and w[0] <= start and w[1] >= end


def ytd_months(inp: Inputs, fy: str) -> int | None:
    """Months of ``fy`` (from April) a count KPI's sources cover when they end part-way
    through the year (1-11); None when the year is covered whole or not at all."""
    if inp.kpi.measure != "count":
        return None
    inc = inp.incidents()
    win = window(inp.dataset, inc) if len(inc) else None
    s, e = fy_bounds(fy)
    if win is None or win[0] > s or win[1] >= e or win[1] < s:
        return None
    return (win[1].year - s.year) * 12 + win[1].month - s.month + 1


def seasonal_share(inp: Inputs, months: int) -> float:
    """Share of a whole year's incidents that fall in its first ``months`` months, pooled
    over every financial year the KPI's sources cover in full (NaN when there is none)."""
    inc = inp.incidents()
    win = window(inp.dataset, inc)
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
            in_year = (d >= s) & (d < pd.Timestamp(s.year + 1, 4, 1))
            whole += int(in_year.sum())
            part += int((in_year & (d < cut)).sum())
        y += 1
    return part / whole if whole else np.nan


# --------------------------------------------------------------------------------------
# count
# --------------------------------------------------------------------------------------
def _count_value(inp: Inputs, fy: str, months: int | None) -> float:
    ds = inp.dataset
    inc = inp.incidents()
    s, _ = fy_bounds(fy)
    stop = pd.Timestamp(s.year + 1, 4, 1) if months is None else s + pd.DateOffset(months=months)
    e = stop - pd.Timedelta(days=1)
    cs, ce = ds.coverage if ds.meta.get("coverage") else (s, e)
    if s < cs or e > ce:
        return np.nan
    if inc.empty:
        # nothing of this kind anywhere in the dataset: the source is absent, not a zero
        return np.nan
    if not covers(ds, inc, s, e):
        # the source does not hold the whole year: no figure, never a padded count
        return np.nan
    return float(((inc["date"] >= s) & (inc["date"] < stop)).sum())


def count_series(inp: Inputs, fy: str, prev_fy: str) -> pd.DataFrame:
    """Monthly counts of a count KPI over the months its sources cover, from the trend
    start (or the previous year, when earlier) to the end of ``fy``."""
    ds, params = inp.dataset, inp.params
    inc = inp.incidents()
    s, e = fy_bounds(prev_fy)[0], fy_bounds(fy)[1]
    lo = min(fy_bounds(params.sia.trend_start)[0], s)
    if ds.meta.get("coverage"):
        lo = max(lo, ds.coverage[0])
    win = window(ds, inc)
    if win is not None:
        lo, e = max(lo, win[0]), min(e, win[1])
    return monthly_counts(inc, start=lo, end=e)


def _count_travel(inp: Inputs, fy: str, prev_fy: str, current: float, previous: float) -> Change:
    r = year_on_year(count_series(inp, fy, prev_fy), fy).iloc[0]
    sig = r.label in ("rose significantly", "fell significantly")
    return _direction(inp.kpi, sig, current > previous, float(r.p_value))


def _count_since(inp: Inputs, fy: str, current: float, baseline: float) -> Change:
    k = inp.kpi
    intr = [(i.start, i.end) for i in inp.params.sia.interruptions]
    if fy_start_year(fy) <= fy_start_year(k.baseline_period):
        return Change("no clear change", 1.0)  # the baseline year itself
    s = count_series(inp, fy, k.baseline_period)
    if k.baseline is None:  # measured from the data: both years' months are in the series
        r = period_change(s, fy, k.baseline_period, interruptions=intr).iloc[0]
        if r.label == "insufficient data":
            return Change("not tested: the baseline year's months are not in the data")
        if r.label == "no clear change":
            return Change("no clear change", float(r.p_value))
        return Change(str(r.label), float(r.p_value))
    start, end = fy_bounds(fy)
    cur = s[(s["month"] >= start) & (s["month"] <= end)]
    phi, rho = 1.0, 0.0
    if len(cur):
        p, rho = seasonal_noise(s, interruptions=[*intr, (cur["month"].min(), cur["month"].max())])
        phi = p if np.isfinite(p) else 1.0
    scale = phi * sum_design_effect(cur["month"], cur["count"], rho)
    r = compare_periods(round(current / scale), round(baseline / scale)).iloc[0]
    if not r.significant:
        return Change("no clear change", float(r.p_value))
    return Change(
        "rose significantly" if current > baseline else "fell significantly", float(r.p_value)
    )


# --------------------------------------------------------------------------------------
# repeat rates
# --------------------------------------------------------------------------------------
def repeat_rate(inp: Inputs, fy: str) -> tuple[float, float, float]:
    """(rate, 95% low, 95% high) in %, NaN when there are no victims (computed once per
    KPI and year)."""
    key = ("repeat_rate", fy)
    if key not in inp.memo:
        inp.memo[key] = _repeat_rate(inp, fy)
    return inp.memo[key]


def _repeat_rate(inp: Inputs, fy: str) -> tuple[float, float, float]:
    inc = inp.incidents()
    if inc.empty or inc["victim_id"].notna().sum() == 0:
        return np.nan, np.nan, np.nan
    r = repeat_victimisation(inc, period=fy).iloc[0]
    key = "incident" if inp.kpi.measure == "repeat_incident_rate" else "victim"
    n = r.n_incidents if key == "incident" else r.n_victims
    if n == 0:
        return np.nan, np.nan, np.nan
    return (
        100 * r[f"{key}_repeat_rate"],
        100 * r[f"{key}_rate_ci_low"],
        100 * r[f"{key}_rate_ci_high"],
    )


def _repeat_travel(inp: Inputs, fy: str, prev_fy: str, current: float, previous: float) -> Change:
    _, clo, chi = repeat_rate(inp, fy)
    _, plo, phi = repeat_rate(inp, prev_fy)
    return _direction(inp.kpi, (clo > phi) or (chi < plo), current > previous, np.nan)


def _repeat_since(inp: Inputs, fy: str, current: float, baseline: float) -> Change:
    _, clo, chi = repeat_rate(inp, fy)
    _, blo, bhi = repeat_rate(inp, inp.kpi.baseline_period)
    if np.isnan(blo):
        return Change("not tested: no baseline year in the data")
    if clo > bhi:
        return Change("rose significantly")
    if chi < blo:
        return Change("fell significantly")
    return Change("no clear change")


# --------------------------------------------------------------------------------------
# survey share
# --------------------------------------------------------------------------------------
def _survey_value(inp: Inputs, fy: str, months: int | None) -> float:
    """The weighted share (%) in wave ``fy``; every wave's share is computed once per KPI
    (a wave's share uses only its own responses)."""
    if "survey_shares" not in inp.memo:
        ws = weighted_share(inp.dataset.survey, inp.kpi.question, survey_name=inp.kpi.survey)
        inp.memo["survey_shares"] = dict(zip(ws["wave"], ws["share"], strict=True))
    share = inp.memo["survey_shares"].get(fy)
    return float(100 * share) if share is not None else np.nan


def _survey_test(inp: Inputs, fy: str, other: str):
    return compare_shares(
        inp.dataset.survey,
        inp.kpi.question,
        current_wave=fy,
        previous_wave=other,
        survey_name=inp.kpi.survey,
    ).iloc[0]


def _survey_travel(inp: Inputs, fy: str, prev_fy: str, current: float, previous: float) -> Change:
    r = _survey_test(inp, fy, prev_fy)
    return _direction(inp.kpi, bool(r.significant), current > previous, float(r.p_value))


def _survey_since(inp: Inputs, fy: str, current: float, baseline: float) -> Change:
    if not (inp.dataset.survey["wave"] == inp.kpi.baseline_period).any():
        return Change("not tested: no baseline wave in the data")
    r = _survey_test(inp, fy, inp.kpi.baseline_period)
    if not r.significant:
        return Change("no clear change", float(r.p_value))
    return Change(
        "rose significantly" if r.difference > 0 else "fell significantly", float(r.p_value)
    )


# --------------------------------------------------------------------------------------
# partner indicator
# --------------------------------------------------------------------------------------
def _indicator_value(inp: Inputs, fy: str, months: int | None) -> float:
    t = inp.dataset.indicators
    v = t[(t["indicator_id"] == inp.kpi.indicator_id) & (t["period"] == fy)]["value"]
    return float(v.iloc[0]) if len(v) else np.nan


def _untested_travel(inp: Inputs, fy: str, prev_fy: str, current: float, previous: float):
    if current == previous:
        return Change("no change")
    good = (current < previous) == (inp.kpi.direction == "lower")
    return Change("improving (not tested)" if good else "worsening (not tested)")


def _untested_since(inp: Inputs, fy: str, current: float, baseline: float) -> Change:
    return Change("not tested: a single published figure")


def _direction(kpi: Kpi, significant: bool, up: bool, p: float) -> Change:
    if not significant:
        return Change("no significant change", p)
    better_if_lower = kpi.direction == "lower"
    return Change("improving" if up != better_if_lower else "worsening", p)


MEASURES: dict[str, Measure] = {
    "count": Measure(_count_value, _count_travel, _count_since),
    "repeat_incident_rate": Measure(
        lambda inp, fy, months: repeat_rate(inp, fy)[0], _repeat_travel, _repeat_since
    ),
    "repeat_victim_rate": Measure(
        lambda inp, fy, months: repeat_rate(inp, fy)[0], _repeat_travel, _repeat_since
    ),
    "survey_share": Measure(_survey_value, _survey_travel, _survey_since),
    "indicator": Measure(_indicator_value, _untested_travel, _untested_since, tested=False),
}
