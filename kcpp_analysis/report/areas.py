"""Everything a priority publishes by area, protected as one linked system.

A small count hidden in one table can be worked out from another when both describe the
same incidents by area. So every count a priority publishes by area is a cell of one
:class:`kcpp_analysis.presentation.disclosure.LinkedCells` system, audited together by
integer programming:

- the borough totals, previous and current year (the year-on-year section);
- the four places and every ward, previous and current (places, ward funnel, ward map);
- every neighbourhood (LSOA) of the current year as the map shows it: fewer than
  ``threshold`` incidents (zero included) hatched as one "fewer than 5" class, so the map
  never tells a zero from a small count; any other neighbourhood in a rate class whose
  range, with the LSOA's published Census population, bounds its count (an *interval*
  cell);
- the counts by IMD decile (LSOAs add up to deciles) and the two end-quintile totals the
  rate ratio reveals (the deprivation section);
- the hotspot neighbourhoods' counts and their order by rate (a listed LSOA's rate is at
  least the next one's; an unlisted classed LSOA's rate is at most the last listed one's);
- when last year's report set sits beside this one, the previous year's counts it
  published: what it hid stays hidden, what it showed is known to the attacker.

Wards add up to places; places and the incidents without a location (normally none: the
prepared data hold only located incidents, and the reader is assumed to know how many)
add up to the borough total; LSOAs add up to wards (exactly when the year's months are those the wards
compare, otherwise the wards are at most the LSOA sums). Statistics computed from many
cells at once (correlations, the Gini coefficient, shares rounded to whole percents) are
not linear in the counts and are not treated as relations.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kcpp_analysis.analysis.deprivation import (
    hotspots,
    lsoa_counts_by_year,
    ward_rates,
)
from kcpp_analysis.core.periods import fy_bounds, fy_label, fy_range, previous_fy
from kcpp_analysis.presentation.maps import assign_classes, class_breaks

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------
# hotspots (shared by the concentration and map sections)
# --------------------------------------------------------------------------------------
def first_full_fy(ctx) -> str:
    """First financial year wholly inside the data's coverage."""
    lo, _ = ctx.dataset.coverage
    first = fy_label(lo)
    return first if fy_bounds(first)[0] >= lo else previous_fy(first, -1)


def hotspot_result(ctx, pr):
    """The priority's hotspots for the SIA year with their persistence over the last
    ``hotspots.persistence_years`` years (cached: the map section outlines the same ones).
    A hotspot has at least ``threshold`` incidents (the disclosure threshold).
    Returns ``(HotspotResult, years, need)``: persistent means ``years_in_top >= need``."""

    def build():
        hs_set = ctx.params.sia.hotspots
        if ctx.counts_only(pr):  # one period of aggregated counts: no persistence to judge
            years, hist = [], None
        else:
            years = list(fy_range(first_full_fy(ctx), ctx.year))[-hs_set.persistence_years :]
            hist = lsoa_counts_by_year(ctx.incidents(pr), ctx.dataset.areas, years)
        t = ctx.lsoa(pr, ctx.year)
        hs = hotspots(
            t,
            top=hs_set.top,
            min_population=hs_set.min_population,
            history=hist,
            min_count=ctx.gate.threshold,
        )
        return hs, years, max(1, len(years) - 1)

    return ctx._cached(("hotspots", pr.id), build)


# --------------------------------------------------------------------------------------
# map classes
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MapClasses:
    """How the LSOA map shows each neighbourhood.

    ``table``: ``lsoa_code``, ``count``, ``population``, ``rate``, ``hatched`` (fewer than
    ``threshold`` incidents, zero included) and ``cls`` (0-based rate class; -1 when
    hatched); ``breaks``: the class edges the legend prints."""

    table: pd.DataFrame
    breaks: list[float]


def map_classes(ctx, pr) -> MapClasses:
    """Rate classes of the current year's LSOA map (cached)."""

    def build():
        t = ctx.lsoa(pr, ctx.year)[["lsoa_code", "count", "population", "rate"]].copy()
        t["hatched"] = t["count"] < ctx.gate.threshold
        shown = t["rate"].where(~t["hatched"])
        breaks = class_breaks(shown, ctx.settings("map", pr).n_classes)
        t["cls"] = assign_classes(shown.to_numpy(), breaks)
        return MapClasses(t.reset_index(drop=True), breaks)

    return ctx._cached(("map_classes", pr.id), build)


