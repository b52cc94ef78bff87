"""Links between priorities: how the same incidents and victims fall under several
priorities at once.

Each incident of the SIA year is a member of every priority whose selection picks it (the
same selection the priority's own pages use) and of every flag it carries (knife, drugs,
alcohol). :func:`membership` gives that as one boolean column per set; :func:`combinations`
counts each **exact** combination once (an incident that is domestic abuse, VAWG and serious
violence is counted in that combination and in no other), which is what an UpSet chart
draws (Lex et al. 2014) and what de-duplicates the priorities' overlapping totals: the
combinations add up to the number of incidents in at least one set, and each set's total is
the sum of the combinations that contain it. :func:`shared_victims` counts pseudonymised
victims who appear in more than one priority.

Reference: Lex, A., Gehlenborg, N., Strobelt, H., Vuillemot, R. & Pfister, H. (2014). UpSet:
visualization of intersecting sets. *IEEE Transactions on Visualization and Computer
Graphics* 20(12), 1983-1992.
"""

from __future__ import annotations

import itertools

import pandas as pd

from kcpp_analysis.config.params import Params
from kcpp_analysis.core.periods import fy_labels
from kcpp_analysis.data.selection import select_incidents

#: incident flags that cut across priorities (column -> label)
FLAG_SETS = {
    "knife_crime": "Knife or sharp instrument",
    "drug_related": "Drug-related",
    "alcohol_related": "Alcohol-related",
}


def membership(
    incidents: pd.DataFrame, params: Params, priority_ids: list[str], year: str
) -> pd.DataFrame:
    """One row per incident of ``year`` in at least one set: ``incident_id``, ``victim_id``
    and a boolean column per set (each priority's title, then each flag's label)."""
    inc = incidents[fy_labels(incidents["date"]) == year]
    cols = {}
    for pid in priority_ids:
        pr = params.priority(pid)
        if pr.selection is None:
            continue
        ids = select_incidents(inc, pr.selection, params, pr)["incident_id"]
        cols[pr.title] = inc["incident_id"].isin(set(ids)).to_numpy()
    for col, label in FLAG_SETS.items():
        if col in inc.columns:
            cols[label] = inc[col].fillna(False).astype(bool).to_numpy()
    m = pd.DataFrame(cols, index=inc.index)
    keep = m.any(axis=1)
    out = pd.concat(
        [inc.loc[keep, ["incident_id"]], inc.loc[keep].reindex(columns=["victim_id"]), m[keep]],
        axis=1,
    )
    return out.reset_index(drop=True)


def combinations(m: pd.DataFrame) -> pd.DataFrame:
    """Exact combinations of a :func:`membership` frame: one row per combination present,
    ``sets`` (the set names joined with " + "), ``n_sets``, ``count``, sorted by count; and
    ``m.attrs``-free. The counts add up to the number of rows of ``m``.

    >>> m = pd.DataFrame({"incident_id": [1, 2, 3], "victim_id": [None] * 3,
    ...                   "A": [True, True, False], "B": [True, False, True]})
    >>> combinations(m)[["sets", "count"]].values.tolist()
    [['A', 1], ['A + B', 1], ['B', 1]]
    """
    sets = [c for c in m.columns if c not in ("incident_id", "victim_id")]
    if m.empty:
        return pd.DataFrame(columns=["sets", "n_sets", "count", *sets])
    g = m.groupby(sets, sort=False).size().rename("count").reset_index()
    g["sets"] = [" + ".join(s for s in sets if row[s]) for _, row in g.iterrows()]
    g["n_sets"] = g[sets].sum(axis=1).astype(int)
    g = g.sort_values(["count", "sets"], ascending=[False, True]).reset_index(drop=True)
    return g[["sets", "n_sets", "count", *sets]]


def shared_victims(m: pd.DataFrame, priorities: list[str]) -> pd.DataFrame:
    """Pairs of priorities (titles) and the number of distinct victims with incidents in
    both in the year: ``first``, ``second``, ``victims``. Victims are pseudonymised ids
    (never published); only counts leave."""
    v = m.dropna(subset=["victim_id"])
    rows = []
    for a, b in itertools.combinations([p for p in priorities if p in v.columns], 2):
        va = set(v.loc[v[a], "victim_id"])
        vb = set(v.loc[v[b], "victim_id"])
        rows.append({"first": a, "second": b, "victims": len(va & vb)})
    return pd.DataFrame(rows, columns=["first", "second", "victims"])
