"""Trend: monthly counts, the seasonal expectation, underlying trend and a projection.

Model: :func:`kcpp_analysis.analysis.trends.fit_trend` (log-linear Poisson / negative binomial with
month-of-year seasonality and the lockdowns as level changes); projection:
:func:`kcpp_analysis.analysis.trends.forecast_total`. The chart draws only what the disclosure gate
publishes (by month, else quarter, else year; see
:meth:`kcpp_analysis.report.gate.DisclosureGate.series`).
"""

from __future__ import annotations

from kcpp_analysis.analysis.trends import (
    MIN_MONTHS,
    MIN_NONZERO_MONTHS,
    forecast_total,
    recent_trend,
)
from kcpp_analysis.core.periods import fy_labels
from kcpp_analysis.presentation import charts, narrative
from kcpp_analysis.report.results import Figure, SectionResult
from kcpp_analysis.report.sections.common import (
    SectionSettings,
    anchor,
    has_incidents,
    no_incidents_sentence,
    table_name,
)

KIND = "trend"
TITLE = "Trend"


class Settings(SectionSettings):
    forecast_months: int
    min_count_for_forecast: int
    recent_months: int


def no_trend_sentence(ctx, pr, series) -> str:
    """Why there is no trend: the data do not cover the SIA year, or hold too few months."""
    title = narrative.lower_first(pr.title)
    have = series[series["count"] > 0]
    if have.empty:
        return no_incidents_sentence(ctx, pr, "there is no trend to show")
    first, last = series["month"].min(), series["month"].max()
    span = f"{first:%B %Y}" if first == last else f"{first:%B %Y} to {last:%B %Y}"
    if not ctx.compared_months(pr)[0]:
        return (
            f"The data for {title} do not cover {ctx.year} (they hold {span}), so there is "
            "no trend to show."
        )
    return (
        f"The data for {title} hold {narrative.plural(len(series), 'month')} ({span}): too few "
        f"for a trend, which needs {MIN_MONTHS} months of which {MIN_NONZERO_MONTHS} with "
        "incidents."
    )


def applies(ctx, pr) -> bool:
    return has_incidents(ctx, pr)


def compute(ctx, pr, settings: Settings) -> SectionResult:
    series = ctx.series(pr)
    fit = ctx.fit(pr)
    if fit.direction == "insufficient data":
        # no chart and no model: say why, in the reader's words
        return SectionResult(
            KIND, pr.id, TITLE, anchor(pr.id, KIND), (no_trend_sentence(ctx, pr, series),)
        )
    gated = ctx.gate.series(series)
    p = ctx.params
    labels = [(i.start, i.end, i.label) for i in p.sia.interruptions]
    trend_txt = narrative.trend_sentence(pr.title, fit)
    peak = narrative.peak_sentence(fit)
    recent = ctx.recent(pr) if settings == ctx.settings(KIND, pr) else None
    if recent is None:
        recent = recent_trend(series, fit, months=settings.recent_months).iloc[0]
    recent_txt = narrative.recent_sentence(pr.title, fit, recent)
    trend_txt = f"{trend_txt} {recent_txt}".strip()
    sentences = [f"{trend_txt} {peak}".strip()]
    title = narrative.trend_title(pr.title, fit, recent)
    cur = float(series.loc[fy_labels(series["month"]) == ctx.year, "count"].sum())
    if cur >= settings.min_count_for_forecast and fit.direction != "insufficient data":
        fc = forecast_total(fit, horizon=settings.forecast_months)
        if len(fc):
            sentences.append(narrative.forecast_sentence(pr.title, fc.iloc[0], cur, ctx.year))
    notes = []
    name = table_name(ctx, pr.id, "trend")
    if gated.freq == "month":
        f = fit.fitted
        data = f[["month", "observed", "expected", "trend", "lower", "upper"]]
        pub = ctx.gate.table(
            data,
            name,
            counts=["observed"],
            column_totals=False,
            formats={c: ",.1f" for c in ("expected", "trend", "lower", "upper")},
            count_secondary=False,
        )
        chart = charts.trend_chart(
            f,
            title=title,
            ylabel="Incidents per month",
            interruptions=labels,
            name=name,
            alt=f"Line chart of monthly {pr.title.lower()} incidents. {trend_txt} {peak}",
        )
    elif gated.freq in ("quarter", "year"):
        data = gated.frame[["label", "value"]].rename(columns={"label": "period", "value": "count"})
        pub = ctx.gate.table(
            data, name, counts=["count"], column_totals=False, count_secondary=False
        )
        chart = charts.period_chart(
            gated.frame,
            title=title,
            ylabel=f"Incidents per {gated.freq}",
            name=name,
            alt=f"Bar chart of {pr.title.lower()} incidents by {gated.freq}. {trend_txt}",
        )
        notes.append(
            f"Drawn by {gated.freq}: {gated.reason}. The model is fitted to the monthly counts."
        )
    else:
        pub, chart = None, None
        notes.append(f"No chart: {gated.reason}.")
    figures = (Figure.from_chart(chart, pub),) if chart is not None else ()
    if fit.family != "none":
        notes.append(
            f"Model: {narrative.capitalise(fit.family)}, {fit.n_months} months; seasonal "
            "pattern and Covid-19 lockdowns allowed for. 95% band: range expected for a month's count."
        )
    return SectionResult(
        KIND,
        pr.id,
        TITLE,
        anchor(pr.id, KIND),
        tuple(sentences),
        (),
        figures,
        tuple(notes),
        signals={"chart": bool(figures)},
    )
