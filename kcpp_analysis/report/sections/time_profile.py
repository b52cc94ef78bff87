"""When: a day-of-week x hour heatmap of the priority's offences in the SIA year.

Offences with a time window (from / to) are apportioned over it (aoristic,
:func:`kcpp_analysis.analysis.volt.aoristic`, Ratcliffe 2002). Test: does the priority's weekly pattern differ
from the borough's pattern for all police-recorded crime and ASB in the same year? A
chi-square goodness-of-fit test over the 168 cells (expected = the borough's share of each
cell times the priority's total; aoristic weights are fractional, so the test is
approximate), with the share of offences in the busiest sixth of the week (28 hours) as an
effect size beside it. Cells with fewer than the disclosure threshold are shown grey.
"""

from __future__ import annotations

import numpy as np

from kcpp_analysis.analysis.volt import DAYS, aoristic, weekly_pattern_test
from kcpp_analysis.core.periods import in_fy
from kcpp_analysis.presentation import charts, narrative
from kcpp_analysis.report.results import Figure, SectionResult
from kcpp_analysis.report.sections.common import (
    SectionSettings,
    anchor,
    gap,
    has,
    has_incidents,
    table_name,
    year_incidents,
)

KIND = "time_profile"
TITLE = "When: day of week and time of day"


class Settings(SectionSettings):
    min_offences: int


def applies(ctx, pr) -> bool:
    return has_incidents(ctx, pr)


def _borough(ctx):
    def build():
        inc = ctx.dataset.incidents
        if "time_from" not in inc.columns:
            return None
        b = inc[
            inc["source"].isin(["police_crime", "police_asb"])
            & in_fy(inc["date"], ctx.year)
            & inc["time_from"].notna()
        ]
        return aoristic(b["time_from"], b["time_to"]) if len(b) else None

    return ctx._cached("borough_time_grid", build)


def hidden_cells(grid: np.ndarray, threshold: int) -> np.ndarray:
    """Cells of the weekly grid to hide: every value from above 0 to below ``threshold``,
    and, when that is a single cell, the smallest other non-zero cell too (the total is
    stated beside the chart, so one hidden cell would be the total minus the rest).

    >>> hidden_cells(np.array([[0.0, 2.0], [7.0, 9.0]]), 5).tolist()
    [[False, True], [True, False]]
    """
    hidden = (grid > 0) & (grid < threshold)
    if hidden.sum() == 1:
        others = np.where(~hidden & (grid > 0), grid, np.inf)
        if np.isfinite(others).any():
            hidden[np.unravel_index(np.argmin(others), grid.shape)] = True
    return hidden


def compute(ctx, pr, settings: Settings) -> SectionResult:
    a = anchor(pr.id, KIND)
    title = narrative.lower_first(pr.title)
    inc = year_incidents(ctx, pr)
    if not has(inc, "time_from"):
        return SectionResult(
            KIND,
            pr.id,
            TITLE,
            a,
            (gap(title, "time of occurrence", "`time_from` and `time_to` (date and time)"),),
        )
    inc = inc[inc["time_from"].notna()]
    if len(inc) < settings.min_offences:
        return SectionResult(
            KIND,
            pr.id,
            TITLE,
            a,
            (f"Too few {title} offences with a time ({len(inc)}) for a weekly profile.",),
        )
    grid = aoristic(inc["time_from"], inc["time_to"])
    hidden = hidden_cells(grid, ctx.gate.threshold)
    n = grid.sum()
    flat = grid.ravel()
    top = np.argsort(flat)[::-1][:3]
    peaks = [f"{DAYS[k // 24]} {k % 24:02d}:00" for k in top if not hidden.ravel()[k]]
    busiest = np.sort(flat)[::-1][:28].sum() / n
    sentences = []
    if peaks:
        sentences.append(
            f"{pr.title} incidents peak on {narrative.join_list(peaks)}; the busiest 28 hours of the "
            f"week (a sixth) hold {narrative.fmt_pct(100 * busiest)} of offences (an even spread "
            "would give 17%)."
        )
    b = _borough(ctx)
    test = ""
    pattern = False
    if b is not None and b.sum() > 0:
        chi2, _, p = weekly_pattern_test(grid, b)
        ctx.record_test("weekly time pattern")
        pattern = bool(p < 0.05)
        if p < 0.05:
            sentences.append(
                f"The weekly pattern differs from the borough's pattern for all crime and ASB "
                f"(chi-square {chi2:,.0f}, p {'< 0.001' if p < 0.001 else f'= {p:.3f}'})."
            )
        else:
            sentences.append(
                "The weekly pattern is no different from the borough's pattern for all crime "
                f"and ASB (chi-square test, p = {p:.2f})."
            )
        test = "Chi-square goodness of fit against the borough's weekly pattern (approximate)."
    chart = charts.heatmap_chart(
        grid,
        title=f"{pr.title}: offences by day and hour, {ctx.year}",
        alt=(
            f"Heatmap of {narrative.fmt_count(n)} {title} offences by day of the week and hour "
            f"in {ctx.year}. " + " ".join(sentences)
        ),
        hidden=hidden,
        name=table_name(ctx, pr.id, "time_heatmap"),
    )
    data = chart.data.copy()
    hours = [c for c in data.columns if c != "day"]
    pub = ctx.gate.table(
        data,
        table_name(ctx, pr.id, "time_heatmap"),
        mask={h: hidden[:, i] for i, h in enumerate(hours)},
        formats={h: ".1f" for h in hours},
    )
    return SectionResult(
        KIND,
        pr.id,
        TITLE,
        a,
        tuple(sentences),
        (),
        (Figure.from_chart(chart, pub),),
        (
            "Offences known only as a window of time are spread evenly over it (aoristic, "
            "Ratcliffe 2002). " + test,
        ),
        signals={"pattern": pattern},
    )
