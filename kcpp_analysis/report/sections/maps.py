"""Maps: neighbourhood (LSOA) and ward rates for the SIA year, persistent hotspots outlined.

Drawn by :func:`kcpp_analysis.presentation.maps.choropleth` from the boundaries of the reference extract
(:mod:`kcpp_analysis.data.reference`). Disclosure: a neighbourhood with 1 to threshold-1
incidents is hatched as "fewer than N", never coloured (a class range times its population
would narrow the count); wards follow the places-and-wards protection (a ward hidden there
is hatched here). The maps' data (published as CSV) holds each area's class and class
range, never a count or a rate.
"""

from __future__ import annotations

import logging

import pandas as pd

from kcpp_analysis.core.errors import SourceError
from kcpp_analysis.data.reference import geometries, reference_boundaries
from kcpp_analysis.presentation import narrative
from kcpp_analysis.presentation.maps import choropleth
from kcpp_analysis.report.areas import area_protection, hotspot_result, map_classes
from kcpp_analysis.report.results import Figure, SectionResult
from kcpp_analysis.report.sections.common import (
    SectionSettings,
    anchor,
    has_incidents,
    no_incidents_sentence,
    table_name,
)

log = logging.getLogger(__name__)

KIND = "map"
TITLE = "Maps"


class Settings(SectionSettings):
    n_classes: int
    outline_hotspots: bool


def _geoms(ctx, kind: str):
    def build():
        try:
            g = reference_boundaries(kind)
        except (SourceError, OSError, ValueError) as exc:
            log.warning("no %s boundaries for the maps: %s", kind, exc)
            return None
        if g is None:
            return None
        geoms = geometries(g)
        have = set(ctx.dataset.areas["lsoa_code" if kind == "lsoa21" else "ward_code"])
        # only when the boundaries are the dataset's own areas (2021 LSOAs of this LAD)
        return geoms if set(geoms) == have else None

    return ctx._cached(("geoms", kind), build)


def applies(ctx, pr) -> bool:
    return (has_incidents(ctx, pr) or ctx.counts_only(pr)) and _geoms(ctx, "lsoa21") is not None


def _top_class_wards(data: pd.DataFrame, areas: pd.DataFrame, top_class: int) -> list[str]:
    top = data[data["class"] == top_class].merge(
        areas[["lsoa_code", "ward_name"]], left_on="code", right_on="lsoa_code"
    )
    return top["ward_name"].value_counts().head(3).index.tolist()


