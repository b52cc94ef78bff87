"""Place packs: one document per place (Batley & Spen, Dewsbury & Mirfield, Huddersfield,
Rural) for the Community Outcome Groups and town-centre partnerships that work by place.

Each pack sets the place against the borough for every priority, lists its wards and its
hotspots, the neighbourhoods in it that are persistent hotspots for several priorities,
and what community insight says there against the data. **Every number is read from the
set's published tables** (``tables/*_places.csv``, ``*_wards.csv``, ``*_hotspots.csv``,
``*_yoy.csv``), so a place pack shows exactly the figures the theme packs show, already
protected together with them; nothing is counted afresh. KPIs are set for the borough; a
count KPI's share in the place is its priority's row.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from kcpp_analysis.core.paths import place_slug
from kcpp_analysis.presentation import narrative, recommendation
from kcpp_analysis.report.documents import write_document
from kcpp_analysis.report.links import multi_priority_hotspots
from kcpp_analysis.report.results import Block
from kcpp_analysis.report.sections.common import table_name
from kcpp_analysis.report.summary import ordered

#: high-focus priorities whose wards are tabled in a place pack (most first)
WARD_COLUMNS = 5


def _read(ctx, pr_id: str, kind: str) -> pd.DataFrame | None:
    p = ctx.output_dir / "tables" / f"{table_name(ctx, pr_id, kind)}.csv"
    return pd.read_csv(p, dtype=str, keep_default_na=False) if p.is_file() else None


def _num(v) -> float | None:
    try:
        return float(str(v).replace(",", ""))
    except ValueError:
        return None


def _count(v: float | None, published):
    """A published count as a whole number (the page prints it "2,511"), else what was
    published (the marker where it was withheld)."""
    return int(v) if v is not None and v == v and float(v).is_integer() else published


#: the columns of :func:`place_rows` (those starting ``_`` are never published)
PLACE_COLUMNS = [
    "priority",
    "recommended_class",
    "this_year",
    "last_year",
    "change",
    "place_rate",
    "borough_rate",
    "rate_vs_borough",
    "_ratio",
    "_id",
    "_status",
]


def place_rows(ctx, assessments, place: str) -> pd.DataFrame:
    """Every priority with published place figures: the place this year and last, its rate,
    the borough's rate and the ratio (text cells keep the marker where withheld)."""
    marker = ctx.gate.marker
    pop = ctx.dataset.areas.groupby("place")["population"].sum()
    borough_pop = float(pop.sum())
    rows = []
    for a in ordered(assessments):
        pl, yoy = _read(ctx, a.priority_id, "places"), _read(ctx, a.priority_id, "yoy")
        if pl is None or "place" not in pl.columns:
            continue
        r = pl[pl["place"] == place]
        if r.empty:
            continue
        r = r.iloc[0]
        cur, prev = _num(r["current"]), _num(r["previous"])
        b_cur = _num(yoy["current"].iloc[0]) if yoy is not None and len(yoy) else None
        rate = 1000 * cur / float(pop.get(place, np.nan)) if cur is not None else None
        b_rate = 1000 * b_cur / borough_pop if b_cur is not None else None
        rows.append(
            {
                "priority": a.priority,
                "recommended_class": recommendation.status_label(a.final_status),
                "this_year": _count(cur, r["current"]),
                "last_year": _count(prev, r["previous"]),
                "change": (
                    narrative.fmt_pct(100 * (cur - prev) / prev, sign=True)
                    if cur is not None and prev
                    else ""
                ),
                "place_rate": f"{rate:,.1f}" if rate is not None else marker,
                "borough_rate": f"{b_rate:,.1f}" if b_rate is not None else "",
                "rate_vs_borough": f"{rate / b_rate:.2f}" if rate is not None and b_rate else "",
                "_ratio": rate / b_rate if rate is not None and b_rate else np.nan,
                "_id": a.priority_id,
                "_status": a.final_status,
            }
        )
    return pd.DataFrame(rows, columns=PLACE_COLUMNS)


def ward_matrix(ctx, rows: pd.DataFrame, place: str) -> pd.DataFrame:
    """The place's wards by the high-focus priorities' counts this year (published values)."""
    hf = rows[rows["_status"] == "high focus"].head(WARD_COLUMNS)
    out = None
    for r in hf.to_dict("records"):
        w = _read(ctx, r["_id"], "wards")
        if w is None:
            continue
        w = w[w["place"] == place][["ward_name", "current"]]
        w = w.rename(columns={"current": r["priority"]})
        out = w if out is None else out.merge(w, on="ward_name", how="outer")
    return out if out is not None else pd.DataFrame(columns=["ward_name"])


def place_hotspots(ctx, rows: pd.DataFrame, place: str) -> pd.DataFrame:
    """The high-focus priorities' listed hotspots that lie in the place."""
    out = []
    for r in rows[rows["_status"] == "high focus"].to_dict("records"):
        h = _read(ctx, r["_id"], "hotspots")
        if h is None or h.empty:
            continue
        for x in h[h["place"] == place].itertuples():
            out.append(
                {
                    "priority": r["priority"],
                    "lsoa_name": x.lsoa_name,
                    "ward_name": x.ward_name,
                    "rank": x.rank,
                    "years_in_top": x.years_in_top,
                }
            )
    return pd.DataFrame(out, columns=["priority", "lsoa_name", "ward_name", "rank", "years_in_top"])


