"""Links between priorities, for the overview: the de-duplicated overlap of the linked
priorities and the cross-cutting flags, victims shared between priorities, and the
neighbourhoods that are persistent hotspots for several priorities.

Disclosure: the exact-combination counts, each set's total and the number of incidents in
any set are one linked publication (each total is the sum of the combinations containing
it), protected together by :class:`kcpp_analysis.presentation.disclosure.LinkedCells`; shared
victims are counts of people, suppressed below the threshold. The multi-priority
neighbourhoods come from the published hotspot tables of the theme packs (no new count).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from kcpp_analysis.analysis.overlap import combinations, membership, shared_victims
from kcpp_analysis.presentation import charts, narrative
from kcpp_analysis.report.results import Block, Figure
from kcpp_analysis.report.sections.common import table_name

TOP_COMBINATIONS = 15
#: combinations listed in the table on the page
TOP_TABLE = 8
#: multi-priority hotspots listed on the page (all of them on the map and in the CSV)
HOTSPOTS_SHOWN = 5


def protect_combinations(gate, combos: pd.DataFrame, sets: list[str]):
    """Hidden combinations, hidden set totals and whether the union may be shown."""
    L = gate.linked()
    cid = [L.cell(("combo", i), c) for i, c in enumerate(combos["count"])]
    totals = {}
    for s in sets:
        members = [cid[i] for i in np.flatnonzero(combos[s].to_numpy(dtype=bool))]
        totals[s] = L.cell(("set", s), sum(L.values[k] for k in members))
        L.relate({**{k: 1 for k in members}, totals[s]: -1})
    union = L.cell("union", float(combos["count"].sum()))
    L.relate({**{k: 1 for k in cid}, union: -1})
    mask = L.protect()
    gate.count_linked(mask, [*cid, *totals.values(), union])
    return (
        np.array([mask[k] for k in cid], dtype=bool),
        {s: bool(mask[k]) for s, k in totals.items()},
        not mask[union],
    )


def multi_priority_hotspots(ctx, need_years: int | None = None) -> pd.DataFrame:
    """Neighbourhoods that are persistent hotspots for at least
    ``sia.multi_priority_hotspots`` priorities, read from the published hotspot tables:
    ``lsoa_name``, ``ward_name``, ``place``, ``priorities`` (titles), ``n``."""
    rows = []
    tables = ctx.output_dir / "tables"
    hs = ctx.params.sia.hotspots
    need = need_years or max(1, hs.persistence_years - 1)
    for th in ctx.params.themes.values():
        for pr in th.priorities:
            p = tables / f"{table_name(ctx, pr.id, 'hotspots')}.csv"
            if not p.is_file():
                continue
            t = pd.read_csv(p, dtype=str, keep_default_na=False)
            if "years_in_top" not in t.columns or t.empty:
                continue
            yrs = pd.to_numeric(t["years_in_top"], errors="coerce")
            for r in t[yrs >= need].itertuples():
                rows.append((r.lsoa_name, r.ward_name, r.place, pr.title))
    if not rows:
        return pd.DataFrame(columns=["lsoa_name", "ward_name", "place", "priorities", "n"])
    f = pd.DataFrame(rows, columns=["lsoa_name", "ward_name", "place", "priority"])
    g = (
        f.groupby(["lsoa_name", "ward_name", "place"])["priority"]
        .agg(lambda s: "; ".join(sorted(set(s))))
        .rename("priorities")
        .reset_index()
    )
    g["n"] = g["priorities"].str.count(";") + 1
    g = g[g["n"] >= ctx.params.sia.multi_priority_hotspots]
    return g.sort_values(["n", "place", "lsoa_name"], ascending=[False, True, True]).reset_index(
        drop=True
    )


def links_membership(ctx) -> pd.DataFrame:
    """Which of the linked priorities and flags (``sia.yaml: links``) each incident of the
    year falls under (:func:`kcpp_analysis.analysis.overlap.membership`, cached)."""
    ids = list(ctx.params.sia.links)
    return ctx._cached(
        "links_membership", lambda: membership(ctx.dataset.incidents, ctx.params, ids, ctx.year)
    )


def links_block(ctx) -> Block:
    gate = ctx.gate
    ids = list(ctx.params.sia.links)
    titles = [ctx.params.priority(i).title for i in ids]
    m = links_membership(ctx)
    sets = [c for c in m.columns if c not in ("incident_id", "victim_id")]
    combos = combinations(m)
    tables, figures, sentences = [], [], []
    if len(combos):
        hidden, set_hidden, union_ok = protect_combinations(gate, combos, sets)
        shown = combos.assign(hidden=hidden)
        # every combination is published in the CSV; the page shows the largest in the chart
        # and the table
        pub = gate.table(
            combos[["sets", "n_sets", "count"]],
            "overview_links",
            counts=["count"],
            mask={"count": hidden},
            formats={"n_sets": ".0f"},
            caption=f"Incidents in {ctx.year} by the exact combination of priorities and flags "
            f"they fall under (each incident once): the largest {TOP_TABLE} of "
            f"{len(combos)}, all of them in the CSV tables",
        )
        ctx.write_once(pub)
        tables.append(replace(pub, display=pub.display.head(TOP_TABLE)))
        top = shown[~shown["hidden"]].head(TOP_COMBINATIONS)
        multi = combos[combos["n_sets"] >= 2]
        pri = [t for t in titles if t in sets]
        in_pri = m[pri].any(axis=1).sum() if pri else 0
        several = int((m[pri].sum(axis=1) >= 2).sum()) if pri else 0
        if union_ok and in_pri and several >= gate.threshold:
            sentences.append(
                f"Of the {narrative.fmt_count(in_pri)} incidents of "
                f"{narrative.join_list([narrative.lower_first(p) for p in pri])} "
                f"in {ctx.year}, {narrative.fmt_count(several)} "
                f"({narrative.fmt_pct(100 * several / in_pri)}) fall under two or more of them: "
                "the priorities' totals overlap, and adding them up counts these incidents "
                "more than once."
            )
        sentences.append(
            f"{narrative.plural(len(combos), 'combination')} occur, "
            f"{narrative.fmt_count(len(multi))} of them of two or more sets; the chart shows "
            f"the largest {min(TOP_COMBINATIONS, len(combos))} with their exact counts, and "
            "the CSV tables hold all of them."
        )
        if len(top):
            chart = charts.upset_chart(
                top,
                sets,
                title=f"How {narrative.plural(len(pri), 'priority', 'priorities')} and "
                f"{narrative.plural(len(sets) - len(pri), 'flag')} overlap, {ctx.year}",
                alt=f"UpSet chart of the {len(top)} largest exact combinations of "
                f"{narrative.join_list(sets)}. " + " ".join(sentences),
                name="overview_links_upset",
            )
            figures.append(
                Figure.from_chart(
                    chart,
                    gate.table(
                        top[["sets", "count"]],
                        "overview_links_upset",
                        counts=["count"],
                        mask={"count": np.zeros(len(top), dtype=bool)},
                    ),
                )
            )
        sv = shared_victims(m, pri)
        if len(sv):
            tables.append(
                gate.table(
                    sv,
                    "overview_shared_victims",
                    counts=["victims"],
                    column_totals=False,
                    caption=f"Victims (pseudonymised) with incidents in both priorities, {ctx.year}",
                )
            )
    hot = multi_priority_hotspots(ctx)
    if len(hot):
        shown = HOTSPOTS_SHOWN if len(hot) > HOTSPOTS_SHOWN + 1 else len(hot)
        pub = gate.table(
            hot[["lsoa_name", "ward_name", "place", "n", "priorities"]].rename(
                columns={"n": "n_priorities"}
            ),
            "overview_multi_priority_hotspots",
            formats={"n_priorities": ".0f"},
            caption="Neighbourhoods that are persistent hotspots for "
            f"{ctx.params.sia.multi_priority_hotspots} or more priorities"
            + (
                f": the {shown} with the most priorities of {len(hot)}, all of them on the map "
                "and in the CSV"
                if shown < len(hot)
                else ""
            ),
        )
        tables.append(replace(pub, display=pub.display.head(shown)))
        # the sentence names the neighbourhoods the table shows, no more and no fewer
        named = narrative.join_list(
            [f"{r.lsoa_name} ({r.ward_name}, {r.n})" for r in hot.head(shown).itertuples()]
        )
        sentences.append(
            f"{narrative.plural(len(hot), 'neighbourhood')} "
            f"{'is a persistent hotspot' if len(hot) == 1 else 'are persistent hotspots'} for "
            f"{ctx.params.sia.multi_priority_hotspots} or more priorities"
            + (
                f"; the {shown} with the most (priorities in brackets): {named}; all "
                f"{len(hot)} are on the map."
                if shown < len(hot)
                else f": {named} (priorities in brackets)."
            )
        )
        fig = _hotspot_map(ctx, hot)
        if fig is not None:
            figures.append(fig)
    elif not any((ctx.output_dir / "tables").glob("*_hotspots.csv")):
        sentences.append(
            "The theme packs' hotspot tables are not in this folder yet, so multi-priority "
            "neighbourhoods cannot be listed (the report run builds the themes first)."
        )
    else:
        sentences.append(
            f"No neighbourhood is a persistent hotspot for "
            f"{ctx.params.sia.multi_priority_hotspots} or more priorities."
        )
    return Block(
        "links.html.j2",
        {"sentences": sentences, "sets": sets, "year": ctx.year},
        tables=tuple(tables),
        figures=tuple(figures),
    )


def _hotspot_map(ctx, hot: pd.DataFrame):
    """The multi-priority neighbourhoods on the LSOA map (shaded by how many priorities)."""
    from kcpp_analysis.data.reference import geometries, reference_boundaries
    from kcpp_analysis.presentation.maps import choropleth

    g = reference_boundaries("lsoa21")
    if g is None:
        return None
    geoms = geometries(g)
    a = ctx.dataset.areas.set_index("lsoa_name")
    codes = hot["lsoa_name"].map(a["lsoa_code"])
    values = pd.Series(np.nan, index=list(geoms))
    values.loc[codes[codes.notna()].to_numpy()] = hot.loc[codes.notna(), "n"].to_numpy()
    wards = reference_boundaries("wards")
    chart = choropleth(
        geoms,
        values,
        title="Neighbourhoods that are persistent hotspots for several priorities",
        legend_title="Priorities",
        alt=f"Map of Kirklees' neighbourhoods with the {len(hot)} that are persistent "
        f"hotspots for {ctx.params.sia.multi_priority_hotspots} or more priorities shaded by "
        "how many; ward boundaries drawn.",
        overlay=geometries(wards) if wards is not None else None,
        n_classes=3,
        integer=True,
        name="overview_multi_priority_map",
    )
    return Figure.from_chart(chart, ctx.gate.table(chart.data, "overview_multi_priority_map"))
