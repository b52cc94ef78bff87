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

from kcpp_analysis.analysis.deprivation import concentration, persistence_by_chance
from kcpp_analysis.core.periods import fy_labels
from kcpp_analysis.presentation import narrative
from kcpp_analysis.report.areas import area_protection, hotspot_result
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


def hotspot_history_totals(ctx, pr, years: list[str]) -> list[int]:
    """The priority's total in each of ``years`` (for the chance baseline of persistence)."""
    inc = ctx.incidents(pr)
    fy = fy_labels(inc["date"])
    return [int((fy == y).sum()) for y in years]


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
            f"{label} incidents are concentrated: the {settings.top_pct}% of neighbourhoods with most "
            f"incidents account for {narrative.fmt_pct(100 * share)} of them (Gini "
            f"{conc.gini:.2f}; {conc.gini_adjusted:.2f} after allowing for chance)."
        )
    else:
        s1 = (
            f"{label} incidents are no more concentrated than chance would produce at this volume "
            f"(Gini {conc.gini:.2f}, {conc.gini_adjusted:.2f} after allowing for chance; "
            f"the {settings.top_pct}% of neighbourhoods with most incidents account for "
            f"{narrative.fmt_pct(100 * share)})."
        )
    per_area = conc.total / max(conc.n_lsoas, 1)
    if per_area < 10:
        s1 += (
            f" With about {per_area:,.1f} incidents per neighbourhood, the adjusted Gini "
            "understates concentration (simulated for a true Gini of 0.50: about 0.18 at 0.3 "
            "incidents per neighbourhood, 0.37 at 3 and 0.45 at 30), so read it as a lower "
            "bound."
        )
    hs_set = ctx.params.sia.hotspots
    hs, years, need = hotspot_result(ctx, pr)
    sentences = [s1]
    if len(hs.lsoas) and years:
        persistent = int((hs.lsoas["years_in_top"] >= need).sum())
        totals = [int(y) for y in hotspot_history_totals(ctx, pr, years)]
        chance_years, chance_persistent = persistence_by_chance(
            t["population"],
            totals,
            top=hs_set.top,
            min_count=ctx.gate.threshold,
            min_population=hs_set.min_population,
        )
        n_hs = len(hs.lsoas)
        rule = f"in the top 10% in at least {need} of the last {len(years)} years"
        if n_hs > 1:
            found = (
                f"Of the {n_hs} neighbourhoods with the highest rates in {ctx.period_label(pr)}, "
                f"{persistent} {'was' if persistent == 1 else 'were'} {rule} (persistent "
                "hotspots)."
            )
        else:
            found = (
                f"The neighbourhood with the highest rate in {ctx.period_label(pr)} "
                f"{'is' if persistent else 'is not'} a persistent hotspot ({rule})."
            )
        sentences.append(
            f"{found} If every neighbourhood had the same risk, the listed "
            f"{'one' if n_hs == 1 else 'ones'} would average {chance_years:.1f} of those years "
            f"in the top 10% and about {chance_persistent:.1f} would look persistent by "
            "chance alone."
        )
    tbl = hs.lsoas[
        [
            "rank",
            "lsoa_code",
            "lsoa_name",
            "ward_name",
            "place",
            "imd_decile",
            "count",
            "rate",
            "years_in_top",
        ]
    ]
    hidden = tbl["lsoa_code"].map(area_protection(ctx, pr).hotspots_hidden).fillna(False)
    tbl = tbl.drop(columns="lsoa_code")
    pub = ctx.gate.table(
        tbl,
        table_name(ctx, pr.id, "hotspots"),
        counts=["count"],
        mask={"count": hidden.to_numpy(dtype=bool), "rate": hidden.to_numpy(dtype=bool)},
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
            f"Hotspots: LSOAs with at least {hs_set.min_population} residents and at least "
            f"{ctx.gate.threshold} incidents, ranked by rate; ties broken by count, then LSOA "
            "code. A hotspot's count is withheld only when it would let a small count "
            "elsewhere be worked out.",
        ),
        signals={"concentrated": bool(conc.gini_adjusted >= settings.min_adjusted_gini)},
    )