def place_block(ctx, assessments, place: str, insight: dict | None) -> Block:
    gate = ctx.gate
    areas = ctx.dataset.areas
    wards = sorted(areas.loc[areas["place"] == place, "ward_name"].unique())
    rows = place_rows(ctx, assessments, place)
    shown = rows.dropna(subset=["_ratio"])
    above = shown[shown["_ratio"] >= 1.2].sort_values("_ratio", ascending=False)
    below = shown[shown["_ratio"] <= 0.8].sort_values("_ratio")
    sentences = []
    if len(above):
        sentences.append(
            f"{place}'s rate is at least a fifth above the borough's for "
            + narrative.join_list(
                [
                    f"{narrative.lower_first(r.priority)} ({r.rate_vs_borough} times)"
                    for r in above.itertuples()
                ]
            )
            + "."
        )
    if len(below):
        sentences.append(
            # "It" only after the sentence that names the place
            (
                "It is at least a fifth below for "
                if len(above)
                else f"{place}'s rate is at least a fifth below the borough's for "
            )
            + narrative.join_list(
                [
                    f"{narrative.lower_first(r.priority)} ({r.rate_vs_borough} times)"
                    for r in below.itertuples()
                ]
            )
            + "."
        )
    if rows.empty:
        counts = [
            pr for pr in ctx.params.priorities if pr.selection is not None and ctx.counts_only(pr)
        ]
        if counts:  # located, but for other months than the SIA year: mapped, not totalled
            sentences.append(
                f"No priority has figures by place for {ctx.year}: the sources held count "
                f"{narrative.join_names([pr.title for pr in counts])} by neighbourhood only for {ctx.period_label(counts[0])}, "
                "and the theme packs map those counts rather than total them by place."
            )
        else:
            sentences.append(
                f"No priority has figures by place for {ctx.year}: the sources held locate no "
                f"incident of {ctx.year} in a neighbourhood."
            )
    elif not sentences:
        sentences.append(
            f"{place}'s rates are within a fifth of the borough's for every priority with "
            "figures by place."
        )
    pub = gate.table(
        rows.drop(columns=[c for c in rows.columns if c.startswith("_")]),
        f"place_{place_slug(place)}_priorities",
        formats={"this_year": ",.0f", "last_year": ",.0f"},
        caption=f"Every priority in {place}, {ctx.year}: incidents, rate per 1,000 residents "
        "and the borough's rate (the theme packs' published figures)",
    )
    tables = [pub]
    wm = ward_matrix(ctx, rows, place)
    if len(wm) and wm.shape[1] > 1:
        tables.append(
            gate.table(
                wm.rename(columns={"ward_name": "ward"}),
                f"place_{place_slug(place)}_wards",
                caption=f"{place}'s wards: incidents in {ctx.year} for the high-focus priorities",
            )
        )
    hs = place_hotspots(ctx, rows, place)
    if len(hs):
        tables.append(
            gate.table(
                hs,
                f"place_{place_slug(place)}_hotspots",
                caption=f"Hotspots of the high-focus priorities in {place} (rank in the borough)",
            )
        )
    multi = multi_priority_hotspots(ctx, None)
    multi = multi[multi["place"] == place]
    if len(multi):
        tables.append(
            gate.table(
                multi[["lsoa_name", "ward_name", "n", "priorities"]].rename(
                    columns={"n": "n_priorities"}
                ),
                f"place_{place_slug(place)}_multi",
                formats={"n_priorities": ".0f"},
                caption=f"Neighbourhoods in {place} that are persistent hotspots for several "
                "priorities",
            )
        )
    ins_rows, digs = [], []
    if insight is not None:
        c = insight["concern"]
        c = c[c["place"] == place].sort_values("share_pct", ascending=False)
        title = {pr.id: pr.title for pr in ctx.params.priorities}
        ins_rows = [
            {"priority": title.get(r.priority_id, r.priority_id), "share": f"{r.share_pct:.0f}%"}
            for r in c.head(6).itertuples()
        ]
        d = insight["digs"]
        digs = [
            f"{title.get(r.priority_id, r.priority_id)}: {r.kind}"
            for r in d[d["place"] == place].itertuples()
        ]
    return Block(
        "place_pack.html.j2",
        {
            "doc": ctx.document_control(),
            "synthetic": ctx.synthetic,
            "place": place,
            "wards": wards,
            "ward_list": narrative.join_list(wards),
            "population": narrative.fmt_count(
                areas.loc[areas["place"] == place, "population"].sum()
            ),
            "sentences": sentences,
            "insight": ins_rows,
            "insight_supplied": insight is not None,
            "digs": digs,
            "year": ctx.year,
        },
        tables=tuple(tables),
    )


def write_place_packs(ctx, assessments, insight: dict | None) -> list[Path]:
    """Write ``place_<slug>.html`` for every place of ``params/sia.yaml``."""
    from kcpp_analysis.report.theme import publish

    out = []
    for place in ctx.params.sia.places:
        b = place_block(ctx, assessments, place, insight)
        publish(ctx, b)  # its tables go to tables/ with the rest
        out.append(
            write_document(
                ctx,
                ctx.output_dir / f"place_{place_slug(place)}.html",
                f"{place}: place pack, Strategic Intelligence Assessment {ctx.year}",
                b._repr_html_(),
            )
        )
    return out
