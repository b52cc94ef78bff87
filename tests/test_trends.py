import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kcpp_analysis.analysis.trends import (
    compare_periods,
    fit_trend,
    forecast,
    mann_kendall,
    monthly_counts,
    spc_xmr,
)

MONTHS = pd.date_range("2017-04-01", periods=96, freq="MS")
SEASON = 1 + 0.25 * np.cos(2 * np.pi * (MONTHS.month.to_numpy() - 7) / 12)  # peak in July


def _series(counts, months=MONTHS):
    return pd.DataFrame({"month": months[: len(counts)], "count": counts})


def test_monthly_counts_has_explicit_zero_months_per_group():
    df = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-01-03", "2024-01-20", "2024-03-31", "2024-02-10"]),
            "place": ["A", "A", "A", "B"],
        }
    )
    out = monthly_counts(df, by="place")
    got = {(r.place, r.month.strftime("%Y-%m")): r.count for r in out.itertuples()}
    assert got == {
        ("A", "2024-01"): 2,
        ("A", "2024-02"): 0,
        ("A", "2024-03"): 1,
        ("B", "2024-01"): 0,
        ("B", "2024-02"): 1,
        ("B", "2024-03"): 0,
    }


def test_monthly_counts_start_end_extend_with_zeros():
    df = pd.DataFrame({"date": pd.to_datetime(["2024-02-10"])})
    out = monthly_counts(df, start="2023-12-01", end="2024-04-30")
    assert out["count"].tolist() == [0, 0, 1, 0, 0]


def test_known_decline_and_seasonal_peak_recovered():
    rng = np.random.default_rng(1)
    years = np.arange(96) / 12
    mu = 200 * 0.95**years * SEASON
    fit = fit_trend(_series(rng.poisson(mu)))
    assert fit.family == "poisson"
    assert fit.ci_low_pct <= -5.0 <= fit.ci_high_pct
    assert fit.direction == "decreasing"
    assert fit.peak_month == 7
    si = fit.seasonal_index.set_index("month_of_year")["multiplier"]
    assert si.mean() == pytest.approx(1.0)
    # true July multiplier relative to the mean of the 12 months
    true = SEASON[:12] / SEASON[:12].mean()
    assert si[7] == pytest.approx(true[MONTHS.month[:12] == 7][0], abs=0.05)


def test_direction_comes_from_the_interval_not_the_sign():
    rng = np.random.default_rng(5)
    years = np.arange(36) / 12
    fit = fit_trend(_series(rng.poisson(20 * 1.01**years), MONTHS[:36]))
    assert fit.ci_low_pct < 0 < fit.ci_high_pct
    assert fit.direction == "no clear change"


def test_poisson_data_is_fitted_as_poisson_and_overdispersed_as_nb():
    rng = np.random.default_rng(2)
    mu = 80 * SEASON
    assert fit_trend(_series(rng.poisson(mu))).family == "poisson"
    alpha = 0.15
    lam = rng.gamma(1 / alpha, mu * alpha)  # gamma-Poisson mixture = NB2 with this alpha
    fit = fit_trend(_series(rng.poisson(lam)))
    assert fit.family == "negative binomial"
    assert 0.05 < fit.alpha < 0.35


def test_interruption_is_a_level_change_not_a_trend():
    rng = np.random.default_rng(3)
    mu = np.full(96, 150.0)
    lock = (MONTHS >= "2020-04-01") & (MONTHS <= "2020-06-01")
    mu[lock] *= 0.6
    s = _series(rng.poisson(mu))
    fit = fit_trend(s, seasonal=False, interruptions=[("2020-04", "2020-06")])
    row = fit.interruptions.iloc[0]
    assert row.ci_low_pct <= -40 <= row.ci_high_pct
    assert fit.ci_low_pct <= 0 <= fit.ci_high_pct
    assert fit.fitted.loc[fit.fitted.interrupted, "month"].dt.month.tolist() == [4, 5, 6]


