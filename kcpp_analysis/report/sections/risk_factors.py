"""Area-level risk factors: the ecological association of a priority's neighbourhood rates
with deprivation domains and the share of young residents (the Serious Violence Duty's
"causes", stated as association between areas, never as cause).

Method: :func:`kcpp_analysis.analysis.deprivation.risk_factors.factor_associations`
(Spearman's rho over LSOAs; percentile intervals from a bootstrap that resamples whole wards,
so neighbouring LSOAs being alike does not narrow them; Bonferroni-adjusted over the factors).
On simulated data with ward-level noise and no real association, some factor is called
associated for 4% of priorities with these intervals, against 40% with the usual intervals
that treat LSOAs as independent (``tests/test_risk_factors.py``).

Disclosure: only correlations are published (no counts).
"""

from __future__ import annotations

import numpy as np

from kcpp_analysis.analysis.deprivation.risk_factors import (
    BOROUGH_ONLY,
    factor_associations,
    factor_table,
)
from kcpp_analysis.presentation import charts, narrative
from kcpp_analysis.report.results import Figure, SectionResult
from kcpp_analysis.report.sections.common import (
    SectionSettings,
    anchor,
    has_incidents,
    iod_version,
    table_name,
)

KIND = "risk_factors"
TITLE = "Area-level risk factors (association, not cause)"


class Settings(SectionSettings):
    #: the priority that gets the section (the Serious Violence Duty's needs assessment)
    for_priority: str
    min_incidents: int
    #: bootstrap replicates
    reps: int


def applies(ctx, pr) -> bool:
    return pr.id == ctx.settings(KIND, pr).for_priority and has_incidents(ctx, pr)


def compute(ctx, pr, settings: Settings) -> SectionResult:
    a = anchor(pr.id, KIND)
    t = ctx.lsoa(pr, ctx.year)
    areas = ctx.dataset.areas
    if t["count"].sum() < settings.min_incidents:
        return SectionResult(
            KIND,
            pr.id,
            TITLE,
            a,
            (
                f"Too few {narrative.lower_first(pr.title)} incidents in "
                f"{ctx.period_label(pr)} (fewer than {settings.min_incidents}) to set "
                "against area-level factors.",
            ),
        )
    f = factor_table(areas)
    res = factor_associations(t, f, reps=settings.reps)
    if res.empty:
        return SectionResult(
            KIND,
            pr.id,
            TITLE,
            a,
            ("The areas table carries no deprivation domain scores to set against the rates.",),
        )
    ctx.record_test("risk factor association", 1)
    res = res.sort_values("rho", ascending=False, key=np.abs).reset_index(drop=True)
    each = float(res["level"].iloc[0])
    higher = res[res["associated"] == "higher"]
    lower = res[res["associated"] == "lower"]
    who = narrative.lower_first(pr.title)
    sents = []
    if len(higher):
        top = higher.iloc[0]
        sents.append(
            f"Across Kirklees' {int(res['n_lsoas'].iloc[0])} neighbourhoods, {who} rates in "
            f"{ctx.period_label(pr)} are higher where "
            + narrative.join_list([narrative.lower_first(x) for x in higher["label"]])
            + f" {'is' if len(higher) == 1 else 'are'} higher (strongest: "
            f"{narrative.lower_first(top.label)}, rank correlation {top.rho:.2f}, interval "
            f"{top.ci_low:.2f} to {top.ci_high:.2f})."
        )
    if len(lower):
        sents.append(
            "They are lower where "
            + narrative.join_list([narrative.lower_first(x) for x in lower["label"]])
            + f" {'is' if len(lower) == 1 else 'are'} higher."
        )
    if not sents:
        sents.append(
            f"No area-level factor shows a clear association with {who} rates across "
            f"Kirklees' neighbourhoods in {ctx.period_label(pr)}."
        )
    sents.append(
        "This is an association between areas: it does not show that these factors cause "
        "violence, nor that the people affected are those living with them."
    )
    name = table_name(ctx, pr.id, "risk_factors")
    tbl = res[["label", "rho", "ci_low", "ci_high", "associated"]].rename(
        columns={
            "label": "factor",
            "rho": "rank_correlation",
            "ci_low": "interval_low",
            "ci_high": "interval_high",
            "associated": "association",
        }
    )
    tbl["association"] = tbl["association"].replace({"": "no clear association"})
    pub = ctx.gate.table(
        tbl,
        name,
        formats={"rank_correlation": ".2f", "interval_low": ".2f", "interval_high": ".2f"},
        caption=f"Rank correlation of neighbourhood {who} rates with area-level factors, "
        f"{ctx.period_label(pr)} ({100 * each:.1f}% intervals: 95% across all the factors "
        "together)",
    )
    chart = charts.forest_chart(
        res,
        title=f"{pr.title}: association with area-level factors",
        xlabel="Rank correlation with the neighbourhood rate (Spearman)",
        alt=f"Dot and interval chart of the rank correlation of {who} rates with "
        f"{len(res)} area-level factors. " + " ".join(sents[:-1]),
        name=name,
    )
    return SectionResult(
        KIND,
        pr.id,
        TITLE,
        a,
        tuple(sents),
        (pub,),
        (Figure.from_chart(chart),),
        (
            f"Factors: the {iod_version(areas)} domain scores (higher = more deprived; the crime "
            "domain is left out, as it counts crime itself) and the Census 2021 share of "
            "residents aged 16-24. Intervals resample whole wards, because neighbouring "
            "neighbourhoods are alike, and are widened so that the chance of any factor "
            "being called associated when none is stays at about 5%.",
            "Held only as borough figures, so not comparable across neighbourhoods: "
            + narrative.join_list(list(BOROUGH_ONLY))
            + ". Partner data by ward or neighbourhood would let them be tested here.",
        ),
        signals={"associated": bool(len(higher) or len(lower))},
    )
