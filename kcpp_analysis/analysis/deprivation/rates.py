"""Counts and rates per LSOA, ward and IMD decile, with exact Poisson intervals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kcpp_analysis.analysis.stats import exact_poisson_ci
from kcpp_analysis.core.frames import require_columns, require_positive
from kcpp_analysis.core.periods import as_period, fy_labels

AREA_ATTRS = [
    "lsoa_name",
    "ward_code",
    "ward_name",
    "place",
    "population",
    "imd_score",
    "imd_rank",
    "imd_decile",
]


def _select(incidents: pd.DataFrame, period=None, category=None) -> pd.DataFrame:
    """Incidents of ``category`` (one or several) within ``period`` (any period label)."""
    inc = incidents
    if category is not None:
        cats = [category] if isinstance(category, str) else list(category)
        inc = inc[inc["category"].isin(cats)]
    if period is not None:
        p = as_period(period)
        inc = inc[p.contains(inc["date"])]
    return inc


def lsoa_rates(
    incidents: pd.DataFrame, areas: pd.DataFrame, *, per: float = 1000, period=None, category=None
) -> pd.DataFrame:
    """Incidents and rate per ``per`` residents for every LSOA (zeros included).

    Parameters
    ----------
    incidents : DataFrame
        Canonical incidents (``lsoa_code``, ``date``, ``category``), already filtered to
        what should be counted, or filtered here with ``period`` / ``category``.
    areas : DataFrame
        Canonical areas (one row per LSOA with ``population`` and IMD columns).
    per : float
        Rate denominator multiplier (1,000 residents by default).
    period : str or (start, end), optional
        Financial year label or date range.
    category : str or list, optional
        Canonical categories to count.

    Returns
    -------
    DataFrame
        ``lsoa_code``, ``count``, ``population``, ``rate`` and the area attributes
        (``lsoa_name``, ``ward_code``, ``ward_name``, ``place``, ``imd_score``,
        ``imd_rank``, ``imd_decile``, and domain scores where present).

    Raises
    ------
    ValueError
        If an incident's LSOA is missing from ``areas`` (the codes are listed) or a
        population is zero.

    Examples
    --------
    >>> areas = pd.DataFrame({"lsoa_code": ["E01000001", "E01000002"], "population": [1000, 2000]})
    >>> inc = pd.DataFrame({"lsoa_code": ["E01000001"] * 3, "date": pd.to_datetime(["2024-05-01"] * 3)})
    >>> lsoa_rates(inc, areas)[["lsoa_code", "count", "rate"]].values.tolist()
    [['E01000001', 3, 3.0], ['E01000002', 0, 0.0]]
    """
    require_columns(incidents, ["lsoa_code"], "lsoa_rates", "incidents")
    require_columns(areas, ["lsoa_code", "population"], "lsoa_rates", "areas")
    require_positive(areas, "lsoa_rates")
    inc = _select(incidents, period, category)
    missing = sorted(set(inc["lsoa_code"].unique()) - set(areas["lsoa_code"]))
    if missing:
        raise ValueError(
            f"lsoa_rates: {len(missing)} LSOA code(s) in incidents are missing "
            f"from areas: {', '.join(missing[:10])}"
        )
    counts = inc.groupby("lsoa_code").size()
    out = areas.copy()
    out["count"] = out["lsoa_code"].map(counts).fillna(0).astype("int64")
    out["rate"] = out["count"] / out["population"] * per
    first = ["lsoa_code", "count", "population", "rate"]
    return out[first + [c for c in out.columns if c not in first]].reset_index(drop=True)


def lsoa_counts_by_year(
    incidents: pd.DataFrame, areas: pd.DataFrame, years: Sequence[str], *, per: float = 1000
) -> pd.DataFrame:
    """Long table of ``lsoa_code``, ``fy``, ``count``, ``population``, ``rate`` for each year."""
    fy = fy_labels(incidents["date"])
    inc = incidents.assign(fy=fy)
    inc = inc[inc["fy"].isin(list(years))]
    c = inc.groupby(["fy", "lsoa_code"]).size()
    idx = pd.MultiIndex.from_product([list(years), areas["lsoa_code"]], names=["fy", "lsoa_code"])
    out = c.reindex(idx, fill_value=0).rename("count").reset_index()
    out = out.merge(areas[["lsoa_code", "population"]], on="lsoa_code")
    out["rate"] = out["count"] / out["population"] * per
    return out


def imd_quantile(t: pd.DataFrame, decile_col: str, quantiles: int) -> pd.Series:
    """IMD decile (``quantiles=10``) or quintile (5: deciles 2q-1 and 2q) of each row."""
    if quantiles == 10:
        return t[decile_col].astype(int)
    if quantiles == 5:
        return ((t[decile_col].astype(int) + 1) // 2).astype(int)
    raise ValueError("quantiles must be 10 (deciles) or 5 (quintiles)")


def rates_by_decile(
    lsoa_table: pd.DataFrame,
    *,
    decile_col: str = "imd_decile",
    per: float = 1000,
    quantiles: int = 10,
    level: float = 0.95,
) -> pd.DataFrame:
    """Count, population and rate with exact Poisson CI per IMD decile (or quintile).

    rate = 1000 x count / population; CI = exact Poisson limits of the count (see
    :func:`exact_poisson_ci`) divided by the population. Every quantile 1..10 (1..5) gets a
    row; a quantile with no LSOAs has population 0 and NaN rate.

    Returns
    -------
    DataFrame
        ``quantile`` (1 = most deprived), ``n_lsoas``, ``count``, ``population``, ``rate``,
        ``ci_low``, ``ci_high``.

    Examples
    --------
    >>> t = pd.DataFrame({"imd_decile": [1, 1, 10], "count": [6, 4, 2], "population": [1000, 1000, 2000]})
    >>> r = rates_by_decile(t)
    >>> r.loc[r["quantile"] == 1, ["count", "rate"]].values.tolist(), int(r["rate"].isna().sum())
    ([[10.0, 5.0]], 8)
    """
    require_columns(lsoa_table, [decile_col, "count", "population"], "rates_by_decile", "LSOA")
    require_positive(lsoa_table, "rates_by_decile")
    t = lsoa_table.assign(quantile=imd_quantile(lsoa_table, decile_col, quantiles))
    g = t.groupby("quantile").agg(
        n_lsoas=("count", "size"), count=("count", "sum"), population=("population", "sum")
    )
    g = g.reindex(range(1, quantiles + 1))
    g["n_lsoas"] = g["n_lsoas"].fillna(0).astype(int)
    g["count"] = g["count"].fillna(0).astype("int64")
    g["population"] = g["population"].fillna(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        g["rate"] = np.where(g["population"] > 0, g["count"] / g["population"] * per, np.nan)
        lo, hi = exact_poisson_ci(g["count"], level)
        g["ci_low"] = np.where(g["population"] > 0, lo / g["population"] * per, np.nan)
        g["ci_high"] = np.where(g["population"] > 0, hi / g["population"] * per, np.nan)
    return g.reset_index()


def ward_rates(lsoa_table: pd.DataFrame, *, per: float = 1000) -> pd.DataFrame:
    """Aggregate an LSOA table to wards: count, population, rate with exact Poisson CI.

    Examples
    --------
    >>> t = pd.DataFrame({"ward_code": ["w1", "w1"], "ward_name": ["W1", "W1"], "place": ["P", "P"],
    ...                   "count": [3, 1], "population": [1000, 1000]})
    >>> ward_rates(t)[["count", "population", "rate"]].values.tolist()
    [[4.0, 2000.0, 2.0]]
    """
    require_columns(
        lsoa_table, ["ward_code", "ward_name", "place", "count", "population"], "ward_rates", "LSOA"
    )
    w = lsoa_table.groupby(["ward_code", "ward_name", "place"], as_index=False).agg(
        count=("count", "sum"), population=("population", "sum"), n_lsoas=("count", "size")
    )
    w["rate"] = w["count"] / w["population"] * per
    lo, hi = exact_poisson_ci(w["count"])
    w["ci_low"] = lo / w["population"] * per
    w["ci_high"] = hi / w["population"] * per
    return w.sort_values("rate", ascending=False).reset_index(drop=True)
