"""Statistical process control: an XmR chart of the last months (NHS Making Data Count).

Method: :func:`kcpp_analysis.analysis.trends.spc_xmr` on **seasonally adjusted** values (each month
divided by its seasonal multiplier from the priority's trend model,
:func:`kcpp_analysis.analysis.trends.seasonally_adjust`), with moving-range screening and the rules
as NHSRplotthedots implements them. Drawn only when every month in the window can be
published.
"""

from __future__ import annotations

from kcpp_analysis.analysis.trends import seasonally_adjust, spc_xmr
from kcpp_analysis.presentation import charts
from kcpp_analysis.report.results import Figure, SectionResult
from kcpp_analysis.report.sections.common import SectionSettings, anchor, has_incidents, table_name

KIND = "spc"
TITLE = "Statistical process control"


class Settings(SectionSettings):
    months: int
    min_months: int
    screen_outliers: bool


def applies(ctx, pr) -> bool:
    return has_incidents(ctx, pr)


def compute(ctx, pr, settings: Settings) -> SectionResult:
    recent = ctx.series(pr).tail(settings.months)
    heading = f"{TITLE} (last {settings.months} months)"
    a = anchor(pr.id, KIND)
    if len(recent) < settings.min_months or recent["count"].sum() == 0:
        return SectionResult(
            KIND,
            pr.id,
            heading,
            a,
            (),
            (),
            (),
            (f"No chart: fewer than {settings.min_months} months with data.",),
        )
    gated = ctx.gate.series(recent)
    if gated.freq != "month":
        return SectionResult(
            KIND,
            pr.id,
            heading,
            a,
            (),
            (),
            (),
            (
                f"No chart: some months had fewer than {ctx.gate.threshold} incidents, and an "
                "SPC chart needs every month.",
            ),
        )
    fit = ctx.fit(pr)
    ctx.record_test("SPC latest month", rho=fit.rho)
    adjusted = seasonally_adjust(recent, fit.seasonal_index)
    seasonal = not fit.seasonal_index.empty and fit.seasonal_index["multiplier"].notna().all()
    spc = spc_xmr(
        adjusted,
        improvement=pr.improvement,
        screen_outliers=settings.screen_outliers,
        rho=fit.rho,
    )
    title = {
        "concern": "latest month signals concern",
        "improvement": "latest month signals improvement",
    }.get(spc.latest_variation, "latest month within normal variation")
    name = table_name(ctx, pr.id, "spc")
    pts = spc.points[["month", "value", "mean", "lower", "upper", "variation"]]
    # seasonally adjusted values are model-based, not counts: the gate has already
    # required every raw month in the window to be publishable
    pub = ctx.gate.table(
        pts,
        name,
        formats={"value": ",.1f", "mean": ",.1f", "lower": ",.1f", "upper": ",.1f"},
    )
    ylabel = "Incidents per month" + (" (seasonally adjusted)" if seasonal else "")
    chart = charts.spc_chart(
        spc.points,
        title=f"{pr.title}: {title}",
        ylabel=ylabel,
        alt=f"XmR chart of monthly {pr.title.lower()} incidents. {spc.summary()}",
        name=name,
    )
    note = (
        "Values are seasonally adjusted (each month divided by its seasonal factor from the "
        "trend model), so the usual seasonal peaks are not read as special causes. "
        if seasonal
        else "No seasonal pattern was modelled, so values are as recorded. "
    )
    note += (
        "Limits: mean +/- 2.66 x mean moving range"
        + (", after screening out extreme moving ranges" if settings.screen_outliers else "")
        + (
            f", widened by 1/sqrt(1 - {fit.rho:.2f}) because neighbouring months are "
            f"correlated (lag-1 correlation {fit.rho:.2f}), which makes the moving range "
            "understate the spread"
            if fit.rho > 0
            else ""
        )
        + "."
    )
    return SectionResult(
        KIND,
        pr.id,
        heading,
        a,
        (spc.summary(),),
        (),
        (Figure.from_chart(chart, pub),),
        (note,),
        signals={"signal": bool((spc.points["variation"].tail(6) != "common cause").any())},
    )
