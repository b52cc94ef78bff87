"""The seasonal count model of a monthly series (:func:`fit_trend`) and the direction over
the most recent months (:func:`recent_trend`).

References: Cameron & Trivedi (2013), *Regression Analysis of Count Data*, 2nd ed., CUP;
Bernal, Cummins & Gasparrini (2017), interrupted time series regression, *Int. J.
Epidemiol.* 46(1); Newey & West (1987), *Econometrica* 55, 703-708.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from kcpp_analysis.analysis.stats import cameron_trivedi
from kcpp_analysis.analysis.trends.correlation import ar1_dispersion, ar1_sandwich, noise_rho

log = logging.getLogger(__name__)

MIN_MONTHS = 24
MIN_NONZERO_MONTHS = 12  # fewer months with any incident cannot support a rate of change
DIRECTIONS = ("increasing", "decreasing", "no clear change", "insufficient data")


# --------------------------------------------------------------------------------------
# trend model
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrendFit:
    """Result of :func:`fit_trend`.

    Attributes
    ----------
    family : str
        ``"poisson"``, ``"negative binomial"`` or ``"none"`` (insufficient data).
    annual_change_pct, ci_low_pct, ci_high_pct : float
        Underlying change per year in %, with its 95% confidence interval.
    p_value : float
        Wald test of no underlying trend.
    direction : str
        ``increasing`` / ``decreasing`` when the whole 95% CI is above / below 0%,
        ``no clear change`` when it contains 0%, ``insufficient data`` otherwise.
    seasonal_index : DataFrame
        12 rows: ``month_of_year`` (1-12) and ``multiplier`` (arithmetic mean 1).
    fitted : DataFrame
        Per month: ``month``, ``observed``, ``expected`` (full model: trend x season x
        interruption), ``trend`` (deseasonalised underlying level, interruptions removed),
        ``lower``/``upper`` (95% prediction interval for an observed count), ``interrupted``.
    interruptions : DataFrame
        Per interruption: ``label``, ``start``, ``end``, ``level_change_pct`` and CI.
    n_months : int
    dispersion : float
        Pearson chi-square / residual df of the Poisson fit.
    overdispersion_p : float
        One-sided p-value of the Cameron-Trivedi test (small = over-dispersed).
    alpha : float
        Negative-binomial (NB2) dispersion; 0 for Poisson.
    notes : tuple of str
    rho, rho_raw : float
        Lag-1 autocorrelation of the Pearson residuals around a smooth seasonal level: an
        80% upper confidence bound corrected for the regression's bias, at least 0 (``rho``,
        used by every test drawn from this series), and as measured (``rho_raw``); see
        :func:`kcpp_analysis.analysis.trends.correlation.noise_rho`.
    """

    family: str
    annual_change_pct: float
    ci_low_pct: float
    ci_high_pct: float
    p_value: float
    direction: str
    seasonal_index: pd.DataFrame
    fitted: pd.DataFrame
    n_months: int
    interruptions: pd.DataFrame = field(default_factory=pd.DataFrame)
    dispersion: float = float("nan")
    overdispersion_p: float = float("nan")
    alpha: float = 0.0
    notes: tuple = ()
    rho: float = 0.0
    rho_raw: float = float("nan")
    _model: dict = field(default_factory=dict, repr=False, compare=False)

    def to_frame(self) -> pd.DataFrame:
        """One-row summary table with stable column names."""
        return pd.DataFrame(
            [
                {
                    "family": self.family,
                    "n_months": self.n_months,
                    "annual_change_pct": self.annual_change_pct,
                    "ci_low_pct": self.ci_low_pct,
                    "ci_high_pct": self.ci_high_pct,
                    "p_value": self.p_value,
                    "direction": self.direction,
                    "dispersion": self.dispersion,
                    "overdispersion_p": self.overdispersion_p,
                    "alpha": self.alpha,
                    "rho": self.rho,
                }
            ]
        )

    def summary(self) -> str:
        """Plain-English one-line summary."""
        if self.direction == "insufficient data":
            return f"Insufficient data for a trend model ({self.n_months} months; {MIN_MONTHS} needed)."
        return (
            f"Underlying change {self.annual_change_pct:+.1f}% a year "
            f"(95% CI {self.ci_low_pct:+.1f}% to {self.ci_high_pct:+.1f}%, {self.family}, "
            f"{self.n_months} months): {self.direction}."
        )

    @property
    def peak_month(self) -> int | None:
        """Month of year (1-12) with the highest seasonal multiplier."""
        if self.seasonal_index.empty or self.seasonal_index["multiplier"].isna().all():
            return None
        return int(
            self.seasonal_index.loc[self.seasonal_index["multiplier"].idxmax(), "month_of_year"]
        )


def _insufficient(series: pd.DataFrame, date_col: str, count_col: str, note: str) -> TrendFit:
    fitted = pd.DataFrame(
        {
            "month": pd.to_datetime(series[date_col])
            if len(series)
            else pd.Series([], dtype="datetime64[ns]"),
            "observed": series[count_col].astype(float)
            if len(series)
            else pd.Series([], dtype=float),
        }
    )
    for c in ("expected", "trend", "lower", "upper"):
        fitted[c] = np.nan
    fitted["interrupted"] = False
    si = pd.DataFrame({"month_of_year": range(1, 13), "multiplier": np.nan})
    nan = float("nan")
    return TrendFit(
        "none",
        nan,
        nan,
        nan,
        nan,
        "insufficient data",
        si,
        fitted,
        int(series[count_col].notna().sum()) if len(series) else 0,
        notes=(note,),
    )


def design_matrix(
    months: pd.DatetimeIndex, t0: pd.Timestamp, seasonal: bool, intr: list
) -> pd.DataFrame:
    """The trend model's design: constant, time in years since ``t0``, month-of-year
    indicators (February to December, January the reference) when ``seasonal``, and one
    level-change indicator per interruption ``(start, end)``.

    >>> m = pd.date_range("2024-01-01", periods=3, freq="MS")
    >>> design_matrix(m, m[0], False, [])["t_years"].round(3).tolist()
    [0.0, 0.083, 0.167]
    """
    X = pd.DataFrame(index=range(len(months)))
    X["const"] = 1.0
    X["t_years"] = ((months.year - t0.year) * 12 + (months.month - t0.month)) / 12.0
    if seasonal:
        for m in range(2, 13):
            X[f"m{m:02d}"] = (months.month == m).astype(float)
    for i, (s, e) in enumerate(intr):
        X[f"intr{i}"] = ((months >= s) & (months <= e)).astype(float)
    return X


def prediction_interval(
    mu: np.ndarray, alpha: float, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Prediction interval for a count with mean ``mu``: Poisson quantiles, or negative
    binomial (NB2, variance :math:`\\mu + \alpha\\mu^2`) quantiles when ``alpha`` > 0.

    >>> lo, hi = prediction_interval(np.array([100.0]), 0.0)
    >>> float(lo[0]), float(hi[0])
    (81.0, 120.0)
    """
    q = (1 - level) / 2
    if alpha > 0:
        n = 1.0 / alpha
        p = n / (n + mu)
        return stats.nbinom.ppf(q, n, p), stats.nbinom.ppf(1 - q, n, p)
    return stats.poisson.ppf(q, mu), stats.poisson.ppf(1 - q, mu)


