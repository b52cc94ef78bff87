"""Near repeats: the Knox test for burglary and vehicle crime (Ratcliffe's Near Repeat
Calculator, :func:`kcpp_analysis.analysis.nearrepeat.knox`).

Runs on the priority's incidents of the categories in ``settings.categories`` over the SIA
year, when they have day-level dates and coordinates (partner extracts with easting and
northing); police.uk data (month and an anonymised point) are refused with the reason. The
table gives the Knox ratio and Monte Carlo p-value for every distance x time band; the
sentence reads the closest band. Pair counts of 1 to threshold-1 are withheld.
"""

from __future__ import annotations

import numpy as np

from kcpp_analysis.analysis.nearrepeat import knox
from kcpp_analysis.presentation import narrative
from kcpp_analysis.report.results import SectionResult
from kcpp_analysis.report.sections.common import (
    SectionSettings,
    anchor,
    gap,
    table_name,
    year_incidents,
)

KIND = "near_repeat"
TITLE = "Near repeats"


class Settings(SectionSettings):
    categories: str  # comma-separated categories tested (e.g. residential_burglary)
    distance_step: int
    distance_bands: int
    time_step: int
    time_bands: int
    permutations: int
    min_events: int


def _cats(settings) -> list[str]:
    return [c.strip() for c in settings.categories.split(",") if c.strip()]


def applies(ctx, pr) -> bool:
    inc = ctx.incidents(pr)
    raw = str(ctx.params.sia.report.settings.get(KIND, {}).get("categories", ""))
    cats = {c.strip() for c in raw.split(",") if c.strip()}
    return len(inc) > 0 and bool(set(inc["category"].unique()) & cats)


def compute(ctx, pr, settings: Settings) -> SectionResult:
    a = anchor(pr.id, KIND)
    cats = _cats(settings)
    inc = year_incidents(ctx, pr)
    inc = inc[inc["category"].isin(cats)]
    labels = narrative.join_list([ctx.params.categories[c].label.lower() for c in cats])
    if (inc["date_precision"] == "month").all():
        return SectionResult(
            KIND,
            pr.id,
            TITLE,
            a,
            (
                f"No near-repeat test for {labels}: the data give only the month of each "
                "offence and an anonymised location (police.uk), and a near-repeat test needs "
                "the day and the place.",
            ),
        )
    if not {"x", "y"} <= set(inc.columns) or inc["x"].notna().sum() == 0:
        return SectionResult(
            KIND, pr.id, TITLE, a, (gap(labels, "coordinates", "`easting` and `northing`"),)
        )
    ev = inc[inc["x"].notna() & (inc["date_precision"] == "day")]
    if len(ev) < settings.min_events:
        return SectionResult(
            KIND,
            pr.id,
            TITLE,
            a,
            (f"Too few {labels} with coordinates ({len(ev)}) for a near-repeat test.",),
        )
    d_edges = [settings.distance_step * (k + 1) for k in range(settings.distance_bands)]
    t_edges = [settings.time_step * (k + 1) for k in range(settings.time_bands)]
    t = knox(
        ev[["x", "y", "date"]],
        distance_bands=d_edges,
        time_bands=t_edges,
        permutations=settings.permutations,
        seed=20250401,
    )
    ctx.record_test("near-repeat (Knox) cells", len(t))
    first = t.iloc[0]
    p_floor = 1 / (1 + settings.permutations)
    if first.p_value <= 0.05 and first.ratio > 1:
        s = (
            f"{labels.capitalize()} within {d_edges[0]} m and {t_edges[0]} days of another "
            f"were {first.ratio:.1f} times as common as chance would produce (Knox test, "
            f"p {'<=' if first.p_value <= p_floor else '='} {first.p_value:.2f}): a near-repeat "
            "pattern, so homes near a recent burglary are at raised risk for a short time."
        )
    else:
        s = (
            f"No near-repeat pattern: {labels} within {d_edges[0]} m and {t_edges[0]} days of "
            f"another were {first.ratio:.1f} times the number chance would produce (Knox test, "
            f"p = {first.p_value:.2f})."
        )
    sig = t[(t["p_value"] <= 0.05) & (t["ratio"] > 1)]
    pub = ctx.gate.table(
        t[["distance_band", "time_band", "observed", "expected", "ratio", "p_value"]],
        table_name(ctx, pr.id, "near_repeat"),
        counts=["observed"],
        derived={"observed": ["ratio"]},
        column_totals=False,
        formats={"expected": ",.1f", "ratio": ".2f", "p_value": ".2f", "observed": ",.0f"},
        caption=(
            f"Knox test, {labels} in {ctx.year} ({len(ev):,} offences, "
            f"{settings.permutations} permutations)"
        ),
    )
    return SectionResult(
        KIND,
        pr.id,
        TITLE,
        a,
        (s, f"{len(sig)} of {len(t)} distance x time bands show more pairs than chance."),
        (pub,),
        (),
        (
            "Knox test of space-time interaction as in Ratcliffe's Near Repeat Calculator: "
            "pairs of offences counted by distance and days apart, against the same counts "
            f"with the dates shuffled {settings.permutations} times (the smallest possible "
            f"p-value is {p_floor:.2f}). Ratio = observed / expected pairs. "
            f"{int(np.isfinite(t['ratio']).sum())} bands are tested, so some may pass 5% "
            "by chance.",
        ),
        signals={"near_repeat": bool(len(sig))},
    )
