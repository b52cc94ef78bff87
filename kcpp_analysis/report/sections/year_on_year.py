"""Year on year: this financial year against the previous one, allowing for overdispersion.

Test: :func:`kcpp_analysis.analysis.trends.year_on_year` (quasi-Poisson Wald test whose variance
uses the dispersion of the priority's seasonal trend model, never below Poisson; exact
conditional test on effective counts for small numbers; like-for-like months when the year
is incomplete). The same result feeds the rating. Counts are the borough totals,
linked to the places and wards tables: both counts, the change and the ratio are hidden
together whenever either count, or the place/ward protection, hides one of them.
"""

from __future__ import annotations

import pandas as pd

from kcpp_analysis.analysis.trends import year_on_year
from kcpp_analysis.presentation import narrative
from kcpp_analysis.report.areas import area_protection
from kcpp_analysis.report.results import SectionResult
from kcpp_analysis.report.sections.common import SectionSettings, anchor, has_incidents, table_name

KIND = "year_on_year"
TITLE = "Change on the previous year"


class Settings(SectionSettings):
    alpha: float


def applies(ctx, pr) -> bool:
    return has_incidents(ctx, pr)


def compute(ctx, pr, settings: Settings) -> SectionResult:
    # the report's own test (shared with the rating) unless other settings are asked for
    c = ctx.yoy(pr) if settings == ctx.settings(KIND, pr) else None
    if c is None:
        c = year_on_year(ctx.series(pr), ctx.year, fit=ctx.fit(pr), alpha=settings.alpha).iloc[0]
    cur, prev = float(c.current), float(c.previous)
    hidden = area_protection(ctx, pr).totals_hidden or ctx.gate.pair_hidden(cur, prev)
    row = pd.DataFrame(
        [
            {
                "measure": f"{pr.title}, {c.period}",
                "previous": prev,
                "current": cur,
                "change_pct": c.change_pct,
                "rate_ratio": c.rate_ratio,
                "ci_low": c.ci_low,
                "ci_high": c.ci_high,
                "p_value": c.p_value,
            }
        ]
    )
    derived = ["change_pct", "rate_ratio", "ci_low", "ci_high", "p_value"]
    mask = {"previous": [hidden], "current": [hidden], **{d: [hidden] for d in derived}}
    t = ctx.gate.table(
        row,
        table_name(ctx, pr.id, "yoy"),
        counts=["previous", "current"],
        mask=mask,
        formats={
            "change_pct": "+.1f",
            "rate_ratio": ".2f",
            "ci_low": ".2f",
            "ci_high": ".2f",
            "p_value": ".3f",
        },
    )
    if hidden:
        sentence = (
            f"There were too few {narrative.lower_first(pr.title)} incidents to compare "
            f"{ctx.year} with {ctx.previous} without disclosing a small number (fewer "
            f"than {ctx.gate.threshold} in a year)."
        )
    elif c.label == "insufficient data":
        sentence = (
            f"{pr.title}: the data do not cover the same months of {ctx.year} and "
            f"{ctx.previous}, so no change is reported."
        )
    else:
        sentence = narrative.change_sentence(
            pr.title, cur, prev, test_label=c.label, period=c.period
        )
    disp = (
        f" The monthly counts vary {c.dispersion:.1f} times as much as Poisson counts would, "
        "and the test allows for that."
        if pd.notna(c.dispersion) and c.dispersion > 1.05
        else ""
    )
    if pd.notna(c.get("design_effect")) and c.design_effect > 1.05:
        disp += (
            f" Busy months tend to follow busy months (month-to-month correlation "
            f"{c.rho:.2f}), so a year's total varies {c.design_effect:.1f} times as much again, "
            "and the test allows for that too."
        )
    method = c.method or "none (insufficient data)"
    # with no comparison there is nothing to tabulate: the sentence says why (a row of
    # zeros for months the source does not cover would read as "no incidents")
    tables = () if c.label == "insufficient data" and not hidden else (t,)
    return SectionResult(
        KIND,
        pr.id,
        TITLE,
        anchor(pr.id, KIND),
        (sentence,),
        tables,
        (),
        (f"Test: {method}; 'significant' means p < {settings.alpha:g}.{disp}",),
        signals={
            "significant": c.label in ("rose significantly", "fell significantly") and not hidden
        },
    )