def test_exposure_offset_models_the_rate():
    # counts rise only because the population rises: the rate trend is flat
    pop = np.linspace(1000, 1400, 96)
    counts = np.round(0.1 * pop).astype(int)
    s = _series(counts).assign(pop=pop)
    assert fit_trend(s, seasonal=False).direction == "increasing"
    assert abs(fit_trend(s, seasonal=False, exposure_col="pop").annual_change_pct) < 0.5


@pytest.mark.parametrize("counts", [[0] * 40, [3, 4, 5, 6, 7], [np.nan] * 20 + [5] * 20])
def test_degenerate_series_give_insufficient_data(counts):
    fit = fit_trend(_series(counts))
    assert fit.direction == "insufficient data"
    assert np.isnan(fit.annual_change_pct) and np.isnan(fit.p_value)
    assert fit.family == "none"
    assert forecast(fit).empty


def test_nan_months_are_left_out():
    rng = np.random.default_rng(4)
    c = rng.poisson(50, 40).astype(float)
    c[[3, 17]] = np.nan
    assert fit_trend(_series(c)).n_months == 38


def test_negative_counts_are_rejected():
    with pytest.raises(ValueError, match="non-negative whole counts"):
        fit_trend(_series([5, -1] * 15))


def test_forecast_continues_trend_and_season():
    years = np.arange(60) / 12
    counts = np.round(500 * 1.1**years)
    fit = fit_trend(_series(counts, MONTHS[:60]), seasonal=False)
    fc = forecast(fit, horizon=12)
    assert len(fc) == 12 and fc.month.iloc[0] == MONTHS[60]
    assert fc.expected.iloc[0] == pytest.approx(500 * 1.1**5, rel=0.01)
    assert (fc.lower <= fc.expected).all() and (fc.expected <= fc.upper).all()
    assert (fc.mean_lower <= fc.expected).all()


@pytest.mark.parametrize(
    "c,p,ec,ep",
    [(130, 100, 1, 1), (45, 60, 1, 1), (12, 4, 365, 366), (0, 9, 1, 1), (300, 250, 2.0, 1.5)],
)
def test_compare_periods_matches_scipy_binomtest(c, p, ec, ep):
    r = compare_periods(c, p, current_exposure=ec, previous_exposure=ep).iloc[0]
    bt = stats.binomtest(c, c + p, ec / (ec + ep))
    assert r.p_value == pytest.approx(bt.pvalue)
    ci = bt.proportion_ci(method="exact")
    lo_rr = ci.low / (1 - ci.low) * ep / ec
    assert r.ci_low == pytest.approx(lo_rr)
    assert r.rate_ratio == pytest.approx((c / ec) / (p / ep))
    assert r.change == c - p
    assert r.significant == (bt.pvalue < 0.05)


def test_compare_periods_both_zero():
    r = compare_periods(0, 0).iloc[0]
    assert np.isnan(r.p_value) and not r.significant


BASE = [10, 12, 10, 12, 10, 12]  # mean 11, mean moving range 2: limits 5.68 / 16.32


def _spc(tail, improvement="decrease"):
    vals = BASE + tail
    s = pd.DataFrame(
        {"month": pd.date_range("2020-01-01", periods=len(vals), freq="MS"), "count": vals}
    )
    return spc_xmr(s, baseline_points=6, improvement=improvement).points


RULES = ["rule_outside", "rule_shift", "rule_trend", "rule_two_of_three"]


def _fired(points):
    return {r: points.index[points[r]].tolist() for r in RULES if points[r].any()}


def test_xmr_limits_hand_checked():
    s = pd.DataFrame({"month": pd.date_range("2020-01-01", periods=6, freq="MS"), "count": BASE})
    r = spc_xmr(s)
    assert r.mean == 11 and r.mr_bar == 2
    assert r.upper == pytest.approx(11 + 2.66 * 2) and r.lower == pytest.approx(11 - 2.66 * 2)


def test_xmr_rule_outside_only():
    p = _spc([20, 10, 12])
    assert _fired(p) == {"rule_outside": [6]}
    assert p.loc[6, "variation"] == "concern"
    assert (p.drop(index=6)["variation"] == "common cause").all()


def test_xmr_rule_shift_only():
    p = _spc([12, 13, 12, 13, 12, 13, 12])
    assert _fired(p) == {"rule_shift": list(range(5, 13))}


