"""SPC as the report draws it (seasonally adjusted, screened XmR on the last 36 months):
false-alarm rate on stable seasonal series and detection of a genuine shift, by simulation
with known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kcpp_analysis.analysis.trends import fit_trend, seasonally_adjust, spc_xmr

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


def test_trend_interval_allows_for_autocorrelated_months():
    """AR(1) month-to-month noise (rho 0.6, 5%) on a -5%/year seasonal series at 500 a month:
    model-based intervals covered the true slope in 72.5% of 200 series; with the
    Newey-West standard error 83.0% (still short of 95%, as the README says)."""
    rng = np.random.default_rng(3)
    t = np.arange(108) / 12
    covered = 0
    n = 200
    for _ in range(n):
        e = np.zeros(108)
        for i in range(1, 108):
            e[i] = 0.6 * e[i - 1] + rng.normal(0, 0.05)
        mu = 500 * SEASON * (0.95**t) * np.exp(e)
        f = fit_trend(pd.DataFrame({"month": MONTHS, "count": rng.poisson(mu)}))
        covered += f.ci_low_pct <= -5.0 <= f.ci_high_pct
    assert covered / n >= 0.79  # measured: 83.0% (model-based SE alone: 72.5%)