def class_count_range(
    breaks: list[float], k: int, population: float, threshold: int, per: float = 1000
) -> tuple[float, float]:
    """Whole counts ``n >= threshold`` whose rate ``n / population * per`` falls in class
    ``k`` (0-based) of :func:`kcpp_analysis.presentation.maps.assign_classes`: what a
    reader who knows the LSOA's population learns of its count from its map class. The last
    class is open above.

    >>> class_count_range([0.0, 2.0, 4.0, 9.0], 1, 1500, 5)
    (5, 6)
    >>> class_count_range([0.0, 2.0, 4.0, 9.0], 2, 1500, 5)
    (7, inf)
    """

    def cls_of(n: int) -> int:
        return int(assign_classes([n / population * per], breaks)[0])

    last = len(breaks) - 2
    n = threshold if k == 0 else max(threshold, math.floor(breaks[k] * population / per) - 1)
    while cls_of(n) < k:
        n += 1
    lo = n
    if k >= last:
        return lo, math.inf
    n = max(lo, math.floor(breaks[k + 1] * population / per) - 1)
    while cls_of(n + 1) <= k:
        n += 1
    return lo, n


# --------------------------------------------------------------------------------------
# the linked system
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AreaProtection:
    """Which of a priority's area counts may be shown.

    ``places`` (place, previous, current, population, hidden_previous, hidden_current) and
    ``wards`` (ward_code, ward_name, place, previous, current, population, hidden_...);
    ``totals_hidden``: the borough totals (both years together); ``deciles_hidden``: decile
    number -> hidden; ``ratio_ok``: the quintile rate ratio may be shown;
    ``hotspots_hidden``: LSOA code -> hidden count; ``audits``: integer programs solved;
    ``linked_to_previous_set``: last year's published counts took part."""

    totals_hidden: bool
    places: pd.DataFrame
    wards: pd.DataFrame
    deciles_hidden: dict
    ratio_ok: bool
    hotspots_hidden: dict
    audits: int = 0
    linked_to_previous_set: bool = False


def area_protection(ctx, pr) -> AreaProtection:
    """Protect everything the priority publishes by area as one linked system (cached)."""
    return ctx._cached(("areas", pr.id), lambda: _protect(ctx, pr))


def _tables(ctx, pr):
    """Wards and places (previous and current), and the borough totals, over the months
    the year-on-year comparison uses."""
    areas = ctx.dataset.areas
    cur, prev = ctx.lsoa_compared(pr, "current"), ctx.lsoa_compared(pr, "previous")
    w = (
        ward_rates(cur)
        .drop(columns=["rate", "ci_low", "ci_high"])
        .rename(columns={"count": "current"})
    )
    wp = prev.groupby("ward_code")["count"].sum()
    w["previous"] = w["ward_code"].map(wp).fillna(0).to_numpy()
    pl = pd.DataFrame({"place": ctx.params.sia.places})
    pl["current"] = pl["place"].map(cur.groupby("place")["count"].sum()).fillna(0)
    pl["previous"] = pl["place"].map(prev.groupby("place")["count"].sum()).fillna(0)
    pl["population"] = pl["place"].map(areas.groupby("place")["population"].sum()).fillna(0)
    if ctx.counts_only(pr):  # aggregated counts by area: every count is located
        totals = {"current": float(cur["count"].sum()), "previous": 0.0}
    else:
        s = ctx.series(pr)
        cur_m, prev_m = ctx.compared_months(pr)
        per = s["month"].dt.to_period("M")
        totals = {
            "current": float(s.loc[per.isin(cur_m), "count"].sum()),
            "previous": float(s.loc[per.isin(prev_m), "count"].sum()),
        }
    return w, pl, totals


