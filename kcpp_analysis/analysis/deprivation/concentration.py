"""How concentrated incidents are across neighbourhoods, and the persistent hotspots."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kcpp_analysis.analysis.deprivation.rates import ward_rates
from kcpp_analysis.core.frames import require_columns


@dataclass(frozen=True)
class ConcentrationResult:
    """Result of :func:`concentration`.

    ``lorenz``: ``cum_share_lsoas``, ``cum_share_incidents`` (from 0,0 to 1,1, LSOAs in
    ascending order of the value). ``top_shares``: ``top_pct``, ``n_lsoas``, ``share``.
    """

    gini: float
    gini_chance: float
    gini_adjusted: float
    total: float
    n_lsoas: int
    lorenz: pd.DataFrame
    top_shares: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        row = {
            "gini": self.gini,
            "gini_chance": self.gini_chance,
            "gini_adjusted": self.gini_adjusted,
            "total": self.total,
            "n_lsoas": self.n_lsoas,
        }
        for r in self.top_shares.itertuples():
            row[f"share_top_{r.top_pct:g}pct"] = r.share
        return pd.DataFrame([row])

    def summary(self) -> str:
        t10 = self.top_shares.set_index("top_pct")["share"].get(10, np.nan)
        return (
            f"The top 10% of LSOAs hold {100 * t10:.0f}% of incidents; Gini {self.gini:.2f} "
            f"(chance alone {self.gini_chance:.2f}; adjusted {self.gini_adjusted:.2f})."
        )


def gini(values: Sequence[float]) -> float:
    """Gini coefficient of non-negative values from the Lorenz curve (trapezium rule).

    G = 1 - sum_k (X_k - X_{k-1}) (Y_k + Y_{k-1}), LSOAs sorted ascending. All values equal
    gives 0; everything in one of n units gives (n - 1) / n.

    >>> gini([5, 5, 5, 5]), gini([0, 0, 0, 8])
    (0.0, 0.75)
    """
    v = np.sort(np.asarray(values, dtype=float))
    if len(v) == 0 or v.sum() == 0:
        return float("nan")
    y = np.concatenate([[0.0], np.cumsum(v) / v.sum()])
    return float(1 - ((y[1:] + y[:-1]) / len(v)).sum())


def persistence_by_chance(
    population,
    totals_by_year,
    *,
    top: int = 10,
    top_share: float = 0.10,
    min_count: int = 1,
    min_population: float = 0,
    n_sim: int = 200,
    seed: int = 1,
) -> tuple[float, float]:
    """What hotspot persistence looks like by chance alone: with every neighbourhood at the
    same risk per resident, each year's total (``totals_by_year``, the last year last) is
    shared out at random (multinomial, proportional to ``population``); the ``top`` LSOAs
    by rate in the last year (at least ``min_count`` incidents and ``min_population``
    residents, as :func:`hotspots` lists them) are followed back through the years, counting
    the years each is in the top ``top_share`` of LSOAs by rate.

    Returns ``(mean years in the top per listed LSOA, mean number of listed LSOAs in the top
    in at least all-but-one of the years)``: the chance baseline for "persistent hotspot".

    Examples
    --------
    >>> pop = np.full(200, 1500.0)
    >>> years, persistent = persistence_by_chance(pop, [300] * 5, n_sim=50)
    >>> 1.0 <= years < 2.5, persistent < 1
    (True, True)
    """
    pop = np.asarray(population, dtype=float)
    totals = [int(t) for t in totals_by_year]
    n, n_years = len(pop), len(totals)
    if n == 0 or n_years == 0 or sum(totals) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    k = max(1, int(np.ceil(top_share * n)))
    eligible = pop >= min_population
    need = max(1, n_years - 1)
    years_in, persistent = [], []
    for _ in range(n_sim):
        counts = np.array([rng.multinomial(t, pop / pop.sum()) for t in totals])
        rates = counts / pop
        in_top = np.zeros_like(counts, dtype=bool)
        for y in range(n_years):
            order = np.argsort(-rates[y], kind="stable")
            nz = order[counts[y, order] > 0][:k]
            in_top[y, nz] = True
        last = rates[-1].copy()
        last[~eligible | (counts[-1] < max(1, min_count))] = -np.inf
        listed = np.argsort(-last, kind="stable")[:top]
        listed = listed[np.isfinite(last[listed])]
        if len(listed) == 0:
            continue
        yrs = in_top[:, listed].sum(axis=0)
        years_in.append(yrs.mean())
        persistent.append(float((yrs >= need).sum()))
    if not years_in:
        return float("nan"), float("nan")
    return float(np.mean(years_in)), float(np.mean(persistent))


def concentration(
    lsoa_table: pd.DataFrame,
    *,
    value: str = "count",
    weight: str | None = "population",
    top: Sequence[float] = (1, 5, 10, 20),
    n_sim: int = 200,
    seed: int = 1,
) -> ConcentrationResult:
    r"""Lorenz curve, Gini and top-x% shares: how concentrated incidents are across LSOAs.

    The Gini uses LSOAs as equal units. Because counts are noisy, even a perfectly even
    underlying risk gives a Gini above 0, most of all when incidents are few relative to
    places (Bernasco & Steenbeek 2017). Following Mohler et al. (2019), the observed Gini is
    compared with ``gini_chance``: the mean Gini of ``n_sim`` multinomial allocations of the
    same total to the LSOAs with probabilities proportional to ``weight`` (population; equal
    if None), i.e. counts expected by chance alone. The adjusted Gini rescales the excess:
    :math:`G_{adj} = (G - G_0)/(1 - G_0)` (0 = no more concentrated than chance, 1 = maximal).

    Top shares: the share of all incidents in the top ``ceil(p% x n)`` LSOAs by ``value``.

    Returns
    -------
    ConcentrationResult

    Examples
    --------
    >>> r = concentration(pd.DataFrame({"count": [0, 0, 0, 10], "population": [1000] * 4}))
    >>> r.gini, float(r.top_shares.set_index("top_pct").loc[20, "share"])
    (0.75, 1.0)
    """
    require_columns(lsoa_table, [value], "concentration", "LSOA")
    v = lsoa_table[value].to_numpy(dtype=float)
    if (v < 0).any():
        raise ValueError(f"concentration: column {value!r} has negative values")
    n, total = len(v), float(v.sum())
    s = np.sort(v)
    cum = np.concatenate([[0.0], np.cumsum(s) / total]) if total > 0 else np.full(n + 1, np.nan)
    lorenz = pd.DataFrame({"cum_share_lsoas": np.arange(n + 1) / n, "cum_share_incidents": cum})
    desc = s[::-1]
    rows = []
    for p in top:
        k = max(1, int(np.ceil(p / 100 * n)))
        rows.append(
            {"top_pct": p, "n_lsoas": k, "share": desc[:k].sum() / total if total > 0 else np.nan}
        )
    g = gini(v)
    g0 = float("nan")
    if total > 0 and float(total).is_integer():
        w = lsoa_table[weight].to_numpy(dtype=float) if weight else np.ones(n)
        rng = np.random.default_rng(seed)
        sims = rng.multinomial(int(total), w / w.sum(), size=n_sim)
        g0 = float(np.mean([gini(r) for r in sims]))
    gadj = (g - g0) / (1 - g0) if np.isfinite(g0) and g0 < 1 else float("nan")
    return ConcentrationResult(g, g0, gadj, total, n, lorenz, pd.DataFrame(rows))


@dataclass(frozen=True)
class HotspotResult:
    """Result of :func:`hotspots`: ranked ``lsoas`` and ``wards`` tables."""

    lsoas: pd.DataFrame
    wards: pd.DataFrame
    n_years: int

    def to_frame(self) -> pd.DataFrame:
        return self.lsoas.copy()


def hotspots(
    lsoa_table: pd.DataFrame,
    *,
    top: int = 10,
    by: str = "rate",
    min_population: int = 500,
    history: pd.DataFrame | None = None,
    top_share: float = 0.10,
    min_count: int = 1,
) -> HotspotResult:
    """Rank LSOAs and wards, with persistence of LSOA hotspots over years.

    LSOAs with population below ``min_population`` are left out of the ranking (a small
    denominator makes rates unstable), and so are LSOAs with fewer than ``min_count``
    incidents (a report passes its disclosure threshold: a neighbourhood with 1 to 4
    incidents is not a hotspot, and listing it would reveal that its count is not zero). Persistence: given ``history`` (``lsoa_code``,
    ``fy``, ``count``, ``rate`` per year, see :func:`lsoa_counts_by_year`), the number of
    those years in which the LSOA was in the top ``top_share`` (10%) of LSOAs by ``by``.

    Returns
    -------
    HotspotResult
        ``lsoas``: ``rank``, ``lsoa_code``, ``lsoa_name``, ``ward_name``, ``place``,
        ``imd_decile``, ``count``, ``population``, ``rate``, ``years_in_top``, ``n_years``;
        ``wards``: the top wards by ``by`` from :func:`ward_rates`.

    Examples
    --------
    >>> t = pd.DataFrame({"lsoa_code": ["a", "b", "c"], "lsoa_name": ["A", "B", "C"],
    ...                   "ward_code": ["w1", "w1", "w2"], "ward_name": ["W1", "W1", "W2"],
    ...                   "place": ["P"] * 3, "imd_decile": [1, 5, 9], "count": [9, 2, 5],
    ...                   "population": [1000, 1000, 500]})
    >>> t["rate"] = t["count"] / t["population"] * 1000
    >>> h = hotspots(t, top=2, min_population=600)
    >>> h.lsoas["lsoa_code"].tolist(), h.wards["ward_name"].tolist()
    (['a', 'b'], ['W2', 'W1'])
    """
    if by not in ("rate", "count"):
        raise ValueError("hotspots: by must be 'rate' or 'count'")
    require_columns(lsoa_table, ["lsoa_code", "count", "population", by], "hotspots", "LSOA")
    t = lsoa_table[lsoa_table["population"] >= min_population]
    # an LSOA with no incidents is never a hotspot; ties are broken by count, then by code
    ranked = (
        t[t["count"] >= max(1, min_count)]
        .sort_values([by, "count", "lsoa_code"], ascending=[False, False, True])
        .head(top)
        .copy()
    )
    ranked.insert(0, "rank", range(1, len(ranked) + 1))
    n_years = 0
    if history is not None and len(history):
        h = history[history["lsoa_code"].isin(t["lsoa_code"])]
        n_years = h["fy"].nunique()
        k = max(1, int(np.ceil(top_share * t["lsoa_code"].nunique())))
        h = h[h["count"] > 0]  # zero-count LSOAs never count towards persistence
        topk = (
            h.sort_values(["fy", by, "lsoa_code"], ascending=[True, False, True])
            .groupby("fy")
            .head(k)
        )
        persist = topk.groupby("lsoa_code").size()
        ranked["years_in_top"] = ranked["lsoa_code"].map(persist).fillna(0).astype(int)
    else:
        ranked["years_in_top"] = np.nan
    ranked["n_years"] = n_years
    cols = [
        "rank",
        "lsoa_code",
        "lsoa_name",
        "ward_name",
        "place",
        "imd_decile",
        "count",
        "population",
        "rate",
        "years_in_top",
        "n_years",
    ]
    wards = ward_rates(lsoa_table).sort_values(by, ascending=False).head(top)
    return HotspotResult(
        ranked[[c for c in cols if c in ranked.columns]].reset_index(drop=True),
        wards.reset_index(drop=True),
        n_years,
    )
