"""Ward funnel plot: is any ward's rate unusual for its size?

Each ward's rate per 1,000 residents for the priority in the SIA year (the months the
year-on-year section compares) against the borough rate, with exact Poisson 95% and 99.8%
control limits (:func:`kcpp_analysis.analysis.benchmark.poisson_funnel`, as PHEindicatormethods'
funnel limits; Spiegelhalter 2005). Wards outside the 99.8% limits are named; about 1 ward
in 500 would fall outside by chance alone if every ward shared the borough rate, so with 23
wards a named ward is unlikely to be chance (before allowing for extra-Poisson variation,
which widens real limits). Wards whose counts the places-and-wards protection hides are not
plotted (their position would reveal the count).
"""

from __future__ import annotations

import numpy as np

from kcpp_analysis.analysis.benchmark import funnel_limits, overdispersion_phi, poisson_funnel
from kcpp_analysis.presentation import charts, narrative
from kcpp_analysis.report.areas import area_protection
from kcpp_analysis.report.results import Figure, SectionResult
from kcpp_analysis.report.sections.common import (
    SectionSettings,
    anchor,
    has_incidents,
    no_incidents_sentence,
    table_name,
)

KIND = "funnel"
TITLE = "Ward funnel plot"


class Settings(SectionSettings):
    min_total: int


def applies(ctx, pr) -> bool:
    return has_incidents(ctx, pr)


def compute(ctx, pr, settings: Settings) -> SectionResult:
    a = anchor(pr.id, KIND)
    g = area_protection(ctx, pr)
    w = g.wards.copy()
    total = float(w["current"].sum())
    if total == 0:
        return SectionResult(
            KIND, pr.id, TITLE, a, (no_incidents_sentence(ctx, pr, "there is no funnel plot"),)
        )
    if total < settings.min_total:
        return SectionResult(
            KIND,
            pr.id,
            TITLE,
            a,
            (
                f"Too few {narrative.lower_first(pr.title)} incidents in {ctx.year} (fewer "
                f"than {settings.min_total}) for a ward funnel plot.",
            ),
        )
    rate = 1000 * total / float(w["population"].sum())
    w["rate"] = 1000 * w["current"] / w["population"]
    phi = overdispersion_phi(w["current"], rate * w["population"] / 1000)
    lo95, hi95 = poisson_funnel(w["population"], rate, level=0.95, phi=phi)
    lo998, hi998 = poisson_funnel(w["population"], rate, level=0.998, phi=phi)
    w["outside"] = np.where(
        w["rate"] > hi998,
        "above 99.8%",
        np.where(
            w["rate"] < lo998,
            "below 99.8%",
            np.where((w["rate"] > hi95) | (w["rate"] < lo95), "outside 95%", ""),
        ),
    )
    shown = w[~w["hidden_current"]].copy()
    above = shown.loc[shown["outside"] == "above 99.8%", "ward_name"].tolist()
    below = shown.loc[shown["outside"] == "below 99.8%", "ward_name"].tolist()
    sentence = (
        f"Against the borough rate ({rate:,.1f} per 1,000 residents in {ctx.year}), "
        + (
            f"{narrative.join_list(above)} {'is' if len(above) == 1 else 'are'} above the 99.8% "
            "limit"
            if above
            else "no ward is above the 99.8% limit"
        )
        + (
            f", and {narrative.join_list(below)} {'is' if len(below) == 1 else 'are'} below it"
            if below
            else ""
        )
        + (
            f". Ward rates vary far more than chance alone would produce (overdispersion "
            f"factor {phi:.1f}), so the differences between wards are real; the limits are "
            "widened to that spread, and a named ward is an outlier even among wards."
            if phi > 1
            else "; a ward inside the limits differs from the borough by no more than chance "
            "would produce for its size."
        )
    )
    lim = funnel_limits(w["population"].min() * 0.9, w["population"].max() * 1.05, rate, phi=phi)
    pts = shown.assign(
        highlight=shown["outside"].str.contains("99.8"),
        named=shown["outside"].str.contains("99.8"),
        label=shown["ward_name"],
    )
    hidden_n = int(w["hidden_current"].sum())
    chart = charts.funnel_chart(
        pts[["population", "rate", "highlight", "named", "label"]],
        lim,
        title=f"{pr.title}: ward rates against the borough rate, {ctx.year}",
        alt=(
            f"Funnel plot of {len(shown)} wards' {narrative.lower_first(pr.title)} rates per "
            f"1,000 residents against ward population, with the borough rate and 95% and 99.8% "
            f"limits. {sentence}"
            + (f" {hidden_n} wards with small counts are not plotted." if hidden_n else "")
        ),
        xlabel="Ward residents",
        name=table_name(ctx, pr.id, "ward_funnel"),
    )
    data = ctx.gate.table(
        w[["ward_name", "current", "population", "rate", "outside"]].rename(
            columns={"ward_name": "ward", "current": "count"}
        ),
        table_name(ctx, pr.id, "ward_funnel"),
        counts=["count"],
        mask={
            "count": w["hidden_current"].to_numpy(),
            "rate": w["hidden_current"].to_numpy(),
            "outside": w["hidden_current"].to_numpy(),
        },
        column_totals=False,
    )
    return SectionResult(
        KIND,
        pr.id,
        TITLE,
        a,
        (sentence,),
        (),
        (Figure.from_chart(chart, data),),
        (
            "Exact Poisson control limits around the borough rate (95% dashed, 99.8% dotted)"
            + (
                f", widened for overdispersion: ward counts vary {phi:.1f} times as much as "
                "Poisson counts would (Spiegelhalter 2005, Winsorised z-scores), so only wards "
                "unusual beyond that spread are named."
                if phi > 1
                else "; the wards vary no more than Poisson counts would."
            )
            + (f" {hidden_n} ward(s) with small counts are not plotted." if hidden_n else ""),
        ),
    )