def fit_trend(
    series: pd.DataFrame,
    *,
    date_col: str = "month",
    count_col: str = "count",
    exposure_col: str | None = None,
    seasonal: bool = True,
    interruptions: Sequence[tuple] | None = None,
    overdispersion_alpha: float = 0.05,
) -> TrendFit:
    r"""Fit a log-linear seasonal count model to a monthly series.

    The model for the count :math:`y_t` in month :math:`t` is

    .. math::
        \log E[y_t] = \log(\text{exposure}_t) + \beta_0 + \beta_1 \, \text{years}_t
        + \sum_{m=2}^{12} \gamma_m [\text{month}_t = m]
        + \sum_k \delta_k [t \in \text{interruption}_k]

    so :math:`100(e^{\beta_1} - 1)` is the underlying change per year, :math:`e^{\gamma_m}`
    the seasonal effects and :math:`e^{\delta_k}` a level change during interruption
    :math:`k` (e.g. a lockdown), which keeps those months from distorting the trend
    (segmented regression as in Bernal et al. 2017).

    The model is first fitted as a Poisson GLM. Overdispersion is judged by the
    Cameron-Trivedi (1990) regression test: regress :math:`((y-\hat\mu)^2 - y)/\hat\mu` on
    :math:`\hat\mu` without intercept; if the slope (the NB2 dispersion) is positive with
    one-sided p < ``overdispersion_alpha`` the model is refitted as a negative binomial
    (NB2, :math:`Var = \mu + \alpha\mu^2`) by maximum likelihood. Confidence intervals are
    Wald intervals on the log scale.

    Correlated months: the lag-1 autocorrelation :math:`\rho` of the Pearson residuals
    around a smooth level (the same seasonal model with a cubic in time, so a rise that has
    turned is not read as correlated noise) is estimated as an 80% upper bound corrected
    for the regression's bias (:func:`kcpp_analysis.analysis.trends.correlation.noise_rho`),
    and the trend's
    standard error is the larger of the model-based one and the AR(1) sandwich
    (:func:`kcpp_analysis.analysis.trends.correlation.ar1_sandwich`, with the Pearson
    dispersion), so months that follow their neighbours do not make the interval too narrow
    (a Newey-West estimate with a short window does not achieve this at 108 months). The
    sandwich covariance is kept for forecasts. Simulated sizes at rho 0, 0.5 and 0.8:
    ``benchmarks/bench_label_sizes.py`` and the README.

    Parameters
    ----------
    series : DataFrame
        One row per month (see :func:`monthly_counts`); months must be distinct.
    date_col, count_col : str
        Month-start and count columns. Counts must be non-negative integers; NaN counts
        are treated as missing months and left out.
    exposure_col : str, optional
        Population (or other exposure); its log is an offset, so the trend is in the rate.
    seasonal : bool
        Include month-of-year effects. Dropped automatically (with a note) when some month
        of the year has no incidents at all, which would make its effect infinite.
    interruptions : list of (start, end)
        Inclusive month ranges modelled as level changes.

    Returns
    -------
    TrendFit
        ``direction == "insufficient data"`` with NaN figures when fewer than 24 months
        remain or every count is zero.

    Examples
    --------
    >>> months = pd.date_range("2019-01-01", periods=48, freq="MS")
    >>> s = pd.DataFrame({"month": months, "count": [100] * 48})
    >>> f = fit_trend(s)
    >>> f.family, f.direction, abs(round(float(f.annual_change_pct), 6))
    ('poisson', 'no clear change', 0.0)
    """
    import statsmodels.api as sm

    for c in (date_col, count_col, *([exposure_col] if exposure_col else [])):
        if c not in series.columns:
            raise ValueError(f"fit_trend: column {c!r} not in the series")
    s = series.copy()
    s[date_col] = pd.to_datetime(s[date_col])
    if s[date_col].duplicated().any():
        raise ValueError(f"fit_trend: column {date_col!r} has repeated months; aggregate first")
    s = s.sort_values(date_col).reset_index(drop=True)
    y_all = pd.to_numeric(s[count_col], errors="coerce")
    if (y_all.dropna() < 0).any() or not np.allclose(y_all.dropna() % 1, 0):
        raise ValueError(f"fit_trend: column {count_col!r} must hold non-negative whole counts")
    s = s[y_all.notna()].reset_index(drop=True)
    y0 = s[count_col].to_numpy(dtype=float)
    if len(s) and y0.sum() > 0 and y0[0] == 0:
        # before the first month with any incident the source holds no data: start there
        s = s.iloc[int(np.argmax(y0 > 0)) :].reset_index(drop=True)
    if len(s) < MIN_MONTHS:
        return _insufficient(s, date_col, count_col, f"only {len(s)} months with counts")
    y = s[count_col].to_numpy(dtype=float)
    if y.sum() == 0:
        return _insufficient(s, date_col, count_col, "every month is zero")
    if (y > 0).sum() < MIN_NONZERO_MONTHS:
        return _insufficient(
            s,
            date_col,
            count_col,
            f"only {(y > 0).sum()} months with any incidents ({MIN_NONZERO_MONTHS} needed)",
        )
    months = pd.DatetimeIndex(s[date_col]).to_period("M").to_timestamp()
    notes = []
    if seasonal:
        by_moy = pd.Series(y).groupby(months.month).sum()
        if (by_moy.reindex(range(1, 13), fill_value=0) == 0).any():
            seasonal = False
            notes.append("seasonality dropped: some month of the year has no incidents")
    intr = []
    for it in interruptions or []:
        a, b = (
            pd.Timestamp(it[0]).to_period("M").to_timestamp(),
            pd.Timestamp(it[1]).to_period("M").to_timestamp(),
        )
        inside = (months >= a) & (months <= b)
        if inside.any() and not inside.all():
            intr.append((a, b))
    offset = None
    if exposure_col:
        ex = s[exposure_col].to_numpy(dtype=float)
        if (ex <= 0).any() or np.isnan(ex).any():
            raise ValueError(f"fit_trend: column {exposure_col!r} must be positive")
        offset = np.log(ex)
    t0 = months[0]
    X = design_matrix(months, t0, seasonal, intr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pois = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit()
    mu = (
        pois.fittedvalues.to_numpy()
        if hasattr(pois.fittedvalues, "to_numpy")
        else np.asarray(pois.fittedvalues)
    )
    dispersion = float(pois.pearson_chi2 / pois.df_resid) if pois.df_resid > 0 else np.nan
    alpha_ct, p_od = cameron_trivedi(y, mu)
    family, alpha = "poisson", 0.0
    params, cov = pois.params, pois.cov_params()
    if p_od < overdispersion_alpha and alpha_ct > 0:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                nb = sm.NegativeBinomial(y, X, loglike_method="nb2", offset=offset).fit(
                    start_params=np.append(pois.params.to_numpy(), max(alpha_ct, 1e-3)),
                    disp=False,
                    maxiter=200,
                )
            if np.isfinite(nb.params).all() and nb.mle_retvals.get("converged", True):
                family = "negative binomial"
                alpha = float(nb.params.iloc[-1])
                params = nb.params.iloc[:-1]
                cov = nb.cov_params().iloc[:-1, :-1]
            else:
                notes.append("negative binomial fit did not converge; Poisson reported")
        except Exception as exc:  # pragma: no cover - numerical failure path
            notes.append(f"negative binomial fit failed ({exc}); Poisson reported")
    b = float(params["t_years"])
    se_model = float(np.sqrt(cov.loc["t_years", "t_years"]))
    eta_fit = X.to_numpy() @ params.to_numpy() + (offset if offset is not None else 0.0)
    mu_fit = np.exp(np.clip(eta_fit, -30, 30))
    var_fit = mu_fit * (1 + alpha * mu_fit)
    resid = (y - mu_fit) / np.sqrt(var_fit)
    rho_raw, rho = noise_rho(y, months, X.to_numpy())
    rho = 0.0 if not np.isfinite(rho) else rho
    # Pearson dispersion, allowing for the correlation (residuals of correlated months
    # understate the spread)
    phi_p = max(1.0, ar1_dispersion(resid, X.to_numpy(), months, rho))
    # correlated months make the model-based SE too small: the AR(1) sandwich with the
    # Pearson dispersion, never below the model-based SE
    cov_robust = pd.DataFrame(
        ar1_sandwich(X.to_numpy(), mu_fit, months, alpha=alpha, phi=phi_p, rho=rho),
        index=X.columns,
        columns=X.columns,
    )
    se = max(se_model, float(np.sqrt(max(cov_robust.loc["t_years", "t_years"], 0.0))))
    z975 = stats.norm.ppf(0.975)
    lo, hi = b - z975 * se, b + z975 * se

    def pct(v):
        with np.errstate(over="ignore"):
            return 100.0 * np.expm1(v)

    p_value = float(2 * stats.norm.sf(abs(b / se))) if se > 0 else float("nan")
    direction = "increasing" if lo > 0 else "decreasing" if hi < 0 else "no clear change"

    # seasonal index: exp(gamma_m) rescaled to arithmetic mean 1
    g = np.array([0.0] + [float(params.get(f"m{m:02d}", 0.0)) for m in range(2, 13)])
    mult = np.exp(g) / np.exp(g).mean() if seasonal else np.ones(12)
    si = pd.DataFrame({"month_of_year": range(1, 13), "multiplier": mult})

    eta = X.to_numpy() @ params.to_numpy() + (offset if offset is not None else 0.0)
    expected = np.exp(eta)
    Xt = X.copy()
    for c in Xt.columns:
        if c.startswith("intr"):
            Xt[c] = 0.0
    eta_t = Xt.to_numpy() @ params.to_numpy() + (offset if offset is not None else 0.0)
    # underlying level: the expectation divided by the month's seasonal multiplier
    trend = np.exp(eta_t) / mult[months.month - 1]
    lower, upper = prediction_interval(expected, alpha)
    interrupted = np.zeros(len(months), dtype=bool)
    for a_, b_ in intr:
        interrupted |= (months >= a_) & (months <= b_)
    fitted = pd.DataFrame(
        {
            "month": months,
            "observed": y,
            "expected": expected,
            "trend": trend,
            "lower": lower,
            "upper": upper,
            "interrupted": interrupted,
        }
    )
    irows = []
    for i, (a_, b_) in enumerate(intr):
        d = float(params[f"intr{i}"])
        sd = float(np.sqrt(cov.loc[f"intr{i}", f"intr{i}"]))
        irows.append(
            {
                "start": a_,
                "end": b_,
                "level_change_pct": pct(d),
                "ci_low_pct": pct(d - z975 * sd),
                "ci_high_pct": pct(d + z975 * sd),
            }
        )
    model = {
        "params": params,
        "cov": cov,
        "cov_robust": cov_robust,
        "phi": phi_p,
        "t0": t0,
        "seasonal": seasonal,
        "intr": intr,
        "last_month": months[-1],
        "last_offset": float(offset[-1]) if offset is not None else 0.0,
    }
    return TrendFit(
        family,
        pct(b),
        pct(lo),
        pct(hi),
        p_value,
        direction,
        si,
        fitted,
        len(s),
        pd.DataFrame(irows),
        dispersion,
        p_od,
        alpha,
        tuple(notes),
        rho,
        rho_raw,
        model,
    )


def recent_trend(
    series: pd.DataFrame,
    fit: TrendFit | None = None,
    *,
    months: int = 36,
    date_col: str = "month",
    count_col: str = "count",
    level: float = 0.95,
) -> pd.DataFrame:
    r"""Direction over the last ``months`` months, beside the whole-period trend.

    A single log-linear slope over nine years can call "increasing" a series that rose to
    2022 and has fallen since. This fits :math:`\log \mu_t = \beta_0 + \beta_1 t +
    \log s_{m(t)}` to the last ``months`` months only, with the seasonal multipliers
    :math:`s_m` of the whole-period ``fit`` as an offset (36 points cannot re-estimate 12
    seasonal effects well), by Poisson IRLS. The standard error allows for extra-Poisson
    variation (Pearson dispersion, never below 1) and for correlated months: the AR(1)
    sandwich (:func:`kcpp_analysis.analysis.trends.correlation.ar1_sandwich`) with the
    residual autocorrelation ``fit.rho`` of the whole-period model (36 points estimate it
    poorly). Direction as in :func:`fit_trend`: increasing or decreasing only when the
    whole interval excludes 0.

    Returns
    -------
    DataFrame
        One row: ``months``, ``annual_change_pct``, ``ci_low_pct``, ``ci_high_pct``,
        ``dispersion``, ``direction`` ("insufficient data" with fewer than 24 months or fewer
        than 12 months with incidents).

    Examples
    --------
    >>> m = pd.date_range("2017-04-01", periods=108, freq="MS")
    >>> y = np.r_[np.full(72, 100), np.round(100 * 0.85 ** (np.arange(1, 37) / 12))]
    >>> r = recent_trend(pd.DataFrame({"month": m, "count": y})).iloc[0]
    >>> r.direction, round(float(r.annual_change_pct))
    ('decreasing', -15)
    """
    cols = ["months", "annual_change_pct", "ci_low_pct", "ci_high_pct", "dispersion", "direction"]
    s = series[[date_col, count_col]].dropna().sort_values(date_col).tail(months)
    y = s[count_col].to_numpy(dtype=float)
    row = {
        "months": len(s),
        "annual_change_pct": np.nan,
        "ci_low_pct": np.nan,
        "ci_high_pct": np.nan,
        "dispersion": np.nan,
        "direction": "insufficient data",
    }
    if len(s) < 24 or (y > 0).sum() < MIN_NONZERO_MONTHS:
        return pd.DataFrame([row], columns=cols)
    moy = pd.DatetimeIndex(s[date_col]).month
    offset = np.zeros(len(y))
    if (
        fit is not None
        and not fit.seasonal_index.empty
        and fit.seasonal_index["multiplier"].notna().all()
    ):
        mult = fit.seasonal_index.set_index("month_of_year")["multiplier"]
        offset = np.log(mult.reindex(moy).to_numpy())
    t = np.arange(len(y)) / 12.0
    X = np.column_stack([np.ones(len(y)), t])
    beta = np.array([np.log(max(y.mean(), 1e-9)), 0.0])
    for _ in range(50):
        mu = np.exp(np.clip(X @ beta + offset, -30, 30))
        z = X @ beta + (y - mu) / mu
        xtw = X.T * mu
        new = np.linalg.solve(xtw @ X, xtw @ z)
        done = np.max(np.abs(new - beta)) < 1e-10
        beta = new
        if done:
            break
    mu = np.exp(np.clip(X @ beta + offset, -30, 30))
    rho = fit.rho if fit is not None else 0.0
    phi = max(1.0, ar1_dispersion((y - mu) / np.sqrt(mu), X, s[date_col], rho))
    cov = ar1_sandwich(X, mu, s[date_col], phi=phi, rho=rho)
    se = float(np.sqrt(max(cov[1, 1], phi * np.linalg.inv((X.T * mu) @ X)[1, 1])))
    zq = stats.norm.ppf(0.5 + level / 2)
    b = float(beta[1])
    lo, hi = b - zq * se, b + zq * se
    with np.errstate(over="ignore"):
        row.update(
            annual_change_pct=100 * np.expm1(b),
            ci_low_pct=100 * np.expm1(lo),
            ci_high_pct=100 * np.expm1(hi),
            dispersion=phi,
            direction="increasing" if lo > 0 else "decreasing" if hi < 0 else "no clear change",
        )
    return pd.DataFrame([row], columns=cols)
