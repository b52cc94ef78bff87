"""Places and wards: counts, change and rates per 1,000 residents, every ward published.

The borough totals (the year-on-year section), the four places, all wards and every other
count the priority publishes by area are one linked publication
(:func:`kcpp_analysis.report.areas.area_protection`): a ward hidden by primary suppression
could otherwise be recovered as its place's total minus the other wards, or from the
neighbourhood map's classes. Rates and intervals
(exact Poisson, Garwood) are hidden with their count.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from kcpp_analysis.analysis.stats import exact_poisson_ci
from kcpp_analysis.presentation import narrative
from kcpp_analysis.report.areas import area_protection
from kcpp_analysis.report.results import SectionResult
from kcpp_analysis.report.sections.common import (
    SectionSettings,
    anchor,
    denominator,
    has_incidents,
    no_incidents_sentence,
    table_name,
)

KIND = "places"
TITLE = "Places and wards"


class Settings(SectionSettings):
    wards_shown: int
    min_ward_count_for_sentence: int


def applies(ctx, pr) -> bool:
    return has_incidents(ctx, pr)


def compute(ctx, pr, settings: Settings) -> SectionResult:
    g = area_protection(ctx, pr)
    gate = ctx.gate
    if not (g.places[["previous", "current"]].to_numpy().any() or g.wards["current"].any()):
        # all-zero tables say nothing a sentence cannot; an uncovered year is not "zero"
        why = no_incidents_sentence(ctx, pr, "places and wards cannot be compared")
        return SectionResult(KIND, pr.id, TITLE, anchor(pr.id, KIND), (why,), (), (), ())
    pl = g.places.copy()
    pl["change_pct"] = np.where(
        pl["previous"] > 0,
        100 * (pl["current"] - pl["previous"]) / pl["previous"].where(pl["previous"] > 0),
        np.nan,
    )
    pl["rate_per_1000"] = 1000 * pl["current"] / pl["population"].where(pl["population"] > 0)
    hp, hc = pl["hidden_previous"].to_numpy(), pl["hidden_current"].to_numpy()
    places_t = gate.table(
        pl[["place", "previous", "current", "change_pct", "rate_per_1000"]],
        table_name(ctx, pr.id, "places"),
        counts=["previous", "current"],
        mask={"previous": hp, "current": hc, "change_pct": hp | hc, "rate_per_1000": hc},
        formats={"change_pct": "+.0f", "rate_per_1000": ",.1f"},
        caption=f"Incidents by place, {ctx.previous} and {ctx.year}",
    )
    w = g.wards.copy()
    w["rate"] = 1000 * w["current"] / w["population"]
    lo, hi = exact_poisson_ci(w["current"])
    w["ci_low"], w["ci_high"] = 1000 * lo / w["population"], 1000 * hi / w["population"]
    w = w.sort_values(["rate", "ward_name"], ascending=[False, True]).reset_index(drop=True)
    hwp, hwc = w["hidden_previous"].to_numpy(), w["hidden_current"].to_numpy()
    n_w = len(w)
    shown = min(settings.wards_shown, n_w)
    wards_t = gate.table(
        w[["ward_name", "place", "previous", "current", "population", "rate", "ci_low", "ci_high"]],
        table_name(ctx, pr.id, "wards"),
        counts=["previous", "current"],
        mask={"previous": hwp, "current": hwc, "rate": hwc, "ci_low": hwc, "ci_high": hwc},
        formats={"rate": ",.1f", "ci_low": ",.1f", "ci_high": ",.1f", "population": ",.0f"},
        caption=(
            f"All {n_w} wards by rate in {ctx.year}"
            if shown == n_w
            else f"The {shown} wards with the highest rates in {ctx.year} (all {n_w} in the CSV)"
        ),
    )
    # the page may show fewer rows; the CSV (``data``) always holds every ward
    wards_t_page = replace(wards_t, display=wards_t.display.head(shown))
    sentences = []
    vis = pl[~hc & (pl["current"] > 0)]
    if len(vis):
        top = vis.sort_values("rate_per_1000", ascending=False).iloc[0]
        sentences.append(
            f"The highest rate was in {top.place} ({top.rate_per_1000:,.1f} per "
            f"1,000 residents in {ctx.year})."
        )
    else:
        sentences.append(
            f"Too few {narrative.lower_first(pr.title)} incidents were recorded in "
            f"{ctx.year} to compare places."
        )
    k = settings.min_ward_count_for_sentence
    wv = w[~hwc & (w["current"] >= k)]
    if len(wv):
        t = wv.iloc[0]
        sentences.append(
            f"Among wards with at least {k} incidents, {t.ward_name} had the highest rate "
            f"({t.rate:,.1f} per 1,000, 95% CI {t.ci_low:,.1f} to {t.ci_high:,.1f}); "
            "ward rates rest on small numbers and their intervals overlap widely."
        )
    return SectionResult(
        KIND,
        pr.id,
        TITLE,
        anchor(pr.id, KIND),
        tuple(sentences),
        (places_t, wards_t_page),
        (),
        (
            f"Rates per 1,000 {denominator(ctx.dataset.areas)}. Counts "
            f"below {gate.threshold} are shown as {gate.marker}, with other "
            "cells hidden so they cannot be worked out from place or borough "
            "totals.",
        ),
        signals={"published": True},
    )