def test_xmr_rule_trend_only():
    p = _spc([8, 9, 10, 11.5, 12, 13, 14])
    assert _fired(p) == {"rule_trend": list(range(6, 13))}
    assert p.loc[12, "variation"] == "concern"


def test_xmr_rule_two_of_three_only_and_improvement_direction():
    p = _spc([15, 12, 15, 10], improvement="increase")
    assert _fired(p) == {"rule_two_of_three": [6, 8]}
    assert p.loc[6, "variation"] == "improvement"


@pytest.mark.parametrize("middle", [8, 11])  # below the mean, on the mean
def test_xmr_two_of_three_needs_all_three_on_one_side(middle):
    """NHSRplotthedots (fixed in 0.2.2, issue #143): [high, low, high] is not a signal."""
    assert _fired(_spc([15, middle, 15, 10])) == {}


def test_xmr_screening_keeps_one_jump_from_widening_the_limits():
    s = pd.DataFrame(
        {"month": pd.date_range("2020-01-01", periods=13, freq="MS"), "count": [10, 12] * 6 + [40]}
    )
    # moving ranges: eleven of 2 and one of 28; mean 4.17; 28 >= 3.267 x 4.17 is screened
    assert spc_xmr(s).mr_bar == pytest.approx(2.0)
    assert spc_xmr(s, screen_outliers=False).mr_bar == pytest.approx(50 / 12)


def test_xmr_assurance():
    s = pd.DataFrame({"month": pd.date_range("2020-01-01", periods=6, freq="MS"), "count": BASE})
    assert spc_xmr(s, target=20).assurance == "consistently meets"
    assert spc_xmr(s, target=3).assurance == "consistently fails"
    assert spc_xmr(s, target=11).assurance == "inconsistent"


@pytest.mark.parametrize(
    "x",
    [
        [5, 3, 8, 9, 12],
        [1, 2, 3, 4, 5, 6, 7, 8],
        [9, 7, 8, 5, 6, 2, 3],
        [3.1, 2.2, 5.4, 1.0, 4.4, 0.3, 7.7, 6.6, 9.9, 8.8],
    ],
)
def test_mann_kendall_exact_matches_scipy_kendalltau(x):
    r = mann_kendall(x).iloc[0]
    kt = stats.kendalltau(np.arange(len(x)), x, method="exact")
    assert r.method == "exact"
    assert r.tau == pytest.approx(kt.statistic)
    assert r.p_value == pytest.approx(kt.pvalue)


def test_mann_kendall_ties_use_tie_corrected_variance():
    x = [1, 2, 2, 3, 3, 3, 4, 5, 6, 7, 8, 9]
    r = mann_kendall(x).iloc[0]
    n = 12
    var = (n * (n - 1) * (2 * n + 5) - (2 * 1 * 9) - (3 * 2 * 11)) / 18
    assert r.var_s == pytest.approx(var)
    assert r.method == "normal"
    assert r.z == pytest.approx((r.s - 1) / np.sqrt(var))


def test_mann_kendall_too_short():
    assert mann_kendall([1, 2]).iloc[0].trend == "insufficient data"


def test_demo_burglary_trend_has_the_built_in_decline(demo, params):
    inc = demo.incidents[demo.incidents.category == "residential_burglary"]
    s = monthly_counts(inc)
    intr = [(i.start, i.end) for i in params.sia.interruptions]
    fit = fit_trend(s, interruptions=intr)
    assert fit.direction == "decreasing"
    assert fit.ci_low_pct <= -7 * 0.9 and fit.ci_high_pct < -3  # generator: about -7% a year
    assert fit.peak_month in (11, 12, 1)  # winter peak built in
    assert (fit.interruptions.level_change_pct < 0).all()


