"""Monthly counts (the series every trend method reads) and seasonal adjustment."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pandas as pd

from kcpp_analysis.core.periods import month_starts

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------
# monthly counts
# --------------------------------------------------------------------------------------
def monthly_counts(
    incidents: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    start=None,
    end=None,
    date_col: str = "date",
) -> pd.DataFrame:
    """Count incidents per calendar month, with explicit zero months.

    Parameters
    ----------
    incidents : DataFrame
        One row per incident with a datetime column ``date_col``.
    by : str or list of str, optional
        Grouping columns; every combination of their observed values gets every month.
    start, end : date-like, optional
        First and last month to include (default: the data's first and last month).
        Incidents outside are dropped.
    date_col : str
        The date column.

    Returns
    -------
    DataFrame
        Columns ``[*by, "month", "count"]``: ``month`` is the month start, ``count`` an
        int64 (0 for a month with no incidents: never a gap).

    Examples
    --------
    >>> df = pd.DataFrame({"date": pd.to_datetime(["2024-01-05", "2024-03-02", "2024-03-09"])})
    >>> monthly_counts(df)["count"].tolist()
    [1, 0, 2]
    """
    if date_col not in incidents.columns:
        raise ValueError(f"monthly_counts: column {date_col!r} not in the incidents table")
    by = [by] if isinstance(by, str) else list(by or [])
    for c in by:
        if c not in incidents.columns:
            raise ValueError(f"monthly_counts: grouping column {c!r} not in the incidents table")
    d = pd.to_datetime(incidents[date_col])
    if start is None and end is None and d.empty:
        raise ValueError("monthly_counts: no incidents and no start/end to define the months")
    lo = pd.Timestamp(start) if start is not None else d.min()
    hi = pd.Timestamp(end) if end is not None else d.max()
    months = month_starts(lo, hi)
    m = d.dt.to_period("M").dt.to_timestamp()
    keep = (m >= months[0]) & (m <= months[-1])
    frame = incidents.loc[keep, by].copy()
    frame["month"] = m[keep]
    counts = frame.groupby([*by, "month"], observed=True, dropna=False).size()
    if by:
        groups = frame[by].drop_duplicates().sort_values(by)
        idx = pd.MultiIndex.from_frame(groups.merge(pd.DataFrame({"month": months}), how="cross"))
    else:
        idx = pd.Index(months, name="month")
    out = counts.reindex(idx, fill_value=0).rename("count").reset_index()
    out["count"] = out["count"].astype("int64")
    return out


def seasonally_adjust(
    series: pd.DataFrame,
    seasonal_index: pd.DataFrame,
    *,
    date_col: str = "month",
    value_col: str = "count",
) -> pd.DataFrame:
    """Divide each month's value by its seasonal multiplier (``TrendFit.seasonal_index``).

    The multipliers have arithmetic mean 1, so the adjusted series keeps the level of the
    original. Used before an XmR chart, whose limits assume no seasonal pattern (otherwise a
    seasonal peak reads as special-cause variation). With no seasonal index (a fit without
    seasonality) the values are returned unchanged.

    Examples
    --------
    >>> si = pd.DataFrame({"month_of_year": range(1, 13), "multiplier": [1.2] + [0.98182] * 11})
    >>> s = pd.DataFrame({"month": pd.to_datetime(["2025-01-01", "2025-02-01"]), "count": [120, 98]})
    >>> seasonally_adjust(s, si)["count"].round(1).tolist()
    [100.0, 99.8]
    """
    out = series.copy()
    if seasonal_index is None or seasonal_index.empty or seasonal_index["multiplier"].isna().all():
        return out
    m = seasonal_index.set_index("month_of_year")["multiplier"]
    moy = pd.DatetimeIndex(out[date_col]).month
    out[value_col] = out[value_col].to_numpy(dtype=float) / m.reindex(moy).to_numpy()
    return out
