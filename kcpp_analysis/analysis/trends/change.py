"""Is a change real? Two periods compared exactly (:func:`compare_periods`), and the year-on-year
change allowing for extra-Poisson variation (:func:`year_on_year`, :func:`seasonal_dispersion`).

References: Przyborowski & Wilenski (1940), *Biometrika* 31, 313-323 (the conditional
binomial test); Wheeler & Ratcliffe (2018), *Crime Science* 7:11.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from kcpp_analysis.analysis.trends.correlation import ar1_dispersion, noise_rho, sum_covariance
from kcpp_analysis.analysis.trends.model import TrendFit

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------
# change between two periods
# --------------------------------------------------------------------------------------
def _odds_to_rr(q: float, ec: float, ep: float) -> float:
    """Map a binomial proportion for the current period to a rate ratio."""
    return (q / (1 - q)) * (ep / ec) if q < 1 else np.inf


def compare_periods(
    current, previous, *, current_exposure=1.0, previous_exposure=1.0, alpha: float = 0.05
) -> pd.DataFrame:
    r"""Change between two counts with the exact conditional test for two Poisson rates.

    Conditional on the total :math:`n = c + p`, under :math:`H_0` (equal rates) the current
    count is :math:`c \sim \text{Binomial}(n, \pi_0)` with
    :math:`\pi_0 = E_c / (E_c + E_p)` (Przyborowski & Wilenski 1940). The two-sided p-value is
    the exact binomial test's; the rate-ratio CI maps the Clopper-Pearson interval
    :math:`(\pi_L, \pi_U)` for :math:`\pi` through :math:`RR = \frac{\pi}{1-\pi}\frac{E_p}{E_c}`.
    This is the test Wheeler & Ratcliffe recommend for "did crime change?" questions.

    Parameters
    ----------
    current, previous : int or array-like of int
        Counts in the two periods.
    current_exposure, previous_exposure : float or array-like
        Exposures (e.g. days or population); equal by default.
    alpha : float
        Significance level for ``significant`` and the (1 - alpha) CI.

    Returns
    -------
    DataFrame
        One row per pair: ``current``, ``previous``, ``change``, ``change_pct``,
        ``rate_ratio``, ``ci_low``, ``ci_high``, ``p_value``, ``significant``. With both
        counts zero the ratio, CI and p-value are NaN and ``significant`` is False.

    Examples
    --------
    >>> r = compare_periods(150, 100).iloc[0]
    >>> round(float(r.rate_ratio), 2), bool(r.significant)
    (1.5, True)
    """
    c = np.atleast_1d(np.asarray(current, dtype=float))
    p = np.atleast_1d(np.asarray(previous, dtype=float))
    ec = np.broadcast_to(np.asarray(current_exposure, dtype=float), c.shape)
    ep = np.broadcast_to(np.asarray(previous_exposure, dtype=float), c.shape)
    if c.shape != p.shape:
        raise ValueError("compare_periods: current and previous must have the same length")
    if (c < 0).any() or (p < 0).any() or np.isnan(c).any() or np.isnan(p).any():
        raise ValueError("compare_periods: counts must be non-negative numbers")
    if (ec <= 0).any() or (ep <= 0).any():
        raise ValueError("compare_periods: exposures must be positive")
    rows = []
    for ci_, pi_, eci, epi in zip(c, p, ec, ep, strict=True):
        n = int(ci_ + pi_)
        rr = (ci_ / eci) / (pi_ / epi) if pi_ > 0 else (np.inf if ci_ > 0 else np.nan)
        if n == 0:
            lo = hi = pv = np.nan
        else:
            res = stats.binomtest(int(ci_), n, eci / (eci + epi))
            pv = float(res.pvalue)
            ci = res.proportion_ci(confidence_level=1 - alpha, method="exact")
            lo, hi = (_odds_to_rr(q, eci, epi) for q in (ci.low, ci.high))
        rows.append(
            {
                "current": ci_,
                "previous": pi_,
                "change": ci_ - pi_,
                "change_pct": 100 * (ci_ - pi_) / pi_ if pi_ > 0 else np.nan,
                "rate_ratio": rr,
                "ci_low": lo,
                "ci_high": hi,
                "p_value": pv,
                "significant": bool(pv < alpha) if not np.isnan(pv) else False,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# year-on-year change allowing for extra-Poisson variation
# --------------------------------------------------------------------------------------
YOY_COLUMNS = [
    "period",
    "months",
    "current",
    "previous",
    "change_pct",
    "rate_ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "dispersion",
    "method",
    "label",
    "rho",
    "design_effect",
]


def seasonal_dispersion(
    series: pd.DataFrame,
    *,
    date_col: str = "month",
    count_col: str = "count",
    min_months: int = 24,
    interruptions: Sequence = (),
) -> float:
    """The Pearson dispersion of :func:`seasonal_noise` (NaN when it cannot be estimated)."""
    return seasonal_noise(
        series,
        date_col=date_col,
        count_col=count_col,
        min_months=min_months,
        interruptions=interruptions,
    )[0]


def seasonal_noise(
    series: pd.DataFrame,
    *,
    date_col: str = "month",
    count_col: str = "count",
    min_months: int = 24,
    interruptions: Sequence = (),
) -> tuple[float, float]:
    r"""Quasi-Poisson dispersion of a monthly series around a seasonal log-linear model.

    Leading months with no incidents are dropped first (before a source's first record the
    series holds no data, not zeros). Fits :math:`\log \mu_t = \beta_0 + \beta_1 t +
    \gamma_{m(t)}` (linear trend, 12 month effects, and a level change for each
    ``(start, end)`` interruption) by Poisson IRLS and returns Pearson :math:`\hat\phi = \sum (y-\hat\mu)^2/\hat\mu
    / (n - p)`, floored at 1 (never below Poisson). NaN with fewer than ``min_months`` months
    or an all-zero series. McCullagh & Nelder (1989), *Generalized Linear Models*, 2nd ed.,
    s. 4.5 (quasi-likelihood, moment estimator of the dispersion). Returns ``(phi, rho)``:
    ``rho`` is the median-unbiased lag-1 autocorrelation of the Pearson residuals around the
    same model with a cubic in time (:func:`kcpp_analysis.analysis.trends.correlation.noise_rho`;
    0 when it cannot be estimated), and the dispersion then allows for it
    (:func:`kcpp_analysis.analysis.trends.correlation.ar1_dispersion`: residuals of
    correlated months understate the spread).

    Examples
    --------
    >>> months = pd.date_range("2019-04-01", periods=40, freq="MS")
    >>> y = [100, 130, 90, 120, 140] * 8  # a 5-month cycle the seasonal model cannot absorb
    >>> seasonal_dispersion(pd.DataFrame({"month": months, "count": y})) > 2
    True
    """
    nan = float("nan")
    s = series[[date_col, count_col]].dropna()
    y_all = s[count_col].to_numpy(dtype=float)
    if y_all.sum() == 0:
        return nan, 0.0
    first = int(np.argmax(y_all > 0))
    s = s.iloc[first:]
    y = y_all[first:]
    n = len(y)
    if n < min_months:
        return nan, 0.0
    dates = pd.DatetimeIndex(s[date_col])
    m = dates.month.to_numpy()
    t = np.arange(n) / 12.0
    cols = [np.ones(n), t] + [(m == k).astype(float) for k in range(2, 13)]
    for a, b in interruptions:
        cols.append(((dates >= pd.Timestamp(a)) & (dates <= pd.Timestamp(b))).astype(float))
    X = np.column_stack(cols)
    keep = X.any(axis=0)
    keep[0] = True
    X = X[:, keep]
    beta = np.zeros(X.shape[1])
    beta[0] = np.log(max(y.mean(), 1e-9))
    for _ in range(50):
        eta = np.clip(X @ beta, -30, 30)
        mu = np.exp(eta)
        z = eta + (y - mu) / mu
        w = mu
        XtW = X.T * w
        new = np.linalg.lstsq(XtW @ X, XtW @ z, rcond=None)[0]
        if np.max(np.abs(new - beta)) < 1e-8:
            beta = new
            break
        beta = new
    mu = np.exp(np.clip(X @ beta, -30, 30))
    df = n - np.linalg.matrix_rank(X)
    if df <= 0:
        return nan, 0.0
    resid = (y - mu) / np.sqrt(np.maximum(mu, 1e-9))
    _, rho = noise_rho(y, dates, X)
    rho = rho if np.isfinite(rho) else 0.0
    phi = ar1_dispersion(resid, X, dates, rho)  # sum r^2 / (n - p) when rho is 0
    return max(1.0, phi), rho


def year_on_year(
    series: pd.DataFrame,
    year: str,
    *,
    fit: TrendFit | None = None,
    date_col: str = "month",
    count_col: str = "count",
    alpha: float = 0.05,
    dispersion: float | None = None,
    rho: float | None = None,
    interruptions: Sequence = (),
) -> pd.DataFrame:
    r"""Change between a financial year and the one before: :func:`period_change` against
    the previous financial year.

    Examples
    --------
    >>> months = pd.date_range("2023-04-01", periods=24, freq="MS")
    >>> s = pd.DataFrame({"month": months, "count": [100] * 12 + [130] * 12})
    >>> r = year_on_year(s, "2024/25", dispersion=1.0, rho=0.0).iloc[0]
    >>> r.label, float(r.current), float(r.previous), int(r.months)
    ('rose significantly', 1560.0, 1200.0, 12)
    """
    from kcpp_analysis.core.periods import previous_fy

    return period_change(
        series,
        year,
        previous_fy(year),
        fit=fit,
        date_col=date_col,
        count_col=count_col,
        alpha=alpha,
        dispersion=dispersion,
        rho=rho,
        interruptions=interruptions,
    )


def period_change(
    series: pd.DataFrame,
    year: str,
    other: str,
    *,
    fit: TrendFit | None = None,
    date_col: str = "month",
    count_col: str = "count",
    alpha: float = 0.05,
    dispersion: float | None = None,
    rho: float | None = None,
    interruptions: Sequence = (),
) -> pd.DataFrame:
    r"""Change between financial year ``year`` and an earlier one, ``other`` (the previous
        year, or a KPI's baseline year), allowing for overdispersion and correlated months.

        Like for like: only the months of ``year`` present in ``series`` are compared with the
        same calendar months of ``other`` (a part year is "year to date"). With counts
        :math:`C` (current) and :math:`P` (earlier), monthly variances :math:`v_t = \phi y_t`
        (quasi-Poisson, dispersion :math:`\phi \ge 1`) and AR(1) correlation :math:`
    ho` between
        months, the log rate ratio has variance

        .. math::
            \operatorname{Var}\log(C/P) \approx \frac{\operatorname{Var} C}{C^2}
            + \frac{\operatorname{Var} P}{P^2} - \frac{2\operatorname{Cov}(C, P)}{CP}

        (delta method; the sums' variances and covariance from
        :func:`kcpp_analysis.analysis.trends.correlation.sum_covariance`). Its ratio to the
        independent-months variance :math:`\phi(1/C + 1/P)` is the *design effect* :math:`D \ge 1`
        (floored at 1), and the test uses :math:`\phi D` as its dispersion. :math:`\phi` and
        :math:`
    ho` come from a seasonal model of the series from its first month with data
        (:func:`seasonal_noise`, with the interruptions of ``fit``), unless given; with a
        ``fit``, its residual autocorrelation ``fit.rho`` is used. When :math:`\phi D = 1` or
        either count is below 20, the exact conditional binomial test (:func:`compare_periods`)
        is used on the counts divided by :math:`\phi D` (effective counts), which keeps small
        counts exact; otherwise a Wald test on the log scale.

        Returns
        -------
        DataFrame
            One row: ``period`` (e.g. ``2025/26`` or ``2025/26 (April to December, year to
            date)``), ``months``, ``current``, ``previous`` (the earlier year's count),
            ``change_pct``, ``rate_ratio``, ``ci_low``, ``ci_high``, ``p_value``,
            ``dispersion``, ``method``, ``label`` (``rose significantly``, ``fell
            significantly``, ``no clear change`` or ``insufficient data``), ``rho`` and
            ``design_effect``.

        References
        ----------
        McCullagh, P. & Nelder, J.A. (1989). *Generalized Linear Models*, 2nd ed., ch. 4 and 9.
        Breslow, N. (1984). Extra-Poisson variation in log-linear models. *Applied Statistics*
        33(1), 38-44. Box, Jenkins & Reinsel (2008), *Time Series Analysis*, s. 3.2.

        Examples
        --------
        >>> months = pd.date_range("2021-04-01", periods=60, freq="MS")
        >>> s = pd.DataFrame({"month": months, "count": [100] * 48 + [130] * 12})
        >>> r = period_change(s, "2025/26", "2021/22", dispersion=1.0, rho=0.0).iloc[0]
        >>> r.label, float(r.previous)
        ('rose significantly', 1200.0)
    """
    from kcpp_analysis.core.periods import fy_bounds, fy_start_year

    s = series[[date_col, count_col]].copy()
    s[date_col] = pd.to_datetime(s[date_col])
    start, end = fy_bounds(year)
    shift = 12 * (fy_start_year(year) - fy_start_year(other))
    if shift <= 0:
        raise ValueError(f"period_change: {other} must be earlier than {year}")
    per = s[date_col].dt.to_period("M")
    cur = s[(s[date_col] >= start) & (s[date_col] <= end)]
    months = sorted(cur[date_col].dt.to_period("M").unique())
    prev_months = {p - shift for p in months}
    prev = s[per.isin(prev_months)]
    have_prev = len(prev[date_col].dt.to_period("M").unique()) == len(months)
    label_period = year
    if months and len(months) < 12:
        label_period = (
            f"{year} ({months[0].start_time:%B} to {months[-1].start_time:%B}, year to date)"
        )
    c, p = float(cur[count_col].sum()), float(prev[count_col].sum())
    row = dict.fromkeys(YOY_COLUMNS, np.nan)
    row.update(
        period=label_period,
        months=len(months),
        current=c,
        previous=p,
        method="",
        label="insufficient data",
    )
    if not months or not have_prev or (c == 0 and p == 0):
        return pd.DataFrame([row], columns=YOY_COLUMNS)
    if dispersion is None or rho is None:
        intr = list(interruptions)
        if fit is not None and not fit.interruptions.empty:
            intr = list(zip(fit.interruptions["start"], fit.interruptions["end"], strict=True))
        # the two compared periods get their own levels, so the change under test is not
        # mistaken for extra variation or for correlation between months
        for ms in (months, sorted(prev_months)):
            intr.append((ms[0].start_time, ms[-1].start_time))
        est_phi, est_rho = seasonal_noise(
            series, date_col=date_col, count_col=count_col, interruptions=intr
        )
        dispersion = est_phi if dispersion is None else dispersion
        rho = est_rho if rho is None else rho
    phi = 1.0 if not np.isfinite(dispersion) else max(1.0, float(dispersion))
    rho = 0.0 if rho is None or not np.isfinite(rho) else float(rho)
    deff = _design_effect(cur, prev, date_col, count_col, rho)
    row["dispersion"], row["rho"], row["design_effect"] = phi, rho, deff
    phi_eff = phi * deff
    if c >= 20 and p >= 20 and phi_eff > 1:
        lr = np.log(c / p)
        se = np.sqrt(phi_eff * (1 / c + 1 / p))
        z = stats.norm.ppf(1 - alpha / 2)
        pv = float(2 * stats.norm.sf(abs(lr) / se))
        row.update(
            rate_ratio=c / p,
            ci_low=float(np.exp(lr - z * se)),
            ci_high=float(np.exp(lr + z * se)),
            p_value=pv,
            method="quasi-Poisson Wald" + (", correlated months" if deff > 1 else ""),
        )
    else:
        r = compare_periods(round(c / phi_eff), round(p / phi_eff)).iloc[0]
        row.update(
            rate_ratio=c / p if p > 0 else np.nan,
            ci_low=float(r.ci_low),
            ci_high=float(r.ci_high),
            p_value=float(r.p_value),
            method="exact conditional" + (" (effective counts)" if phi_eff > 1 else ""),
        )
    row["change_pct"] = 100 * (c - p) / p if p > 0 else np.nan
    sig = np.isfinite(row["p_value"]) and row["p_value"] < alpha
    row["label"] = (
        "rose significantly"
        if sig and c > p
        else "fell significantly"
        if sig and c < p
        else "no clear change"
    )
    return pd.DataFrame([row], columns=YOY_COLUMNS)


def _design_effect(cur: pd.DataFrame, prev: pd.DataFrame, date_col, count_col, rho: float) -> float:
    """Var log(C/P) under AR(1) months over its independent-months value (>= 1)."""
    if rho <= 0:
        return 1.0
    yc = cur[count_col].to_numpy(dtype=float)
    yp = prev[count_col].to_numpy(dtype=float)
    c, p = yc.sum(), yp.sum()
    if c <= 0 or p <= 0:
        return 1.0
    vc, vp, cov = sum_covariance(cur[date_col], yc, prev[date_col], yp, rho)
    var_ar = vc / c**2 + vp / p**2 - 2 * cov / (c * p)
    var_ind = 1 / c + 1 / p
    return float(max(1.0, var_ar / var_ind))
