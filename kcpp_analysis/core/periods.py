"""Reporting periods: UK financial years (1 April to 31 March), rolling 12 months.

A financial year is labelled ``"YYYY/YY"``: ``"2025/26"`` runs from 1 April 2025 to
31 March 2026 inclusive. All ends returned here are inclusive calendar days, so a period
is ``start <= date <= end``. This is the convention of Home Office police recorded crime
tables and of the partnership's outcome framework.

Examples
--------
>>> fy_label(pd.Timestamp("2026-03-31"))
'2025/26'
>>> fy_label(pd.Timestamp("2026-04-01"))
'2026/27'
>>> p = as_period("2021/22"); (str(p.start.date()), str(p.end.date()))
('2021-04-01', '2022-03-31')
>>> previous_fy("2021/22")
'2020/21'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

FY_PATTERN = re.compile(r"^(\d{4})/(\d{2})$")  # used with fullmatch: no trailing newline


def check_fy_label(value: str) -> str:
    """Validate a financial-year label such as ``2025/26`` (second part = first + 1).

    >>> check_fy_label("2025/26")
    '2025/26'
    """
    m = FY_PATTERN.fullmatch(str(value))
    if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        raise ValueError(f"financial year must look like '2025/26', got {value!r}")
    return str(value)


@dataclass(frozen=True)
class Period:
    """A closed date interval with a label (``start <= date <= end``)."""

    label: str
    start: pd.Timestamp
    end: pd.Timestamp

    def contains(self, dates: pd.Series) -> pd.Series:
        """Boolean mask of ``dates`` inside the period."""
        return (dates >= self.start) & (dates <= self.end)

    @property
    def months(self) -> int:
        """Number of calendar months the period spans."""
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1


def fy_start_year(label: str) -> int:
    """First calendar year of a financial-year label: ``'2025/26'`` -> 2025."""
    return int(check_fy_label(label)[:4])


def fy_from_start_year(year: int) -> str:
    """Label of the financial year starting in April of ``year``."""
    return f"{year}/{(year + 1) % 100:02d}"


def fy_label(date: pd.Timestamp) -> str:
    """Financial-year label of one date."""
    ts = pd.Timestamp(date)
    return fy_from_start_year(ts.year if ts.month >= 4 else ts.year - 1)


def fy_labels(dates: pd.Series) -> pd.Series:
    """Vectorised :func:`fy_label` for a datetime Series (NaT gives missing)."""
    d = pd.to_datetime(dates)
    ok = d.notna().to_numpy()
    out = np.full(len(d), None, dtype=object)
    if ok.any():  # a label per distinct year, not a string built per row
        start = (d.dt.year - (d.dt.month < 4).astype("int64")).to_numpy()[ok].astype(np.int64)
        years, which = np.unique(start, return_inverse=True)
        out[ok] = np.array([fy_from_start_year(int(y)) for y in years], dtype=object)[which]
    return pd.Series(out, index=d.index, dtype="string")


def fy_bounds(label: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(first day, last day) of a financial year, both inclusive."""
    y = fy_start_year(label)
    return pd.Timestamp(y, 4, 1), pd.Timestamp(y + 1, 3, 31)


def in_fy(dates, label: str) -> np.ndarray:
    """Boolean mask of ``dates`` in financial year ``label``: on or after 1 April and before
    the next 1 April (so a time of day on 31 March is in, and 1 April of the next year is
    out). The one financial-year filter of the toolkit.

    >>> d = pd.Series(pd.to_datetime(["2025-03-31 00:00", "2025-04-01 00:00", "2026-03-31 23:59",
    ...                               "2026-04-01 00:00"]))
    >>> in_fy(d, "2025/26").tolist()
    [False, True, True, False]
    """
    s, _ = fy_bounds(label)
    d = pd.to_datetime(pd.Series(dates) if not isinstance(dates, pd.Series) else dates)
    return ((d >= s) & (d < pd.Timestamp(s.year + 1, 4, 1))).to_numpy(dtype=bool)


def previous_fy(label: str, n: int = 1) -> str:
    """The financial year ``n`` years before ``label``."""
    return fy_from_start_year(fy_start_year(label) - n)


def fy_range(first: str, last: str) -> list[str]:
    """Every financial-year label from ``first`` to ``last`` inclusive."""
    a, b = fy_start_year(first), fy_start_year(last)
    if b < a:
        raise ValueError(f"financial year range is reversed: {first} to {last}")
    return [fy_from_start_year(y) for y in range(a, b + 1)]