def test_forecast_total_interval_matches_parametric_simulation():
    """Independent check: simulate future totals by drawing the coefficients from their
    sampling distribution (covariance scaled by the quasi-likelihood factor the forecast
    uses) and then gamma-Poisson counts with the forecast's dispersion; compare with the
    analytic interval (delta method + count noise, t quantile)."""
    from kcpp_analysis.analysis.trends import forecast_total
    from kcpp_analysis.analysis.trends.forecast import forecast_dispersion
    from kcpp_analysis.analysis.trends.model import design_matrix

    rng = np.random.default_rng(11)
    years = np.arange(60) / 12
    fit = fit_trend(_series(rng.poisson(120 * 0.97**years * SEASON[:60]), MONTHS[:60]))
    assert fit.family == "poisson"
    r = forecast_total(fit, horizon=12).iloc[0]
    m = fit._model
    fut = pd.date_range(MONTHS[60], periods=12, freq="MS")
    X = design_matrix(fut, m["t0"], m["seasonal"], m["intr"])[m["params"].index].to_numpy()
    alpha, scale, _ = forecast_dispersion(fit)
    betas = rng.multivariate_normal(m["params"].to_numpy(), scale * m["cov"].to_numpy(), size=20000)
    mu = np.exp(betas @ X.T)
    if alpha > 0:
        mu = mu * rng.gamma(1 / alpha, alpha, size=mu.shape)
    totals = rng.poisson(mu).sum(axis=1)
    assert r.expected == pytest.approx(np.exp(X @ m["params"].to_numpy()).sum())
    lo, hi = np.percentile(totals, [2.5, 97.5])
    assert r.lower == pytest.approx(lo, rel=0.02) and r.upper == pytest.approx(hi, rel=0.02)


def test_recent_direction_is_reported_beside_a_misleading_whole_period_slope():
    """A series that rose until 2022 and has fallen 15% a year since: one nine-year slope
    calls it increasing; the last 36 months say falling, and the sentence says so."""
    from kcpp_analysis.analysis.trends import recent_trend
    from kcpp_analysis.presentation import narrative

    rng = np.random.default_rng(12)
    months = pd.date_range("2017-04-01", periods=108, freq="MS")
    t = np.arange(108) / 12
    level = np.where(t < 5.5, 300 * 1.25**t, 300 * 1.25**5.5 * 0.85 ** (t - 5.5))
    s = pd.DataFrame({"month": months, "count": rng.poisson(level)})
    fit = fit_trend(s)
    assert fit.direction == "increasing"  # the whole-period slope alone misleads
    r = recent_trend(s, fit).iloc[0]
    assert r.direction == "decreasing" and r.ci_low_pct < -15 < r.ci_high_pct
    sent = narrative.recent_sentence("Burglary", fit, r)
    assert "falling by about" in sent
    assert narrative.trend_title("Burglary", fit, r) == "Burglary: falling over the last 3 years"


def test_recent_trend_size_on_stable_series():
    """Stable seasonal Poisson series: the 36-month direction is called in at most 8%."""
    from kcpp_analysis.analysis.trends import recent_trend

    rng = np.random.default_rng(5)
    months = pd.date_range("2017-04-01", periods=108, freq="MS")
    season = 1 + 0.15 * np.cos(2 * np.pi * (months.month.to_numpy() - 1) / 12)
    flagged = 0
    for _ in range(100):
        s = pd.DataFrame({"month": months, "count": rng.poisson(400 * season)})
        flagged += recent_trend(s, fit_trend(s)).iloc[0].direction != "no clear change"
    assert flagged / 100 <= 0.08


def test_the_trend_chart_title_quotes_the_rate_the_sentence_gives():
    """A steady 4.5% a year rise: the chart's title and the sentence under it give the same
    rate to the same decimal place, and the same start."""
    from kcpp_analysis.presentation import narrative

    rng = np.random.default_rng(3)
    months = pd.date_range("2017-04-01", periods=108, freq="MS")
    s = pd.DataFrame({"month": months, "count": rng.poisson(400 * 1.045 ** (np.arange(108) / 12))})
    fit = fit_trend(s)
    assert fit.direction == "increasing"
    title = narrative.trend_title("Serious violence", fit)
    rate = re.search(r"rising about ([\d.]+%) a year since 2017$", title)
    assert rate, title
    assert f"rising by about {rate.group(1)} a year since April 2017" in narrative.trend_sentence(
        "Serious violence", fit
    )