def _protect(ctx, pr) -> AreaProtection:
    gate = ctx.gate
    T = gate.threshold
    w, pl, totals = _tables(ctx, pr)
    L = gate.linked()
    ids: dict = {}
    for col in ("previous", "current"):
        t = ids[("total", col)] = L.cell(("total", col), totals[col])
        place_ids = []
        for place, v in zip(pl["place"], pl[col], strict=True):
            pid = ids[("place", place, col)] = L.cell(("place", place, col), v)
            place_ids.append(pid)
            wards = w[w["place"] == place]
            wids = []
            for code, v2 in zip(wards["ward_code"], wards[col], strict=True):
                wids.append(L.cell(("ward", code, col), v2))
                ids[("ward", code, col)] = wids[-1]
            if wids:
                L.relate({**{x: 1 for x in wids}, pid: -1})
        # incidents in the total but in no place: the prepared data hold only located
        # incidents, so this is normally 0, and a reader may know it is: treat it as shown
        unloc = ids[("unlocated", col)] = L.cell(
            ("unlocated", col), totals[col] - sum(L.values[i] for i in place_ids)
        )
        L.relate({**{x: 1 for x in place_ids}, unloc: 1, t: -1})

    # the current year's neighbourhoods as the map shows them
    mc = map_classes(ctx, pr)
    lsoa = mc.table.merge(
        ctx.dataset.areas[["lsoa_code", "ward_code", "imd_decile"]], on="lsoa_code", how="left"
    )
    lid: dict[str, int] = {}
    for r in lsoa.itertuples():
        iv = (
            (0.0, float(T - 1))
            if r.hatched
            else class_count_range(mc.breaks, int(r.cls), r.population, T)
        )
        lid[r.lsoa_code] = L.cell(("lsoa", r.lsoa_code), r.count, interval=iv)
    by_ward = lsoa.groupby("ward_code")["lsoa_code"].apply(list)
    sums = lsoa.groupby("ward_code")["count"].sum()
    same = bool((w.set_index("ward_code")["current"] == sums.reindex(w["ward_code"])).all())
    for code in w["ward_code"]:
        terms = {lid[c]: -1 for c in by_ward.get(code, [])}
        L.relate({**terms, ids[("ward", code, "current")]: 1}, "equal" if same else "at_most")

    # deciles and the end quintiles
    dec_ids: dict = {}
    q_ids: list[int] = []
    dep = ctx.settings("deprivation", pr)
    if lsoa["imd_decile"].notna().all() and lsoa["count"].sum() >= dep.min_incidents:
        for d, g in lsoa.groupby("imd_decile"):
            dec_ids[int(d)] = L.cell(("decile", int(d)), g["count"].sum())
            L.relate({**{lid[c]: 1 for c in g["lsoa_code"]}, dec_ids[int(d)]: -1})
        for name, ds in (("q1", (1, 2)), ("q5", (9, 10))):
            if all(d in dec_ids for d in ds):
                q = L.cell(name, sum(L.values[dec_ids[d]] for d in ds))
                L.relate({**{dec_ids[d]: 1 for d in ds}, q: -1})
                q_ids.append(q)

    # hotspots: published counts and their order by rate
    hs, _, _ = hotspot_result(ctx, pr)
    hot_ids: dict[str, int] = {}
    h = hs.lsoas
    for r in h.itertuples():
        hot_ids[r.lsoa_code] = L.cell(("hotspot", r.lsoa_code), r.count)
        L.relate({hot_ids[r.lsoa_code]: 1, lid[r.lsoa_code]: -1})
    pop = lsoa.set_index("lsoa_code")["population"]
    for a, b in zip(h["lsoa_code"].iloc[:-1], h["lsoa_code"].iloc[1:], strict=True):
        # rate(b) <= rate(a): count_b * pop_a - count_a * pop_b <= 0
        L.relate({lid[b]: float(pop[a]), lid[a]: -float(pop[b])}, "at_most")
    if len(h):
        last = h["lsoa_code"].iloc[-1]
        min_pop = ctx.params.sia.hotspots.min_population
        rest = lsoa[
            ~lsoa["hatched"]
            & (lsoa["population"] >= min_pop)
            & ~lsoa["lsoa_code"].isin(h["lsoa_code"])
        ]
        for c in rest["lsoa_code"]:
            L.relate({lid[c]: float(pop[last]), lid[last]: -float(pop[c])}, "at_most")

    locked, force, linked_prev = _previous_set_knowledge(ctx, pr, L, ids, w, pl)
    locked = [*locked, ids[("unlocated", "previous")], ids[("unlocated", "current")]]
    mask = L.protect(locked=locked, force_hidden=force)
    tp, tc = ids[("total", "previous")], ids[("total", "current")]
    if mask[tp] != mask[tc] and L.values[tp] > 0 and L.values[tc] > 0:
        # the year-on-year table shows both totals or neither
        mask = L.protect(
            locked=locked, force_hidden=list(force) + list(np.flatnonzero(mask)) + [tp, tc]
        )
    totals_hidden = bool(mask[tp] or mask[tc])
    for col in ("previous", "current"):
        pl[f"hidden_{col}"] = [bool(mask[ids[("place", p, col)]]) for p in pl["place"]]
        w[f"hidden_{col}"] = [bool(mask[ids[("ward", c, col)]]) for c in w["ward_code"]]
    shown_cells = [i for k, i in ids.items() if k[0] != "unlocated"]
    shown_cells += list(dec_ids.values()) + list(hot_ids.values())
    gate.count_linked(mask, shown_cells)
    return AreaProtection(
        totals_hidden=totals_hidden,
        places=pl,
        wards=w,
        deciles_hidden={d: bool(mask[i]) for d, i in dec_ids.items()},
        ratio_ok=bool(q_ids) and not any(mask[q] for q in q_ids),
        hotspots_hidden={c: bool(mask[i]) for c, i in hot_ids.items()},
        audits=L.audits,
        linked_to_previous_set=linked_prev,
    )


