"""Ward funnel plot: is any ward's rate unusual for its size?

Each ward's rate per 1,000 residents for the priority in the SIA year (the months the
year-on-year section compares) against the borough rate, with exact Poisson 95% and 99.8%
control limits as PHEindicatormethods computes them
(:func:`kcpp_analysis.analysis.funnel.exact_count_limits`; no lower limit where even a zero
is ordinary), widened by the DerSimonian-Laird between-ward variance when wards vary more
than chance (:func:`kcpp_analysis.analysis.funnel.between_area_variance`). Wards outside the
99.8% limits are named. Measured size (``tests/test_funnel.py``, 23 wards, 400 plots): with
15% real variation between wards and no outlier, 0.07% of wards are named (1.5% of plots);
with none, 0.02%; a ward at twice the rate of the rest is named in 76% of plots. Wards whose
counts the area protection hides are not plotted (their position would reveal the count).
"""

from __future__ import annotations

from kcpp_analysis.analysis.funnel import between_area_variance, classify, funnel_frame
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


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


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
    expected = rate * w["population"] / 1000
    bav = between_area_variance(w["current"], expected)
    w["outside"] = classify(w["current"], expected, bav.tau2)
    ctx.record_test("ward funnel", int((~w["hidden_current"]).sum()))
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
            f". Ward rates vary more than chance alone would produce (a between-ward spread "
            f"of about {bav.tau_pct:.0f}% of the borough rate, p {_p(bav.p_value)}), so the "
            "limits are widened to that spread: a ward outside them stands out even among "
            "wards, and one inside differs from the borough by no more than wards usually do."
            if bav.overdispersed
            else "; a ward inside the limits differs from the borough by no more than chance "
            "would produce for its size."
        )
    )
    lim = funnel_frame(
        w["population"].min() * 0.9, w["population"].max() * 1.05, rate, tau2=bav.tau2
    )
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
            "Exact Poisson control limits around the borough rate (95% dashed, 99.8% dotted), "
            "as PHEindicatormethods computes them"
            + (
                f", widened for the real spread between wards (random-effects model, "
                f"between-ward spread about {bav.tau_pct:.0f}% of the borough rate), so only "
                "wards unusual beyond that spread are named"
                if bav.tau2 > 0
                else "; the wards vary no more than Poisson counts would"
            )
            + ". With 23 wards and no real difference, a ward is named by chance in about 1 "
            "plot in 70."
            + (
                f" {narrative.plural(hidden_n, 'ward')} with small counts "
                f"{'is' if hidden_n == 1 else 'are'} not plotted."
                if hidden_n
                else ""
            ),
        ),
        signals={"outliers": len(above) + len(below)},
    )
