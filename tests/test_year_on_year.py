"""`trends.year_on_year`: size and power on simulated seasonal, overdispersed series with
known truth; like-for-like part years; degenerate input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kcpp_analysis.analysis.trends import seasonal_dispersion, year_on_year

MONTHS = pd.date_range("2017-04-01", "2026-03-01", freq="MS")  # 108 months, 2017/18-2025/26
SEASON = 1 + 0.15 * np.cos(2 * np.pi * (MONTHS.month.to_numpy() - 7) / 12)  # July peak


def _simulate(rng, level=4000.0, cv=0.05, step=0.0):
    """Monthly counts: Poisson(level x season x gamma noise), with a step in the last year."""
    mu = level * SEASON * np.where(MONTHS >= "2025-04-01", 1 + step, 1.0)
    g = rng.gamma(1 / cv**2, cv**2, size=len(mu)) if cv > 0 else 1.0
    return pd.DataFrame({"month": MONTHS, "count": rng.poisson(mu * g)})


def test_size_on_stable_overdispersed_seasonal_series():
    """200 stable series at 4,000 a month with 5% gamma extra variation: a Poisson test
    calls most of them significant; this test at most 10% (nominal 5%)."""
    rng = np.random.default_rng(20261123)
    labels, poisson_sig = [], 0
    for _ in range(200):
        s = _simulate(rng)
        r = year_on_year(s, "2025/26").iloc[0]
        labels.append(r.label)
        c, p = int(r.current), int(r.previous)
        poisson_sig += stats.binomtest(c, c + p, 0.5).pvalue < 0.05
    false_alarms = np.mean([lab != "no clear change" for lab in labels])
    assert false_alarms <= 0.10, false_alarms
    assert poisson_sig / 200 > 0.5  # the naive test's size, for contrast


def test_power_for_a_fifteen_percent_rise():
    rng = np.random.default_rng(7)
    hits = [
        year_on_year(_simulate(rng, step=0.15), "2025/26").iloc[0].label == "rose significantly"
        for _ in range(200)
    ]
    assert np.mean(hits) >= 0.80


def test_pure_poisson_series_keeps_nominal_size():
    rng = np.random.default_rng(11)
    sig = [
        year_on_year(_simulate(rng, level=60, cv=0), "2025/26").iloc[0].label != "no clear change"
        for _ in range(400)
    ]
    assert np.mean(sig) <= 0.08  # exact test: at most nominal 5% plus simulation error


def test_dispersion_estimate_matches_the_truth():
    """Var = mu + (cv mu)^2, so phi = 1 + cv^2 mu: about 1 + 0.0025 x 4,000 = 11."""
    rng = np.random.default_rng(3)
    phis = [seasonal_dispersion(_simulate(rng)) for _ in range(50)]
    assert 8.5 < np.median(phis) < 13.5


def test_part_year_is_compared_like_for_like():
    s = pd.DataFrame({"month": pd.date_range("2024-04-01", "2025-12-01", freq="MS")})
    s["count"] = 100
    r = year_on_year(s, "2025/26", dispersion=1.0).iloc[0]
    assert r.months == 9 and r.current == 900 and r.previous == 900  # April-December both
    assert "April to December" in r.period and r.label == "no clear change"


def test_missing_previous_months_are_insufficient_not_a_fall():
    s = pd.DataFrame({"month": pd.date_range("2025-04-01", "2026-03-01", freq="MS"), "count": 50})
    r = year_on_year(s, "2025/26").iloc[0]
    assert r.label == "insufficient data" and np.isnan(r.p_value)


@pytest.mark.parametrize("c,p", [(12, 3), (0, 9)])
def test_small_counts_use_the_exact_test(c, p):
    s = pd.DataFrame({"month": pd.to_datetime(["2024-04-01", "2025-04-01"]), "count": [p, c]})
    r = year_on_year(s, "2025/26", dispersion=1.0).iloc[0]
    assert r.method == "exact conditional"
    assert r.p_value == pytest.approx(stats.binomtest(c, c + p, 0.5).pvalue)
