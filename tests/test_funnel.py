"""Funnel limits against PHEindicatormethods' published test values and the Poisson tail
itself, and the size of the overdispersed ward funnel by simulation with known truth."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from kcpp_analysis.analysis.funnel import (
    between_area_variance,
    classify,
    count_limits,
    exact_count_limits,
    funnel_frame,
)


@pytest.mark.parametrize(
    ("expected", "level", "side", "count"),
    [
        # PHEindicatormethods' tests: poisson_funnel(200, 0.025, "low") = 173.24086241121654 and
        # poisson_funnel(500, 0.001, "high") = 573.0274767209943 (the expected counts at which
        # 200 is the upper 95% limit and 500 the lower 99.8% limit)
        (173.24086241121654, 0.95, "hi", 200),
        (573.0274767209943, 0.998, "lo", 500),
    ],
)
def test_limits_match_phe_within_1_percent(expected, level, side, count):
    lo, hi = exact_count_limits([expected], level)
    got = hi[0] if side == "hi" else lo[0]
    assert got == pytest.approx(count, rel=0.01)
    assert got == pytest.approx(count, rel=1e-5)  # in fact to the precision of their bisection


@pytest.mark.parametrize("e", [0.5, 3.0, 12.0, 80.0, 900.0])
def test_limits_are_where_the_poisson_tail_reaches_the_level(e):
    """Continuous Poisson tail P(X >= O | E) = P(Gamma(O, 1) <= E) (scipy's gamma cdf, not the
    inverse the code uses): exactly 0.1% at the upper 99.8% limit, and P(X <= O) = 0.1% at the
    lower one."""
    lo, hi = exact_count_limits([e], 0.998)
    assert stats.gamma.cdf(e, hi[0]) == pytest.approx(0.001, rel=1e-6)
    if e > -np.log(0.001):
        assert stats.gamma.sf(e, lo[0] + 1) == pytest.approx(0.001, rel=1e-6)
    else:
        assert np.isnan(lo[0])


def test_no_lower_limit_where_even_a_zero_is_ordinary():
    lo95, _ = exact_count_limits([3.6, 3.8], 0.95)
    lo998, _ = exact_count_limits([6.8, 7.0], 0.998)
    assert np.isnan(lo95[0]) and lo95[1] >= 0
    assert np.isnan(lo998[0]) and lo998[1] >= 0
    # the demo's Lindley: no modern slavery against 2.5 expected (a zero 8.2% of the time)
    assert classify([0], [2.5])[0] == ""
    assert stats.poisson.pmf(0, 2.5) == pytest.approx(0.082, abs=0.001)
    # but no incidents against 12 expected is below the 99.8% limit
    assert classify([0], [12.0])[0] == "below 99.8%"


def test_frame_has_no_lower_line_where_no_limit_exists():
    f = funnel_frame(1000, 20000, 2.0, points=50)  # expected 2 to 40
    assert f.loc[f["population"] * 2 / 1000 < 6.9, "lo998"].isna().all()
    assert f.loc[f["population"] * 2 / 1000 > 7.0, "lo998"].notna().all()


def _plots(rng, n_plots, cv, outlier=None):
    """Ward-like funnels: 23 units of 15,000-22,000 residents, 8 per 1,000, gamma between-
    unit variation with coefficient of variation ``cv``; the target is the pooled rate."""
    pop = rng.uniform(15_000, 22_000, 23)
    named = []
    for _ in range(n_plots):
        rel = rng.gamma(1 / cv**2, cv**2, 23) if cv > 0 else np.ones(23)
        if outlier:
            rel[0] *= outlier
        o = rng.poisson(8 * pop / 1000 * rel)
        rate = 1000 * o.sum() / pop.sum()
        e = rate * pop / 1000
        bav = between_area_variance(o, e)
        named.append(np.isin(classify(o, e, bav.tau2), ["above 99.8%", "below 99.8%"]))
    return np.array(named)


def test_funnel_keeps_its_size_with_real_variation_between_wards():
    """15% real variation between 23 wards and no true outlier: each ward falls outside the
    99.8% limits at most 0.5% of the time (the multiplicative Winsorised factor: 2.04%)."""
    named = _plots(np.random.default_rng(7), 400, 0.15)
    per_ward = named.mean()
    assert per_ward <= 0.005, per_ward
    pure = _plots(np.random.default_rng(8), 400, 0.0).mean()
    assert pure <= 0.005, pure


def test_funnel_still_finds_a_ward_twice_the_rest():
    named = _plots(np.random.default_rng(9), 200, 0.15, outlier=2.0)
    assert named[:, 0].mean() >= 0.7  # measured 76.5% (the outlier itself widens tau)
    assert named[:, 1:].mean() <= 0.005


def test_count_limits_widen_with_between_area_variance():
    lo0, hi0 = count_limits([200.0], 0.998)
    lo1, hi1 = count_limits([200.0], 0.998, tau2=0.15**2)
    assert hi1[0] > hi0[0] and lo1[0] < lo0[0]