def compute(ctx, pr, settings: Settings) -> SectionResult:
    a = anchor(pr.id, KIND)
    gate = ctx.gate
    title = narrative.lower_first(pr.title)
    mc = map_classes(ctx, pr)
    t = mc.table.set_index("lsoa_code")
    if t["count"].sum() == 0:
        return SectionResult(
            KIND, pr.id, TITLE, a, (no_incidents_sentence(ctx, pr, "there is nothing to map"),)
        )
    lsoa_g, ward_g = _geoms(ctx, "lsoa21"), _geoms(ctx, "wards")
    small = t["hatched"]
    area_protection(ctx, pr)  # the map's classes are audited with every other area count
    outline = []
    if settings.outline_hotspots:
        hs, years, need = hotspot_result(ctx, pr)
        if len(hs.lsoas):
            outline = hs.lsoas.loc[hs.lsoas["years_in_top"] >= need, "lsoa_code"].tolist()
    figs, sentences = [], []
    if (~small).any():
        chart = choropleth(
            lsoa_g,
            t["rate"],
            title=f"{pr.title}: rate per 1,000 residents by neighbourhood, {ctx.period_label(pr)}",
            legend_title="Per 1,000 residents",
            alt="",
            suppressed=small,
            threshold=gate.threshold,
            outline=outline,
            overlay=ward_g,
            n_classes=settings.n_classes,
            name=f"{pr.id}_lsoa_map",
            breaks=mc.breaks,
            suppressed_label=f"0 to {gate.threshold - 1} incidents",
        )
        top_cls = int(chart.data["class"].max())
        wards_top = _top_class_wards(chart.data, ctx.dataset.areas, top_cls)
        rng = chart.data.loc[chart.data["class"] == top_cls, "class_range"].iloc[0]
        lo_hi = str(rng).split(" to ")
        if len(lo_hi) == 2 and lo_hi[0] == lo_hi[1]:  # one value: "3.0", not "3.0 to 3.0"
            rng = lo_hi[0]
        alt = (
            f"Map of Kirklees' {len(lsoa_g)} neighbourhoods (LSOAs) shaded by the rate of "
            f"{title} per 1,000 residents in {ctx.period_label(pr)}, in {top_cls} classes. "
            f"The highest class ({rng}) is most common in {narrative.join_list(wards_top)}. "
            f"{int(small.sum())} neighbourhoods with fewer than {gate.threshold} incidents "
            f"(none included) are hatched. {len(outline)} persistent hotspots are outlined. "
            "Ward boundaries are drawn."
        )
        chart = type(chart)(chart.figure, alt, chart.data, chart.name)
        figs.append(
            Figure.from_chart(chart, gate.table(chart.data, table_name(ctx, pr.id, "lsoa_map")))
        )
        sentences.append(
            f"The darkest neighbourhoods ({rng} per 1,000 residents) are most common in "
            f"{narrative.join_list(wards_top)}."
        )
    else:
        sentences.append(
            f"Every neighbourhood had fewer than {gate.threshold} {title} incidents in "
            f"{ctx.period_label(pr)}, so no neighbourhood map is drawn."
        )
    if ward_g is not None:
        g = area_protection(ctx, pr)
        w = g.wards.set_index("ward_code")
        if (~w["hidden_current"]).any():
            figs.append(_ward_map(ctx, pr, settings, ward_g, w, title))
    return SectionResult(
        KIND,
        pr.id,
        TITLE,
        a,
        tuple(sentences),
        (),
        tuple(figs),
        (
            f"Classes are quantiles of the published rates ({settings.n_classes} classes, "
            f"breaks in the legend). Neighbourhoods with fewer than {gate.threshold} "
            "incidents, none included, are hatched as one class, so the map never tells a "
            "neighbourhood with none from one with a few. Wards whose counts are withheld "
            "are hatched. Rates per 1,000 Census 2021 usual residents. Outlined: persistent "
            "hotspots (see Concentration and hotspots). North is up.",
        ),
        signals={"neighbourhood_map": bool((~small).any())},
    )


def _ward_map(ctx, pr, settings, ward_g, w: pd.DataFrame, title: str) -> Figure:
    gate = ctx.gate
    rate = 1000 * w["current"] / w["population"]
    wchart = choropleth(
        ward_g,
        rate,
        title=f"{pr.title}: rate per 1,000 residents by ward, {ctx.period_label(pr)}",
        legend_title="Per 1,000 residents",
        alt="",
        suppressed=w["hidden_current"],
        threshold=gate.threshold,
        n_classes=settings.n_classes,
        name=f"{pr.id}_ward_map",
        suppressed_label="count withheld",
    )
    wtop = wchart.data[wchart.data["class"] == wchart.data["class"].max()]
    names = w.loc[wtop["code"], "ward_name"].tolist()
    walt = (
        f"Map of Kirklees' {len(ward_g)} wards shaded by the rate of {title} per 1,000 "
        f"residents in {ctx.period_label(pr)}; the highest class "
        f"({wtop['class_range'].iloc[0]}) holds {narrative.join_list(names)}."
        + (
            f" {int(w['hidden_current'].sum())} wards are hatched (counts withheld)."
            if w["hidden_current"].any()
            else ""
        )
    )
    wchart = type(wchart)(wchart.figure, walt, wchart.data, wchart.name)
    return Figure.from_chart(wchart, gate.table(wchart.data, table_name(ctx, pr.id, "ward_map")))
