"""An independent attacker on published report sets (used by the disclosure tests).

It reads only what a reader has: the CSV tables of one or more published report sets, and
the public geography (each neighbourhood's ward, place, IMD decile and Census population).
For each priority and financial year it writes an integer program whose unknowns are the
neighbourhood counts of that year (and the wards' counts for a previous year), with
everything the sets publish about that year as constraints:

- the neighbourhood map: a hatched LSOA holds 0 to threshold-1 incidents; a coloured one at
  least ``threshold``, with a rate inside its class's printed range;
- wards, places and the borough total (exact, or ">= 1" when shown as ``[c]``: zeros are
  always shown), wards adding up to places and places to the total (no incident lacks a
  place: prepared data hold only located incidents);
- deciles as sums of their LSOAs;
- hotspots: exact counts of the listed LSOAs, each rate at least the next one's, and every
  unlisted coloured LSOA with enough residents at most the last listed rate.

It then minimises and maximises every hidden cell and every hatched neighbourhood and
reports those pinned to a single value from 1 to threshold-1. It shares no code with the
protection it attacks (no ``kcpp_analysis.presentation.disclosure``, no ``report.areas``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

MARKER = "[c]"
BIG = 10**6


def _num(v: str):
    """A published cell: a float, "hidden" for the marker, None for blank."""
    if v == MARKER:
        return "hidden"
    if v in ("", "nan"):
        return None
    return float(v)


@dataclass
class Year:
    """Everything published about one priority in one financial year."""

    lsoa_map: pd.DataFrame | None = None  # code, class, class_range
    wards: dict = field(default_factory=dict)  # ward name -> float | "hidden"
    places: dict = field(default_factory=dict)
    total: object = None
    deciles: dict = field(default_factory=dict)
    hotspots: pd.DataFrame | None = None  # rank, lsoa_name, count


def read_sets(set_dirs: list[Path], prefix: str) -> dict[str, Year]:
    """Per financial year (``2025/26``), what the sets publish for the priority ``prefix``
    (``<theme>_<priority>``). A set's folder name is its year (``2025-26``)."""
    years: dict[str, Year] = {}

    def yr(label):
        return years.setdefault(label, Year())

    for d in set_dirs:
        cur = d.name.replace("-", "/")
        a, b = cur.split("/")
        prev = f"{int(a) - 1}/{int(b) - 1:02d}"
        t = Path(d) / "tables"

        def read(kind, t=t):
            p = t / f"{prefix}_{kind}.csv"
            return pd.read_csv(p, dtype=str, keep_default_na=False) if p.exists() else None

        if (m := read("lsoa_map")) is not None:
            yr(cur).lsoa_map = m
        if (w := read("wards")) is not None:
            for r in w.itertuples():
                yr(cur).wards[r.ward_name] = _num(r.current)
                yr(prev).wards[r.ward_name] = _num(r.previous)
        if (p := read("places")) is not None:
            for r in p.itertuples():
                yr(cur).places[r.place] = _num(r.current)
                yr(prev).places[r.place] = _num(r.previous)
        if (y := read("yoy")) is not None and len(y) == 1:
            yr(cur).total = _num(y["current"].iloc[0])
            yr(prev).total = _num(y["previous"].iloc[0])
        if (dc := read("deciles")) is not None:
            yr(cur).deciles = {int(r.imd_decile): _num(r.count) for r in dc.itertuples()}
        if (h := read("hotspots")) is not None and len(h):
            yr(cur).hotspots = h
    return years


def _class_edges(m: pd.DataFrame) -> dict[int, tuple[float, float]]:
    """Printed rate range of each colour class (``"1.2 to 3.4"``)."""
    out = {}
    for cls, rng in zip(m["class"].astype(int), m["class_range"], strict=True):
        got = re.fullmatch(r"\s*([\d,.]+) to ([\d,.]+)\s*", rng)
        if cls >= 1 and got:
            out[cls] = (float(got[1].replace(",", "")), float(got[2].replace(",", "")))
    return out


