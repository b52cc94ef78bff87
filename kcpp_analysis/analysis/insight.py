"""Community insight against the data: where concern and recorded data agree, and where
they do not ("dig deeper", as the partnership plan asks).

Insight is the coded engagement feedback of the ``insight`` source (councillor ward
meetings, place-based officer sessions, community engagement; one row per coded topic,
place or ward, channel and number of mentions). Concern for a priority in a place is its
share of that place's mentions. The data signal is the place's rate of the priority's
recorded incidents against the rest of the borough: the rate ratio with an exact interval
from the conditional binomial (the place's share of the incidents against its share of the
residents; Clopper-Pearson, via ``scipy.stats.binomtest``), "higher" or "lower" only when
the 95% interval excludes 1.

A cell is listed to dig deeper when concern is high (at least ``concern_share_pct``% of the
place's mentions) but the data are not higher than the rest of the borough, or when the
data are significantly higher but nobody raises it (below ``quiet_share_pct``% of the
place's mentions). Topics no recorded category covers (speeding, nuisance driving) are
concerns the data here cannot test; the vocabulary names the source that could.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

CONCERN_COLUMNS = ["priority_id", "place", "mentions", "place_mentions", "share_pct", "channels"]
SIGNAL_COLUMNS = [
    "priority_id",
    "place",
    "count",
    "rate_per_1000",
    "rate_ratio",
    "ci_low",
    "ci_high",
    "signal",
]


def concern_by_place(insight: pd.DataFrame, topics: dict, places: list[str]) -> pd.DataFrame:
    """Mentions of each priority by place and their share of the place's mentions."""
    if insight is None or insight.empty:
        return pd.DataFrame(columns=CONCERN_COLUMNS)
    t = insight.assign(priority_id=insight["topic"].map(lambda x: topics[x].priority))
    t = t[t["place"].isin(places)]
    place_total = t.groupby("place")["mentions"].sum()
    g = t.groupby(["priority_id", "place"]).agg(
        mentions=("mentions", "sum"),
        channels=("channel", lambda s: ", ".join(sorted(set(s)))),
    )
    g = g.reset_index()
    g["place_mentions"] = g["place"].map(place_total)
    g["share_pct"] = 100 * g["mentions"] / g["place_mentions"]
    return g[CONCERN_COLUMNS]


def signal_by_place(counts: pd.DataFrame, population: pd.Series) -> pd.DataFrame:
    """Each place against the rest of the borough for each priority.

    ``counts``: ``priority_id``, ``place``, ``count`` (the SIA year); ``population``: residents
    by place. Returns :data:`SIGNAL_COLUMNS`.

    Examples
    --------
    >>> c = pd.DataFrame({"priority_id": "p", "place": ["A", "B"], "count": [60, 40]})
    >>> r = signal_by_place(c, pd.Series({"A": 1000, "B": 1000}))
    >>> float(r.loc[0, "rate_ratio"]), r.loc[0, "signal"]
    (1.5, 'in line')
    """
    rows = []
    pop_total = float(population.sum())
    for pid, g in counts.groupby("priority_id", sort=False):
        total = int(g["count"].sum())
        for r in g.itertuples():
            n_p = float(population.get(r.place, 0))
            n_r = pop_total - n_p
            c_p, c_r = int(r.count), total - int(r.count)
            rr = lo = hi = np.nan
            signal = "too few"
            if total > 0 and n_p > 0 and n_r > 0:
                pi0 = n_p / pop_total
                ci = stats.binomtest(c_p, total, pi0).proportion_ci(0.95, method="exact")
                odds = n_r / n_p
                rr = (c_p / c_r) * odds if c_r > 0 else np.inf
                lo = ci.low / (1 - ci.low) * odds if ci.low < 1 else np.inf
                hi = ci.high / (1 - ci.high) * odds if ci.high < 1 else np.inf
                signal = "higher" if lo > 1 else "lower" if hi < 1 else "in line"
            rows.append(
                {
                    "priority_id": pid,
                    "place": r.place,
                    "count": c_p,
                    "rate_per_1000": 1000 * c_p / n_p if n_p else np.nan,
                    "rate_ratio": rr,
                    "ci_low": lo,
                    "ci_high": hi,
                    "signal": signal,
                }
            )
    return pd.DataFrame(rows, columns=SIGNAL_COLUMNS)


def dig_deeper(
    concern: pd.DataFrame,
    signal: pd.DataFrame,
    *,
    concern_share_pct: float,
    quiet_share_pct: float,
    places: list[str],
) -> pd.DataFrame:
    """Cells where concern and data disagree: ``priority_id``, ``place``, ``kind``
    (``concern, data not higher`` or ``data higher, little concern``), ``share_pct``,
    ``rate_ratio``, ``signal``."""
    if concern.empty:
        return pd.DataFrame(
            columns=["priority_id", "place", "kind", "share_pct", "rate_ratio", "signal"]
        )
    grid = pd.MultiIndex.from_product(
        [sorted(set(concern["priority_id"]) | set(signal["priority_id"])), places],
        names=["priority_id", "place"],
    ).to_frame(index=False)
    m = grid.merge(concern, on=["priority_id", "place"], how="left").merge(
        signal, on=["priority_id", "place"], how="left"
    )
    m["share_pct"] = m["share_pct"].fillna(0.0)
    has_data = m["signal"].notna() & (m["signal"] != "too few")
    worried = (m["share_pct"] >= concern_share_pct) & (~has_data | (m["signal"] != "higher"))
    quiet = has_data & (m["signal"] == "higher") & (m["share_pct"] < quiet_share_pct)
    m["kind"] = np.where(
        worried, "concern, data not higher", np.where(quiet, "data higher, little concern", "")
    )
    out = m[m["kind"] != ""]
    return out[["priority_id", "place", "kind", "share_pct", "rate_ratio", "signal"]].reset_index(
        drop=True
    )


def untestable_concerns(insight: pd.DataFrame, topics: dict) -> pd.DataFrame:
    """Topics raised that no recorded category covers: ``topic``, ``label``, ``priority_id``,
    ``mentions``, ``could_be_tested_by``, most mentioned first."""
    cols = ["topic", "label", "priority_id", "mentions", "could_be_tested_by"]
    if insight is None or insight.empty:
        return pd.DataFrame(columns=cols)
    g = insight.groupby("topic")["mentions"].sum()
    rows = [
        {
            "topic": t,
            "label": topics[t].label,
            "priority_id": topics[t].priority,
            "mentions": int(n),
            "could_be_tested_by": topics[t].could_be_tested_by,
        }
        for t, n in g.items()
        if not topics[t].categories and n > 0
    ]
    return (
        pd.DataFrame(rows, columns=cols)
        .sort_values("mentions", ascending=False)
        .reset_index(drop=True)
    )
