"""Deprivation: rates by IMD decile, the gradient and inequality indices.

Methods (each documented with its reference in :mod:`kcpp_analysis.analysis.deprivation`): exact
Poisson intervals per decile; Spearman correlation of LSOA rates with the IMD score
(Fisher-z interval); rate ratio of the most to the least deprived fifth (Poisson/NB with a
population offset); slope and relative index of inequality (PHE method); the correlation
with an IMD recomputed without its crime domain.

Disclosure: the ten decile counts and the two end-quintile totals that the published rate
ratio and its interval reveal are cells of the priority's one area system
(:func:`kcpp_analysis.report.areas.area_protection`: neighbourhoods add up to deciles, and
to wards, places and the borough); the ratio is withheld when an end quintile's total must
be hidden, and a hidden decile gets no bar on the chart.
"""

from __future__ import annotations

import pandas as pd

from kcpp_analysis.analysis.deprivation import (
    deprivation_correlation,
    imd_without_crime,
    inequality_indices,
    rate_ratio,
    rates_by_decile,
)
from kcpp_analysis.presentation import charts, narrative
from kcpp_analysis.report.areas import area_protection
from kcpp_analysis.report.results import Figure, SectionResult
from kcpp_analysis.report.sections.common import (
    SectionSettings,
    anchor,
    denominator,
    has_incidents,
    iod_version,
    no_incidents_sentence,
    table_name,
)

KIND = "deprivation"
TITLE = "Deprivation"


class Settings(SectionSettings):
    min_incidents: int


def applies(ctx, pr) -> bool:
    return has_incidents(ctx, pr) or ctx.counts_only(pr)


def compute(ctx, pr, settings: Settings) -> SectionResult:
    a = anchor(pr.id, KIND)
    t = ctx.lsoa(pr, ctx.year)
    if t["count"].sum() < settings.min_incidents:
        return SectionResult(
            KIND,
            pr.id,
            TITLE,
            a,
            (
                no_incidents_sentence(ctx, pr, "there is nothing to analyse by deprivation")
                if t["count"].sum() == 0
                else (
                    f"Too few {narrative.lower_first(pr.title)} incidents in {ctx.period_label(pr)} "
                    f"(fewer than {settings.min_incidents}) to analyse by deprivation."
                ),
            ),
        )
    areas = ctx.dataset.areas
    dec = rates_by_decile(t)
    prot = area_protection(ctx, pr)
    hidden = dec["quantile"].map(prot.deciles_hidden).fillna(False).astype(bool).to_numpy()
    ratio_ok = prot.ratio_ok
    rr = rate_ratio(t).iloc[0] if ratio_ok else None
    corr = deprivation_correlation(t).iloc[0]
    gradient = bool(
        (rr is not None and pd.notna(rr.ci_low) and (rr.ci_low > 1 or rr.ci_high < 1))
        or (pd.notna(corr.ci_low) and (corr.ci_low > 0 or corr.ci_high < 0))
    )
    ctx.record_test("deprivation gradient", 2 if rr is not None else 1)
    ii = inequality_indices(t).set_index("index")
    sent = narrative.gradient_sentence(pr.title, rr, corr)
    sii = ii.loc["SII", "value"]
    if pd.notna(sii):
        sent += (
            f" The slope index of inequality is {sii:,.1f} per 1,000 residents (95% CI "
            f"{ii.loc['SII', 'ci_low']:,.1f} to {ii.loc['SII', 'ci_high']:,.1f})"
        )
        rii = ii.loc["RII", "value"]
        sent += (
            f"; the modelled rate at the most deprived end is {rii:.1f} times that at the "
            "least deprived end (relative index of inequality)."
            if pd.notna(rii)
            else "."
        )
    if {"income_score", "crime_score"}.issubset(areas.columns) and areas[
        "income_score"
    ].notna().all():
        nc = imd_without_crime(areas).merge(t[["lsoa_code", "rate"]], on="lsoa_code")
        c2 = deprivation_correlation(nc, x="imd_score_no_crime").iloc[0]
        if pd.notna(c2.rho):
            held = c2.ci_low > 0 if pd.notna(c2.ci_low) else False
            sent += (
                f" Against an IMD recomputed without its crime domain the correlation is "
                f"{c2.rho:.2f} (95% CI {c2.ci_low:.2f} to {c2.ci_high:.2f})"
                + (
                    ", so the gradient does not rest on crime being part of the IMD."
                    if held
                    else "."
                )
            )
    title = (
        f"{pr.title}: {rr.rate_ratio:.1f} times higher in the most deprived fifth"
        if rr is not None and pd.notna(rr.rate_ratio) and rr.ci_low > 1
        else f"{pr.title}: rate by deprivation decile"
    )
    name = table_name(ctx, pr.id, "deciles")
    tbl = dec[["quantile", "n_lsoas", "count", "population", "rate", "ci_low", "ci_high"]].rename(
        columns={"quantile": "imd_decile"}
    )
    pub = ctx.gate.table(
        tbl,
        name,
        counts=["count"],
        mask={"count": hidden, "rate": hidden, "ci_low": hidden, "ci_high": hidden},
        formats={"rate": ",.1f", "ci_low": ",.1f", "ci_high": ",.1f", "population": ",.0f"},
        caption=f"Incidents and rates by IMD decile, {ctx.period_label(pr)}",
    )
    chart = charts.decile_chart(
        dec,
        title=title,
        ylabel=f"Incidents per 1,000 residents, {ctx.period_label(pr)}",
        name=name,
        alt=f"Bar chart of {pr.title.lower()} rates by IMD decile with 95% intervals. {sent}",
        suppressed=hidden,
        marker=ctx.gate.marker,
    )
    return SectionResult(
        KIND,
        pr.id,
        TITLE,
        a,
        (sent,),
        (pub,),
        (Figure.from_chart(chart),),
        (
            f"Deciles of the national Index of Multiple Deprivation ({iod_version(areas)}; "
            "1 = most deprived 10% of neighbourhoods in England). Rates per 1,000 "
            f"{denominator(areas)}.",
        ),
        signals={"gradient": gradient},
    )
