"""SPC as the report draws it (seasonally adjusted, screened XmR on the last 36 months):
false-alarm rate on stable seasonal series and detection of a genuine shift, by simulation
with known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kcpp_analysis.trends import fit_trend, seasonally_adjust, spc_xmr

pytestmark = pytest.mark.slow

MONTHS = pd.date_range("2017-04-01", "2026-03-01", freq="MS")
SEASON = 1 + 0.15 * np.cos(2 * np.pi * (MONTHS.month.to_numpy() - 1) / 12)  # January peak


def _latest_flagged(counts):
    s = pd.DataFrame({"month": MONTHS, "count": counts})
    fit = fit_trend(s)
    recent = seasonally_adjust(s.tail(36), fit.seasonal_index)
    pts = spc_xmr(recent).points
    return pts["variation"].iloc[-1] != "common cause", pts


def test_stable_seasonal_series_rarely_flag_the_latest_month():
    rng = np.random.default_rng(42)
    raw_flags, adj_flags = 0, 0
    n = 100
    for _ in range(n):
        y = rng.poisson(600 * SEASON)
        flagged, _ = _latest_flagged(y)
        adj_flags += flagged
        raw = spc_xmr(pd.DataFrame({"month": MONTHS, "count": y}).tail(36)).points
        raw_flags += raw["variation"].iloc[-1] != "common cause"
    assert adj_flags / n <= 0.10, adj_flags / n
    assert raw_flags > adj_flags  # unadjusted seasonal counts alarm more often


def test_a_quarter_rise_in_the_last_eight_months_is_flagged():
    rng = np.random.default_rng(43)
    step = np.where(MONTHS >= MONTHS[-8], 1.25, 1.0)
    hits = [_latest_flagged(rng.poisson(600 * SEASON * step))[0] for _ in range(30)]
    assert np.mean(hits) >= 0.8