def as_period(value: str | Period | tuple) -> Period:
    """Turn a financial-year label, a ``(start, end)`` pair or a Period into a Period."""
    if isinstance(value, Period):
        return value
    if isinstance(value, str):
        s, e = fy_bounds(value)
        return Period(value, s, e)
    if isinstance(value, tuple) and len(value) == 2:
        s, e = pd.Timestamp(value[0]), pd.Timestamp(value[1])
        if e < s:
            raise ValueError(f"period end {e.date()} is before its start {s.date()}")
        return Period(f"{s.date()} to {e.date()}", s, e)
    raise ValueError(f"cannot interpret {value!r} as a period: give 'YYYY/YY' or (start, end)")


def rolling_12_months(last_month: str | pd.Timestamp) -> Period:
    """The 12 calendar months ending with ``last_month`` (inclusive).

    >>> p = rolling_12_months("2025-09"); (str(p.start.date()), str(p.end.date()))
    ('2024-10-01', '2025-09-30')
    """
    m = pd.Timestamp(last_month).to_period("M")
    start = (m - 11).to_timestamp()
    end = m.to_timestamp(how="end").normalize()
    return Period(f"12 months to {m.strftime('%b %Y')}", start, end)


def same_period_last_year(period: str | Period | tuple) -> Period:
    """The period shifted back one year (29 February maps to 28 February)."""
    p = as_period(period)
    if isinstance(period, str):
        return as_period(previous_fy(period))
    s = p.start - pd.DateOffset(years=1)
    e = p.end - pd.DateOffset(years=1)
    return Period(f"{s.date()} to {e.date()}", s, e)


def latest_complete_fy(dates: pd.Series) -> str | None:
    """The latest financial year fully covered by ``dates``' range.

    A year counts as complete when the data run to at least 1 March of its final month
    (month-precision data are dated on the first of the month) and start on or before
    its first April. Returns None when no year is complete.

    >>> d = pd.Series(pd.to_datetime(["2023-04-01", "2025-03-01", "2025-06-30"]))
    >>> latest_complete_fy(d)
    '2024/25'
    """
    d = pd.to_datetime(pd.Series(dates)).dropna()
    if d.empty:
        return None
    lo, hi = d.min(), d.max()
    year = hi.year if hi.month >= 4 else hi.year - 1
    # the year containing hi is complete only if hi reaches March of its end
    if not (hi.month == 3):
        year -= 1
    first, _ = fy_bounds(fy_from_start_year(year))
    if lo > first:
        return None
    return fy_from_start_year(year)


def month_starts(start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """Every month start from ``start``'s month to ``end``'s month inclusive."""
    return pd.date_range(
        pd.Timestamp(start).to_period("M").to_timestamp(),
        pd.Timestamp(end).to_period("M").to_timestamp(),
        freq="MS",
    )


def months_span(first, last) -> str:
    """A run of months in words, both ends included.

    >>> months_span("2025-05", "2026-04")
    '12 months May 2025 to April 2026'
    """
    a, b = pd.Period(first, "M"), pd.Period(last, "M")
    return f"{(b - a).n + 1} months {a.strftime('%B %Y')} to {b.strftime('%B %Y')}"


def months_between(a: pd.Timestamp, b: pd.Timestamp) -> int:
    """Whole calendar months from ``a``'s month to ``b``'s month."""
    return int((b.year - a.year) * 12 + b.month - a.month)


__all__ = [
    "Period",
    "months_span",
    "as_period",
    "fy_bounds",
    "fy_from_start_year",
    "fy_label",
    "fy_labels",
    "fy_range",
    "fy_start_year",
    "latest_complete_fy",
    "month_starts",
    "months_between",
    "previous_fy",
    "rolling_12_months",
    "same_period_last_year",
]


def like_for_like_months(
    first: pd.Period | str, last: pd.Period | str, year: str
) -> tuple[list[pd.Period], list[pd.Period]]:
    """The months of financial year ``year`` that data running from ``first`` to ``last``
    (months, inclusive) cover, and the same months a year earlier where those are covered
    too: what a year-on-year comparison counts (a part year is "year to date").

    >>> cur, prev = like_for_like_months("2024-01", "2025-12", "2025/26")
    >>> [str(m) for m in (cur[0], cur[-1], prev[0], prev[-1])], len(cur)
    (['2025-04', '2025-12', '2024-04', '2024-12'], 9)
    """
    first, last = pd.Period(first, "M"), pd.Period(last, "M")
    s, e = fy_bounds(year)
    months = pd.period_range(pd.Period(s, "M"), pd.Period(e, "M"), freq="M")
    cur = [m for m in months if first <= m <= last]
    prev = [m - 12 for m in cur if first <= m - 12 <= last]
    return cur, prev
