"""Concentration and hotspots: how unevenly incidents fall across neighbourhoods.

Methods (:mod:`kcpp_analysis.analysis.deprivation`): Gini coefficient of LSOA counts, and the Gini
adjusted for the concentration a random (multinomial) allocation of the same total would
produce (Mohler et al. 2019); share of incidents in the top x% of LSOAs; hotspots = the
LSOAs with the highest rates (at least ``min_population`` residents, at least one
incident), with persistence = years in the top 10% over the last financial years.
Incidents are called "concentrated" only when the chance-adjusted Gini reaches
``min_adjusted_gini`` (``params/sia.yaml``).
"""

from __future__ import annotations

from kcpp_analysis.analysis.deprivation import concentration, hotspots, lsoa_counts_by_year
from kcpp_analysis.core.periods import fy_bounds, fy_label, fy_range, previous_fy
from kcpp_analysis.presentation import narrative
from kcpp_analysis.report.results import SectionResult
from kcpp_analysis.report.sections.common import (
    SectionSettings,
    anchor,
    has_incidents,
    no_incidents_sentence,
    table_name,
)

KIND = "concentration"
TITLE = "Concentration and hotspots"


class Settings(SectionSettings):
    top_pct: int
    min_adjusted_gini: float


def applies(ctx, pr) -> bool:
    return has_incidents(ctx, pr) or ctx.counts_only(pr)


def first_full_fy(ctx) -> str:
    """First financial year wholly inside the data's coverage."""
    lo, _ = ctx.dataset.coverage
    first = fy_label(lo)
    return first if fy_bounds(first)[0] >= lo else previous_fy(first, -1)


def hotspot_result(ctx, pr):
    """The priority's hotspots for the SIA year with their persistence over the last
    ``hotspots.persistence_years`` years (cached: the map section outlines the same ones).
    Returns ``(HotspotResult, years, need)``: persistent means ``years_in_top >= need``."""

    def build():
        hs_set = ctx.params.sia.hotspots
        if ctx.counts_only(pr):  # one period of aggregated counts: no persistence to judge
            years, hist = [], None
        else:
            years = list(fy_range(first_full_fy(ctx), ctx.year))[-hs_set.persistence_years :]
            hist = lsoa_counts_by_year(ctx.incidents(pr), ctx.dataset.areas, years)
        t = ctx.lsoa(pr, ctx.year)
        hs = hotspots(t, top=hs_set.top, min_population=hs_set.min_population, history=hist)
        return hs, years, max(1, len(years) - 1)

    return ctx._cached(("hotspots", pr.id), build)


def compute(ctx, pr, settings: Settings) -> SectionResult:
    a = anchor(pr.id, KIND)
    t = ctx.lsoa(pr, ctx.year)
    if t["count"].sum() == 0:
        return SectionResult(
            KIND,
            pr.id,
            TITLE,
            a,
            (no_incidents_sentence(ctx, pr, "there is nothing to measure concentration on"),),
        )
    conc = concentration(t)
    share = conc.top_shares.set_index("top_pct")["share"].get(settings.top_pct)
    label = pr.title
    if conc.gini_adjusted >= settings.min_adjusted_gini:
        s1 = (
            f"{label} is concentrated: the {settings.top_pct}% of neighbourhoods with most "
            f"incidents account for {narrative.fmt_pct(100 * share)} of them (Gini "
            f"{conc.gini:.2f}; {conc.gini_adjusted:.2f} after allowing for chance)."
        )
    else:
        s1 = (
            f"{label} is no more concentrated than chance would produce at this volume "
            f"(Gini {conc.gini:.2f}, {conc.gini_adjusted:.2f} after allowing for chance; "
            f"the {settings.top_pct}% of neighbourhoods with most incidents account for "
            f"{narrative.fmt_pct(100 * share)})."
        )
    hs_set = ctx.params.sia.hotspots
    hs, years, need = hotspot_result(ctx, pr)
    sentences = [s1]
    if len(hs.lsoas) and years:
        persistent = int((hs.lsoas["years_in_top"] >= need).sum())
        sentences.append(
            f"Of the {len(hs.lsoas)} neighbourhoods with the highest rates in {ctx.period_label(pr)}, "
            f"{persistent} were in the top 10% in at least {need} of the last {len(years)} "
            "years (persistent hotspots)."
        )
    tbl = hs.lsoas[
        ["rank", "lsoa_name", "ward_name", "place", "imd_decile", "count", "rate", "years_in_top"]
    ]
    pub = ctx.gate.table(
        tbl,
        table_name(ctx, pr.id, "hotspots"),
        counts=["count"],
        derived={"count": ["rate"]},
        column_totals=False,
        formats={"rate": ",.1f", "rank": ".0f", "imd_decile": ".0f", "years_in_top": ".0f"},
        caption=f"Neighbourhoods (LSOAs) with the highest rates, {ctx.period_label(pr)}",
    )
    return SectionResult(
        KIND,
        pr.id,
        TITLE,
        a,
        tuple(sentences),
        (pub,),
        (),
        (
            f"Hotspots: LSOAs with at least {hs_set.min_population} residents and at least one "
            "incident, ranked by rate; ties broken by count, then LSOA code.",
        ),
    )