def attack_year(y: Year, areas: pd.DataFrame, *, threshold: int = 5, min_population: int = 0):
    """Small counts one year's publications pin down: ``[(cell name, value)]``; also
    returns the number of integer programs solved. Raises if the true data could not
    satisfy the attacker's model (the attack would be meaningless)."""
    a = areas.reset_index(drop=True)
    codes = list(a["lsoa_code"])
    n_l = len(codes)
    col = {c: i for i, c in enumerate(codes)}
    ward_names = sorted(a["ward_name"].unique())
    # unknowns: LSOA counts; ward counts (the LSOAs are unknown for a year without a map);
    # the unlocated rest, which the attacker knows is 0 (prepared data hold only located
    # incidents: the data-quality appendix says how many rows without a location were dropped)
    n = n_l + len(ward_names) + 1
    wcol = {w: n_l + i for i, w in enumerate(ward_names)}
    u = n - 1
    lo, hi = np.zeros(n), np.full(n, float(BIG))
    hi[u] = 0
    rows, rlo, rhi = [], [], []

    def add(terms: dict[int, float], low: float, high: float):
        r = np.zeros(n)
        for k, c in terms.items():
            r[k] += c
        rows.append(r)
        rlo.append(low)
        rhi.append(high)

    def published(terms, v):
        if v is None:
            return
        if v == "hidden":
            add(terms, 1, np.inf)
        else:
            add(terms, v, v)

    targets: list[tuple[str, dict[int, float]]] = []
    has_map = y.lsoa_map is not None
    if has_map:
        m = y.lsoa_map.set_index("code")
        edges = _class_edges(y.lsoa_map)
        top = max(edges) if edges else 0
        pop = a.set_index("lsoa_code")["population"]
        # the legend says what hatching means: "0 to 4 incidents" (zeros hatched too, so a
        # coloured LSOA has at least `threshold`), or "fewer than 5" (zeros coloured)
        labels = set(m.loc[m["class"].astype(int) == 0, "class_range"])
        zeros_hatched = any(x.startswith("0 to") for x in labels)
        for code in codes:
            cls = int(m.loc[code, "class"])
            i = col[code]
            if cls == 0:  # hatched
                lo[i] = 0 if zeros_hatched else 1
                hi[i] = threshold - 1
                targets.append((f"lsoa {code}", {i: 1}))
            elif cls >= 1:
                lo[i] = threshold if zeros_hatched else 0
                e_lo, e_hi = edges[cls]
                p = float(pop[code])
                # the printed edges are the edges used: e_lo < rate <= e_hi (the first class
                # takes everything up to its upper edge, the last everything above its lower)
                if cls > 1:
                    lo[i] = max(lo[i], np.floor(e_lo * p / 1000 + 1e-9) + 1)
                if cls < top:
                    hi[i] = np.floor(e_hi * p / 1000 + 1e-9)
        for w in ward_names:  # a ward is the sum of its LSOAs
            members = a.loc[a["ward_name"] == w, "lsoa_code"]
            add({wcol[w]: 1, **{col[c]: -1 for c in members}}, 0, 0)
    else:
        hi[:n_l] = 0  # no LSOA unknowns this year: only wards
    for w, v in y.wards.items():
        published({wcol[w]: 1}, v)
        if v == "hidden":
            targets.append((f"ward {w}", {wcol[w]: 1}))
    place_of = a.drop_duplicates("ward_name").set_index("ward_name")["place"]
    for p, v in y.places.items():
        published({wcol[w]: 1 for w in ward_names if place_of[w] == p}, v)
        if v == "hidden":
            targets.append((f"place {p}", {wcol[w]: 1 for w in ward_names if place_of[w] == p}))
    if y.total is not None:
        published({**{wcol[w]: 1 for w in ward_names}, u: 1}, y.total)
        if y.total == "hidden":
            targets.append(("total", {**{wcol[w]: 1 for w in ward_names}, u: 1}))
    if has_map:
        for d, v in y.deciles.items():
            terms = {col[c]: 1 for c in a.loc[a["imd_decile"] == d, "lsoa_code"]}
            published(terms, v)
            if v == "hidden":
                targets.append((f"decile {d}", terms))
    if has_map and y.hotspots is not None:
        name_to_code = a.set_index("lsoa_name")["lsoa_code"]
        pop = a.set_index("lsoa_code")["population"]
        h = y.hotspots.sort_values("rank", key=lambda s: s.astype(int))
        hc = [name_to_code[x] for x in h["lsoa_name"]]
        for code, v in zip(hc, h["count"], strict=True):
            published({col[code]: 1}, _num(v))
            if v == MARKER:
                targets.append((f"hotspot {code}", {col[code]: 1}))
        for x, z in zip(hc[:-1], hc[1:], strict=True):  # rate(z) <= rate(x)
            add({col[z]: float(pop[x]), col[x]: -float(pop[z])}, -np.inf, 0)
        last = hc[-1]
        m = y.lsoa_map.set_index("code")
        for code in codes:
            if code in hc or int(m.loc[code, "class"]) < 1 or pop[code] < min_population:
                continue
            add({col[code]: float(pop[last]), col[last]: -float(pop[code])}, -np.inf, 0)
    cons = [LinearConstraint(np.array(rows), rlo, rhi)] if rows else []
    box = Bounds(lo, hi)
    integ = np.ones(n)
    feas = milp(np.zeros(n), constraints=cons, bounds=box, integrality=integ)
    if feas.status != 0:
        raise AssertionError(f"the attacker's model is infeasible: {feas.message}")
    pinned, solves = [], 1
    for name, terms in targets:
        c = np.zeros(n)
        for k, v in terms.items():
            c[k] = v
        r1 = milp(c, constraints=cons, bounds=box, integrality=integ)
        r2 = milp(-c, constraints=cons, bounds=box, integrality=integ)
        solves += 2
        low, high = round(r1.fun), round(-r2.fun)
        if low == high and 1 <= low < threshold:
            pinned.append((name, low))
    return pinned, solves