# --------------------------------------------------------------------------------------
# last year's report set
# --------------------------------------------------------------------------------------
def _published(path) -> pd.DataFrame | None:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        log.warning("last year's table %s could not be read (%s); not linked", path, exc)
        return None


def _previous_set_knowledge(ctx, pr, L, ids, w, pl) -> tuple[list[int], list[int], bool]:
    """Cells of this year's "previous" column that last year's set published as its
    "current": what it hid is forced hidden, what it showed is locked (already public).

    Linked only when every count last year's set showed equals this year's value for the
    same cell (the same months, and no revisions); otherwise the two years are different
    figures and a note is logged."""
    from kcpp_analysis.report.sections.common import table_name

    folder = ctx.previous_set / "tables"
    if not folder.is_dir() or ctx.counts_only(pr):
        return [], [], False
    marker = ctx.gate.marker
    known: dict[int, str] = {}
    for kind, key_col, key_of in (
        ("wards", "ward_name", dict(zip(w["ward_name"], w["ward_code"], strict=True))),
        ("places", "place", {p: p for p in pl["place"]}),
    ):
        t = _published(folder / f"{table_name(ctx, pr.id, kind)}.csv")
        if t is None or key_col not in t.columns or "current" not in t.columns:
            continue
        for name, v in zip(t[key_col], t["current"], strict=True):
            if name in key_of:
                kid = (
                    ("ward", key_of[name], "previous")
                    if kind == "wards"
                    else ("place", name, "previous")
                )
                known[ids[kid]] = v
    yoy = _published(folder / f"{table_name(ctx, pr.id, 'yoy')}.csv")
    if yoy is not None and "current" in yoy.columns and len(yoy) == 1:
        known[ids[("total", "previous")]] = yoy["current"].iloc[0]
    if not known:
        return [], [], False
    for k, v in known.items():
        if v != marker:
            try:
                same = abs(float(v) - L.values[k]) < 1e-6
            except ValueError:
                same = False
            if not same:
                log.info(
                    "%s: last year's set shows different figures for %s; the two years are "
                    "not linked",
                    pr.id,
                    ctx.previous,
                )
                return [], [], False
    force = [k for k, v in known.items() if v == marker]
    locked = [k for k, v in known.items() if v != marker]
    return locked, force, True
