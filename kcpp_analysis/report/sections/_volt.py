"""Shared helpers of the victim/offender/location/time sections."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kcpp_analysis.core.periods import fy_bounds

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def year_incidents(ctx, pr, year: str | None = None) -> pd.DataFrame:
    inc = ctx.incidents(pr)
    s, e = fy_bounds(year or ctx.year)
    return inc[(inc["date"] >= s) & (inc["date"] <= e + pd.Timedelta(days=1))]


def has(inc: pd.DataFrame, *cols) -> bool:
    return all(c in inc.columns and inc[c].notna().any() for c in cols)


def gap(title: str, what: str, columns: str) -> str:
    return (
        f"Not available for {title}: the data hold no {what}. Partner extracts can add "
        f"{columns} (docs/data_dictionary.md); until then this profile is an intelligence gap."
    )


def aoristic(time_from: pd.Series, time_to: pd.Series, *, max_hours: int = 168) -> np.ndarray:
    """Aoristic weights on a 7 x 24 (weekday x hour) grid (Ratcliffe 2002).

    An offence known only to lie between ``time_from`` and ``time_to`` contributes
    :math:`1/h` to each of the :math:`h` clock hours its window touches (inclusive), so every
    offence adds exactly 1 in total; a window longer than ``max_hours`` (a week) spreads
    evenly over the whole week. Missing ``time_to`` means an exact time. Ratcliffe, J.H.
    (2002). Aoristic signatures and the spatio-temporal analysis of high volume crime
    patterns. *Journal of Quantitative Criminology* 18(1), 23-43.

    Examples
    --------
    >>> f = pd.Series(pd.to_datetime(["2024-01-01 10:00", "2024-01-01 22:30"]))  # Monday
    >>> t = pd.Series(pd.to_datetime(["2024-01-01 10:00", "2024-01-02 01:10"]))
    >>> g = aoristic(f, t)
    >>> float(g.sum()), float(g[0, 10]), float(g[0, 22]), float(g[1, 1])
    (2.0, 1.0, 0.25, 0.25)
    """
    tf = pd.to_datetime(time_from).dt.floor("h")
    tt = pd.to_datetime(time_to).fillna(pd.to_datetime(time_from)).dt.floor("h")
    ok = tf.notna().to_numpy()
    tf, tt = tf[ok], tt[ok]
    span = ((tt - tf) / pd.Timedelta(hours=1)).to_numpy().astype(np.int64) + 1
    span = np.clip(span, 1, None)
    grid = np.zeros((7, 24))
    week = span > max_hours
    if week.any():
        grid += week.sum() / (7 * 24)
    keep = ~week
    start = tf.to_numpy()[keep]
    sp = span[keep]
    rep = np.repeat(np.arange(len(sp)), sp)
    step = np.arange(len(rep)) - np.repeat(np.cumsum(sp) - sp, sp)
    hours = pd.DatetimeIndex(start[rep] + step.astype("timedelta64[h]"))
    np.add.at(grid, (hours.day_of_week, hours.hour), 1.0 / sp[rep])
    return grid
