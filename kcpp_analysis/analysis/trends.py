"""Trend analysis for monthly counts: is a problem rising?

Public API (names fixed): :func:`monthly_counts`, :func:`fit_trend` (returns
:class:`TrendFit`), :func:`compare_periods`, :func:`spc_xmr` (returns :class:`SpcResult`),
:func:`forecast`, :func:`forecast_total` and :func:`mann_kendall`.

References
----------
- Cameron, A.C. & Trivedi, P.K. (1990). Regression-based tests for overdispersion in the
  Poisson model. *Journal of Econometrics* 46(3), 347-364.
- Cameron, A.C. & Trivedi, P.K. (2013). *Regression Analysis of Count Data*, 2nd ed. CUP.
- Bernal, J.L., Cummins, S. & Gasparrini, A. (2017). Interrupted time series regression for
  the evaluation of public health interventions: a tutorial. *Int. J. Epidemiol.* 46(1).
- Wheeler, A.P. & Ratcliffe, J.H. (2018). A simple weighted displacement difference test to
  evaluate place based crime interventions. *Crime Science* 7:11 (and Wheeler's notes on
  the exact Poisson test for two counts).
- Przyborowski, J. & Wilenski, H. (1940). Homogeneity of results in testing samples from
  Poisson series. *Biometrika* 31, 313-323 (the conditional binomial test).
- NHS England (2019, updated 2021). *Making Data Count: Strengthening your decisions*;
  and *Making Data Count: Getting started*. NHS Improvement statistical process control.
- Wheeler, D.J. (1993). *Understanding Variation*. SPC Press (XmR, 2.66 constant).
- Mann, H.B. (1945). Nonparametric tests against trend. *Econometrica* 13, 245-259;
  Kendall, M.G. (1975). *Rank Correlation Methods*, 4th ed. Griffin.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from kcpp_analysis.core.periods import month_starts

log = logging.getLogger(__name__)

MIN_MONTHS = 24
MIN_NONZERO_MONTHS = 12  # fewer months with any incident cannot support a rate of change
DIRECTIONS = ("increasing", "decreasing", "no clear change", "insufficient data")


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


def _design(months: pd.DatetimeIndex, t0: pd.Timestamp, seasonal: bool, intr: list) -> pd.DataFrame:
    X = pd.DataFrame(index=range(len(months)))
    X["const"] = 1.0
    X["t_years"] = ((months.year - t0.year) * 12 + (months.month - t0.month)) / 12.0
    if seasonal:
        for m in range(2, 13):
            X[f"m{m:02d}"] = (months.month == m).astype(float)
    for i, (s, e) in enumerate(intr):
        X[f"intr{i}"] = ((months >= s) & (months <= e)).astype(float)
    return X


def _cameron_trivedi(y: np.ndarray, mu: np.ndarray) -> tuple[float, float]:
    """Auxiliary OLS ((y-mu)^2 - y)/mu = alpha * mu + e; one-sided t-test of alpha > 0."""
    z = ((y - mu) ** 2 - y) / mu
    x = mu
    alpha = float((x @ z) / (x @ x))
    resid = z - alpha * x
    dof = len(y) - 1
    se = float(np.sqrt((resid @ resid) / dof / (x @ x)))
    t = alpha / se if se > 0 else np.inf
    return alpha, float(stats.t.sf(t, dof))


def _hac_se(
    X: np.ndarray, y: np.ndarray, eta: np.ndarray, alpha: float, j: int, lags: int | None = None
) -> float:
    """Newey-West (Bartlett kernel) standard error of coefficient ``j`` of a log-link
    Poisson (``alpha`` = 0) or NB2 model: bread (sum w x x')^-1 with w = mu / (1 + alpha mu),
    meat from the scores x (y - mu) / (1 + alpha mu) with lag weights 1 - l / (L + 1) and
    L = floor(4 (n / 100)^(2/9)). Newey & West (1987), *Econometrica* 55, 703-708."""
    mu = np.exp(np.clip(eta, -30, 30))
    d = 1 + alpha * mu
    n = len(y)
    L = lags if lags is not None else int(np.floor(4 * (n / 100) ** (2 / 9)))
    u = X * ((y - mu) / d)[:, None]
    meat = u.T @ u
    for lag in range(1, L + 1):
        g = u[lag:].T @ u[:-lag]
        meat += (1 - lag / (L + 1)) * (g + g.T)
    try:
        bread = np.linalg.inv((X * (mu / d)[:, None]).T @ X)
    except np.linalg.LinAlgError:
        return 0.0
    v = bread @ meat @ bread
    return float(np.sqrt(max(v[j, j], 0.0)))


def _pi(mu: np.ndarray, alpha: float, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Prediction interval for a count with mean mu (Poisson, or NB2 with dispersion alpha)."""
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
    Wald intervals on the log scale. The trend's standard error is the larger of the
    model-based one and a Newey-West (HAC) sandwich estimate (:func:`_hac_se`), so months
    that are correlated with their neighbours do not make the interval too narrow.

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
    X = _design(months, t0, seasonal, intr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pois = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit()
    mu = (
        pois.fittedvalues.to_numpy()
        if hasattr(pois.fittedvalues, "to_numpy")
        else np.asarray(pois.fittedvalues)
    )
    dispersion = float(pois.pearson_chi2 / pois.df_resid) if pois.df_resid > 0 else np.nan
    alpha_ct, p_od = _cameron_trivedi(y, mu)
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
    # autocorrelated months make the model-based SE too small: use the larger of it and a
    # Newey-West (HAC) sandwich SE on the score contributions
    se = max(
        se_model,
        _hac_se(
            X.to_numpy(),
            y,
            X.to_numpy() @ params.to_numpy() + (offset if offset is not None else 0.0),
            alpha,
            list(X.columns).index("t_years"),
        ),
    )
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
    lower, upper = _pi(expected, alpha)
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
        model,
    )


def _future_design(fit: TrendFit, horizon: int) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Design matrix of the ``horizon`` months after the series: trend continues, seasonal
    pattern repeats, no interruption."""
    m = fit._model
    months = pd.date_range(m["last_month"] + pd.offsets.MonthBegin(1), periods=horizon, freq="MS")
    X = _design(months, m["t0"], m["seasonal"], m["intr"])
    for c in X.columns:
        if c.startswith("intr"):
            X[c] = 0.0
    return months, X[m["params"].index].to_numpy()


def forecast(fit: TrendFit, horizon: int = 12, level: float = 0.95) -> pd.DataFrame:
    """Expected counts for the months after the series, with intervals.

    The fitted model is extended ``horizon`` months with the trend continuing, the seasonal
    pattern repeating, no interruption, and the last month's exposure. ``mean_lower`` /
    ``mean_upper`` are the Wald interval for the expected count (delta method on the log
    scale, :math:`x^T \\Sigma x`); ``lower`` / ``upper`` are an approximate prediction
    interval for the observed count: the 2.5% quantile of the count distribution (Poisson or
    NB2) at ``mean_lower`` and the 97.5% quantile at ``mean_upper``, which covers both the
    uncertainty in the mean and the count noise (slightly conservative).

    Returns
    -------
    DataFrame
        ``month``, ``expected``, ``mean_lower``, ``mean_upper``, ``lower``, ``upper``.
        Empty when the fit had insufficient data.
    """
    cols = ["month", "expected", "mean_lower", "mean_upper", "lower", "upper"]
    if fit.family == "none" or not fit._model:
        return pd.DataFrame(columns=cols)
    if horizon < 1:
        raise ValueError("forecast: horizon must be at least 1 month")
    m = fit._model
    months, Xa = _future_design(fit, horizon)
    eta = Xa @ m["params"].to_numpy() + m["last_offset"]
    var = np.einsum("ij,jk,ik->i", Xa, m["cov"].to_numpy(), Xa)
    z = stats.norm.ppf(0.5 + level / 2)
    mlo, mhi = np.exp(eta - z * np.sqrt(var)), np.exp(eta + z * np.sqrt(var))
    lo, _ = _pi(mlo, fit.alpha, level)
    _, hi = _pi(mhi, fit.alpha, level)
    return pd.DataFrame(
        {
            "month": months,
            "expected": np.exp(eta),
            "mean_lower": mlo,
            "mean_upper": mhi,
            "lower": lo,
            "upper": hi,
        }
    )


def _forecast_dispersion(fit: TrendFit) -> tuple[float, float, int]:
    r"""Dispersion used by :func:`forecast_total`: ``(alpha, cov_scale, df)``.

    The maximum-likelihood NB2 :math:`\alpha` of a 48-month, 13-parameter seasonal model is
    biased low (it divides by n, not by the n - p residual degrees of freedom), and the
    Poisson/NB switch misses mild overdispersion, so a forecast from the fitted model alone
    under-covers (measured: 88-89% for a nominal 95% on NB series). Here the dispersion is
    always estimated, with degrees-of-freedom corrected moment estimators on the fitted
    values (Cameron & Trivedi 2013, s.3.2):

    - :math:`\tilde\alpha = \max\{0, \sum_t ((y_t-\hat\mu_t)^2 - (1-p/n) y_t)/\hat\mu_t^2
      / (n-p)\}` (residuals shrink by about :math:`1-p/n` when the leverage is spread evenly
      over the months), and the larger of it and the fitted :math:`\alpha` is used for the
      count noise;
    - the parameter covariance is scaled by :math:`\max(1, X^2/(n-p))`, the Pearson
      statistic of the fitted model per residual degree of freedom (quasi-likelihood);
    - ``df = n - p`` for a Student t quantile.
    """
    fv = fit.fitted
    y = fv["observed"].to_numpy(dtype=float)
    mu = fv["expected"].to_numpy(dtype=float)
    p = len(fit._model["params"])
    df = max(1, len(y) - p)
    # E(y - mu_hat)^2 ~ (1 - p/n)(mu + alpha mu^2) when leverage is spread evenly (p/n each)
    shrink = df / len(y)
    alpha_mm = max(0.0, float((((y - mu) ** 2 - shrink * y) / mu**2).sum()) / df)
    alpha = max(fit.alpha, alpha_mm)
    pearson = float(((y - mu) ** 2 / (mu + fit.alpha * mu**2)).sum()) / df
    return alpha, max(1.0, pearson), df


def forecast_total(fit: TrendFit, horizon: int = 12, level: float = 0.95) -> pd.DataFrame:
    r"""Expected total over the next ``horizon`` months, with a prediction interval.

    The total :math:`T = \sum_i y_i` of the next months has mean :math:`\sum_i \mu_i`.
    Its variance adds the uncertainty of the fitted mean, by the delta method
    :math:`c\, g^T \Sigma g` with :math:`g = \sum_i \mu_i x_i` (the gradient of
    :math:`\sum_i e^{x_i^T\beta}`), and the count noise :math:`\sum_i (\mu_i + \alpha \mu_i^2)`,
    where :math:`\alpha` and the covariance scale :math:`c` are degrees-of-freedom corrected
    dispersion estimates (:func:`_forecast_dispersion`). The interval is
    :math:`\hat T \pm t_{n-p}\sqrt{Var}`, floored at 0, which is accurate for the totals of
    tens of incidents or more that an SIA reports. Simulated coverage of the 95% interval
    (``benchmarks/bench_forecast_coverage.py``): see the README.

    Returns
    -------
    DataFrame
        One row: ``start``, ``end`` (first and last month), ``expected``, ``lower``, ``upper``;
        empty when the fit had insufficient data.

    Examples
    --------
    >>> months = pd.date_range("2019-04-01", periods=48, freq="MS")
    >>> f = fit_trend(pd.DataFrame({"month": months, "count": [50] * 48}), seasonal=False)
    >>> r = forecast_total(f).iloc[0]
    >>> round(float(r.expected)), round(float(r.upper - r.expected))  # t(46) x sqrt(853 + 600)
    (600, 77)
    """
    cols = ["start", "end", "expected", "lower", "upper"]
    if fit.family == "none" or not fit._model:
        return pd.DataFrame(columns=cols)
    if horizon < 1:
        raise ValueError("forecast_total: horizon must be at least 1 month")
    m = fit._model
    months, Xa = _future_design(fit, horizon)
    mu = np.exp(Xa @ m["params"].to_numpy() + m["last_offset"])
    g = Xa.T @ mu
    alpha, cov_scale, df = _forecast_dispersion(fit)
    var = float(cov_scale * (g @ m["cov"].to_numpy() @ g) + (mu + alpha * mu**2).sum())
    z = stats.t.ppf(0.5 + level / 2, df)
    total = float(mu.sum())
    return pd.DataFrame(
        [
            {
                "start": months[0],
                "end": months[-1],
                "expected": total,
                "lower": max(0.0, total - z * np.sqrt(var)),
                "upper": total + z * np.sqrt(var),
            }
        ]
    )


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
# SPC (XmR)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpcResult:
    """Result of :func:`spc_xmr`.

    ``points`` has one row per point: ``month``, ``value``, ``mean``, ``lower``, ``upper``,
    ``rule_outside``, ``rule_shift``, ``rule_trend``, ``rule_two_of_three`` (booleans) and
    ``variation`` (``common cause`` / ``improvement`` / ``concern``).
    """

    points: pd.DataFrame
    mean: float
    mr_bar: float
    lower: float
    upper: float
    improvement: str
    assurance: str | None
    target: float | None

    def to_frame(self) -> pd.DataFrame:
        return self.points.copy()

    @property
    def latest_variation(self) -> str:
        return str(self.points["variation"].iloc[-1]) if len(self.points) else "insufficient data"

    def summary(self) -> str:
        n_imp = int((self.points["variation"] == "improvement").sum())
        n_con = int((self.points["variation"] == "concern").sum())
        s = (
            f"Mean {self.mean:,.1f}, process limits {self.lower:,.1f} to {self.upper:,.1f}; "
            f"{n_con} point(s) of concerning and {n_imp} of improving special-cause variation; "
            f"latest point: {self.latest_variation}."
        )
        if self.assurance:
            s += f" Against the target of {self.target:,.1f}: {self.assurance}."
        return s


def _runs(mask: np.ndarray, length: int) -> np.ndarray:
    """Mark every element that belongs to a run of ``length`` or more True values."""
    out = np.zeros(len(mask), dtype=bool)
    i = 0
    n = len(mask)
    while i < n:
        if mask[i]:
            j = i
            while j < n and mask[j]:
                j += 1
            if j - i >= length:
                out[i:j] = True
            i = j
        else:
            i += 1
    return out


def spc_xmr(
    series: pd.DataFrame,
    *,
    date_col: str = "month",
    value_col: str = "count",
    improvement: str = "decrease",
    baseline_points: int | None = None,
    target: float | None = None,
    run_length: int = 7,
    screen_outliers: bool = True,
) -> SpcResult:
    """NHS "Making Data Count" XmR (individuals) chart with special-cause rules.

    Centre line :math:`\\bar x` and mean moving range :math:`\\overline{MR}` = mean of
    :math:`|x_i - x_{i-1}|` are computed from the first ``baseline_points`` points (all by
    default); with ``screen_outliers`` (the default, as in NHSRplotthedots) moving ranges of
    at least :math:`3.267\\,\\overline{MR}` are left out and :math:`\\overline{MR}`
    recomputed, so one extreme month does not widen the limits. Natural process limits are
    :math:`\\bar x \\pm 2.66\\,\\overline{MR}` (2.66 = 3 / 1.128, Wheeler 1993).
    Special-cause rules, implemented as NHSRplotthedots (``ptd_calculate_point_type``) does:

    1. ``rule_outside``: a point outside the process limits;
    2. ``rule_shift``: ``run_length`` (7) or more consecutive points on one side of the mean
       (a point on the mean breaks the run);
    3. ``rule_trend``: ``run_length`` (7) or more consecutive points each higher (or each
       lower) than the one before (an equal value breaks it);
    4. ``rule_two_of_three``: within three consecutive points all on the same side of the
       mean, at least two lie between two-thirds of the way to a limit
       (:math:`\\bar x \\pm 1.773\\,\\overline{MR}`) and the limit; those points are flagged.

    A flagged point is ``concern`` when it signals the wrong direction for ``improvement``
    (``"decrease"``: high is concern) and ``improvement`` otherwise.

    Assurance against ``target`` (Making Data Count "assurance icons"): with improvement
    "decrease", ``consistently meets`` when the upper limit is below the target,
    ``consistently fails`` when the lower limit is above it, otherwise ``inconsistent``
    (the target lies within the limits, so it will be hit and missed at random).

    Examples
    --------
    >>> s = pd.DataFrame({"month": pd.date_range("2024-01-01", periods=8, freq="MS"),
    ...                   "count": [10, 12, 11, 9, 10, 11, 30, 10]})
    >>> r = spc_xmr(s, baseline_points=6)
    >>> r.points["variation"].tolist()[6]
    'concern'
    """
    if improvement not in ("decrease", "increase"):
        raise ValueError("spc_xmr: improvement must be 'decrease' or 'increase'")
    for c in (date_col, value_col):
        if c not in series.columns:
            raise ValueError(f"spc_xmr: column {c!r} not in the series")
    s = series[[date_col, value_col]].dropna().sort_values(date_col).reset_index(drop=True)
    x = s[value_col].to_numpy(dtype=float)
    n = len(x)
    if n < 2:
        raise ValueError("spc_xmr: at least 2 points are needed for a moving range")
    base = x[:baseline_points] if baseline_points else x
    if len(base) < 2:
        raise ValueError("spc_xmr: baseline_points must be at least 2")
    mean = float(base.mean())
    mrs = np.abs(np.diff(base))
    mr_bar = float(mrs.mean())
    if screen_outliers and mr_bar > 0:
        mr_bar = float(mrs[mrs < 3.267 * mr_bar].mean())
    ucl, lcl = mean + 2.66 * mr_bar, mean - 2.66 * mr_bar
    hi2, lo2 = mean + 2.66 * mr_bar * 2 / 3, mean - 2.66 * mr_bar * 2 / 3
    above, below = x > mean, x < mean
    out_hi, out_lo = x > ucl, x < lcl
    shift_hi, shift_lo = _runs(above, run_length), _runs(below, run_length)
    d = np.diff(x)
    up = np.concatenate([[False], d > 0])
    down = np.concatenate([[False], d < 0])
    # a run of k rising steps covers k+1 points: mark the point before the first step too
    trend_hi = _runs(up, run_length - 1)
    trend_lo = _runs(down, run_length - 1)
    for arr in (trend_hi, trend_lo):
        starts = np.flatnonzero(arr & ~np.concatenate([[False], arr[:-1]]))
        arr[np.maximum(starts - 1, 0)] = True
    close_hi = (x > hi2) & ~out_hi  # near the limit, not beyond it
    close_lo = (x < lo2) & ~out_lo
    tt_hi = np.zeros(n, dtype=bool)
    tt_lo = np.zeros(n, dtype=bool)
    for i in range(n - 2):
        w = slice(i, i + 3)
        if above[w].all() and close_hi[w].sum() >= 2:
            tt_hi[w] |= close_hi[w]
        if below[w].all() and close_lo[w].sum() >= 2:
            tt_lo[w] |= close_lo[w]
    high = out_hi | shift_hi | trend_hi | tt_hi
    low = out_lo | shift_lo | trend_lo | tt_lo
    good_high = improvement == "increase"
    variation = np.full(n, "common cause", dtype=object)
    both = high & low
    hi_only = high & ~both | (both & (x >= mean))
    lo_only = low & ~both | (both & (x < mean))
    variation[hi_only] = "improvement" if good_high else "concern"
    variation[lo_only] = "concern" if good_high else "improvement"
    pts = pd.DataFrame(
        {
            "month": s[date_col],
            "value": x,
            "mean": mean,
            "lower": lcl,
            "upper": ucl,
            "rule_outside": out_hi | out_lo,
            "rule_shift": shift_hi | shift_lo,
            "rule_trend": trend_hi | trend_lo,
            "rule_two_of_three": tt_hi | tt_lo,
            "variation": variation.astype(str),
        }
    )
    assurance = None
    if target is not None:
        if improvement == "decrease":
            assurance = (
                "consistently meets"
                if ucl < target
                else "consistently fails"
                if lcl > target
                else "inconsistent"
            )
        else:
            assurance = (
                "consistently meets"
                if lcl > target
                else "consistently fails"
                if ucl < target
                else "inconsistent"
            )
    return SpcResult(pts, mean, mr_bar, lcl, ucl, improvement, assurance, target)


# --------------------------------------------------------------------------------------
# Mann-Kendall
# --------------------------------------------------------------------------------------
def _kendall_s_null_distribution(n: int) -> dict[int, float]:
    """Exact null distribution of S for n untied values (Mahonian numbers of inversions)."""
    counts = np.array([1], dtype=object)
    for k in range(2, n + 1):
        new = np.zeros(len(counts) + k - 1, dtype=object)
        for j in range(k):
            new[j : j + len(counts)] += counts
        counts = new
    total = sum(counts)
    m = n * (n - 1) // 2
    return {m - 2 * inv: float(c) / float(total) for inv, c in enumerate(counts)}


def mann_kendall(values: Sequence[float]) -> pd.DataFrame:
    r"""Mann-Kendall test for a monotonic trend in a short series (e.g. annual totals).

    :math:`S = \sum_{i<j} \operatorname{sign}(x_j - x_i)`,
    :math:`\tau = S / \binom{n}{2}`. Under no trend,
    :math:`Var(S) = [n(n-1)(2n+5) - \sum_g t_g(t_g-1)(2t_g+5)]/18` over tie groups
    :math:`g`; :math:`z = (S - \operatorname{sign}(S))/\sqrt{Var(S)}` (continuity
    correction). For n <= 10 without ties the two-sided p-value is exact (the null
    distribution of S enumerated through the Mahonian numbers); otherwise it is the normal
    approximation (Mann 1945; Kendall 1975).

    Returns
    -------
    DataFrame
        One row: ``n``, ``s``, ``tau``, ``var_s``, ``z``, ``p_value``, ``method``
        (``exact`` / ``normal``), ``trend`` (``increasing``, ``decreasing`` or
        ``no clear change`` at the 5% level). With fewer than 3 values, NaNs and
        ``insufficient data``.

    Examples
    --------
    >>> r = mann_kendall([10, 12, 13, 15, 18]).iloc[0]
    >>> int(r.s), round(float(r.p_value), 4), r.trend
    (10, 0.0167, 'increasing')
    """
    x = np.asarray([v for v in values if v is not None and not pd.isna(v)], dtype=float)
    n = len(x)
    if n < 3:
        nan = float("nan")
        return pd.DataFrame(
            [
                {
                    "n": n,
                    "s": nan,
                    "tau": nan,
                    "var_s": nan,
                    "z": nan,
                    "p_value": nan,
                    "method": "none",
                    "trend": "insufficient data",
                }
            ]
        )
    i, j = np.triu_indices(n, 1)
    s = int(np.sign(x[j] - x[i]).sum())
    _, t = np.unique(x, return_counts=True)
    var_s = (n * (n - 1) * (2 * n + 5) - (t * (t - 1) * (2 * t + 5)).sum()) / 18.0
    z = (s - np.sign(s)) / np.sqrt(var_s) if var_s > 0 else 0.0
    if n <= 10 and (t == 1).all():
        dist = _kendall_s_null_distribution(n)
        p = min(1.0, sum(pr for sv, pr in dist.items() if abs(sv) >= abs(s)))
        method = "exact"
    else:
        p = float(2 * stats.norm.sf(abs(z)))
        method = "normal"
    trend = "no clear change" if p >= 0.05 else "increasing" if s > 0 else "decreasing"
    return pd.DataFrame(
        [
            {
                "n": n,
                "s": s,
                "tau": s / (n * (n - 1) / 2),
                "var_s": var_s,
                "z": float(z),
                "p_value": float(p),
                "method": method,
                "trend": trend,
            }
        ]
    )


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
]


def seasonal_dispersion(
    series: pd.DataFrame,
    *,
    date_col: str = "month",
    count_col: str = "count",
    min_months: int = 24,
    interruptions: Sequence = (),
) -> float:
    r"""Quasi-Poisson dispersion of a monthly series around a seasonal log-linear model.

    Leading months with no incidents are dropped first (before a source's first record the
    series holds no data, not zeros). Fits :math:`\log \mu_t = \beta_0 + \beta_1 t +
    \gamma_{m(t)}` (linear trend, 12 month effects, and a level change for each
    ``(start, end)`` interruption) by Poisson IRLS and returns Pearson :math:`\hat\phi = \sum (y-\hat\mu)^2/\hat\mu
    / (n - p)`, floored at 1 (never below Poisson). NaN with fewer than ``min_months`` months
    or an all-zero series. McCullagh & Nelder (1989), *Generalized Linear Models*, 2nd ed.,
    s. 4.5 (quasi-likelihood, moment estimator of the dispersion).

    Examples
    --------
    >>> months = pd.date_range("2019-04-01", periods=40, freq="MS")
    >>> y = [100, 130, 90, 120, 140] * 8  # a 5-month cycle the seasonal model cannot absorb
    >>> seasonal_dispersion(pd.DataFrame({"month": months, "count": y})) > 2
    True
    """
    s = series[[date_col, count_col]].dropna()
    y_all = s[count_col].to_numpy(dtype=float)
    if y_all.sum() == 0:
        return float("nan")
    first = int(np.argmax(y_all > 0))
    s = s.iloc[first:]
    y = y_all[first:]
    n = len(y)
    if n < min_months:
        return float("nan")
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
        return float("nan")
    phi = float(np.sum((y - mu) ** 2 / np.maximum(mu, 1e-9)) / df)
    return max(1.0, phi)


def year_on_year(
    series: pd.DataFrame,
    year: str,
    *,
    fit: TrendFit | None = None,
    date_col: str = "month",
    count_col: str = "count",
    alpha: float = 0.05,
    dispersion: float | None = None,
    interruptions: Sequence = (),
) -> pd.DataFrame:
    r"""Change between a financial year and the one before, allowing for overdispersion.

    Like for like: only the months of ``year`` present in ``series`` are compared with the
    same calendar months a year earlier (a part year is "year to date"). With counts
    :math:`C` (current) and :math:`P` (previous) and dispersion :math:`\phi \ge 1`, the log
    rate ratio :math:`\log(C/P)` has variance :math:`\phi (1/C + 1/P)` (quasi-Poisson; with
    :math:`\phi = 1` this is the Poisson Wald test). :math:`\phi` is the Pearson dispersion of
    a seasonal trend model of the series from its first month with data
    (:func:`seasonal_dispersion`, with the interruptions of ``fit`` or ``interruptions``);
    it is never below 1. When :math:`\phi = 1` or either count is
    below 20, the exact conditional binomial test (:func:`compare_periods`) is used on the
    counts divided by :math:`\phi` (effective counts), which keeps small counts exact.

    Returns
    -------
    DataFrame
        One row: ``period`` (e.g. ``2025/26`` or ``2025/26 (April to December)``), ``months``,
        ``current``, ``previous``, ``change_pct``, ``rate_ratio``, ``ci_low``, ``ci_high``,
        ``p_value``, ``dispersion``, ``method``, ``label`` (``rose significantly``, ``fell
        significantly``, ``no clear change`` or ``insufficient data``).

    References
    ----------
    McCullagh, P. & Nelder, J.A. (1989). *Generalized Linear Models*, 2nd ed., ch. 4 and 9.
    Breslow, N. (1984). Extra-Poisson variation in log-linear models. *Applied Statistics*
    33(1), 38-44.

    Examples
    --------
    >>> months = pd.date_range("2023-04-01", periods=24, freq="MS")
    >>> s = pd.DataFrame({"month": months, "count": [100] * 12 + [130] * 12})
    >>> r = year_on_year(s, "2024/25", dispersion=1.0).iloc[0]
    >>> r.label, float(r.current), float(r.previous), int(r.months)
    ('rose significantly', 1560.0, 1200.0, 12)
    """
    from kcpp_analysis.core.periods import fy_bounds

    s = series[[date_col, count_col]].copy()
    s[date_col] = pd.to_datetime(s[date_col])
    start, end = fy_bounds(year)
    cur = s[(s[date_col] >= start) & (s[date_col] <= end)]
    months = sorted(cur[date_col].dt.to_period("M").unique())
    prev_months = {p - 12 for p in months}
    prev = s[s[date_col].dt.to_period("M").isin(prev_months)]
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
    if dispersion is None:
        intr = interruptions
        if fit is not None and not fit.interruptions.empty:
            intr = list(zip(fit.interruptions["start"], fit.interruptions["end"], strict=True))
        dispersion = seasonal_dispersion(
            series, date_col=date_col, count_col=count_col, interruptions=intr
        )
    phi = 1.0 if not np.isfinite(dispersion) else max(1.0, float(dispersion))
    row["dispersion"] = phi
    if c >= 20 and p >= 20 and phi > 1:
        lr = np.log(c / p)
        se = np.sqrt(phi * (1 / c + 1 / p))
        z = stats.norm.ppf(1 - alpha / 2)
        pv = float(2 * stats.norm.sf(abs(lr) / se))
        row.update(
            rate_ratio=c / p,
            ci_low=float(np.exp(lr - z * se)),
            ci_high=float(np.exp(lr + z * se)),
            p_value=pv,
            method="quasi-Poisson Wald",
        )
    else:
        r = compare_periods(round(c / phi), round(p / phi)).iloc[0]
        row.update(
            rate_ratio=c / p if p > 0 else np.nan,
            ci_low=float(r.ci_low),
            ci_high=float(r.ci_high),
            p_value=float(r.p_value),
            method="exact conditional" + (" (effective counts)" if phi > 1 else ""),
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
    seasonal effects well), by Poisson IRLS, with a quasi-Poisson standard error
    (Pearson dispersion, never below 1). Direction as in :func:`fit_trend`: increasing or
    decreasing only when the whole interval excludes 0.

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
    phi = max(1.0, float(np.sum((y - mu) ** 2 / mu) / (len(y) - 2)))
    cov = phi * np.linalg.inv((X.T * mu) @ X)
    se = float(np.sqrt(cov[1, 1]))
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
