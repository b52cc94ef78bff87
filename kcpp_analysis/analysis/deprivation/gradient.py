"""The deprivation gradient: rates by IMD, correlation, rate ratio, SII and RII."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from kcpp_analysis.analysis.deprivation.rates import rates_by_decile
from kcpp_analysis.core.frames import require_columns, require_positive


def deprivation_correlation(
    lsoa_table: pd.DataFrame,
    *,
    x: str = "imd_score",
    y: str = "rate",
    method: str = "spearman",
    level: float = 0.95,
) -> pd.DataFrame:
    r"""Correlation between deprivation and a rate across LSOAs, with a Fisher-z CI.

    Spearman's :math:`\rho` (or Pearson's r) with the p-value from ``scipy.stats``; the CI
    is the Fisher z interval :math:`\tanh(\operatorname{atanh}\rho \pm z_{1-a/2}\,SE)` with
    :math:`SE = \sqrt{(1 + \rho^2/2)/(n-3)}` for Spearman (Bonett & Wright 2000) and
    :math:`1/\sqrt{n-3}` for Pearson.

    Returns
    -------
    DataFrame
        One row: ``method``, ``x``, ``y``, ``rho``, ``ci_low``, ``ci_high``, ``p_value``, ``n``.
        With fewer than 4 LSOAs, or a constant column, NaNs.

    Examples
    --------
    >>> t = pd.DataFrame({"imd_score": [10, 20, 30, 40, 50], "rate": [1, 3, 2, 5, 4]})
    >>> round(float(deprivation_correlation(t).loc[0, "rho"]), 2)
    0.8
    """
    require_columns(lsoa_table, [x, y], "deprivation_correlation", "LSOA")
    if method not in ("spearman", "pearson"):
        raise ValueError("deprivation_correlation: method must be 'spearman' or 'pearson'")
    d = lsoa_table[[x, y]].dropna()
    n = len(d)
    nan = float("nan")
    row = {
        "method": method,
        "x": x,
        "y": y,
        "rho": nan,
        "ci_low": nan,
        "ci_high": nan,
        "p_value": nan,
        "n": n,
    }
    if n >= 4 and d[x].nunique() > 1 and d[y].nunique() > 1:
        res = (stats.spearmanr if method == "spearman" else stats.pearsonr)(d[x], d[y])
        rho = float(res.statistic)
        se = np.sqrt((1 + rho**2 / 2) / (n - 3)) if method == "spearman" else 1 / np.sqrt(n - 3)
        z = stats.norm.ppf(0.5 + level / 2)
        zr = np.arctanh(np.clip(rho, -0.999999, 0.999999))
        row.update(
            rho=rho,
            ci_low=float(np.tanh(zr - z * se)),
            ci_high=float(np.tanh(zr + z * se)),
            p_value=float(res.pvalue),
        )
    return pd.DataFrame([row])


_GROUPS = {
    "most deprived quintile": ("imd_decile", [1, 2]),
    "least deprived quintile": ("imd_decile", [9, 10]),
    "most deprived decile": ("imd_decile", [1]),
    "least deprived decile": ("imd_decile", [10]),
}


def rate_ratio(
    lsoa_table: pd.DataFrame,
    *,
    groups: tuple[str, str] = ("most deprived quintile", "least deprived quintile"),
    level: float = 0.95,
) -> pd.DataFrame:
    r"""Ratio of rates between two deprivation groups, from a count model.

    Fits :math:`\log E[\text{count}_i] = \log \text{pop}_i + \beta_0 + \beta_1 g_i` over the
    LSOAs of both groups (:math:`g_i = 1` in the first group). Poisson when not
    over-dispersed; negative binomial (NB2) when the Cameron-Trivedi test says so (see
    :func:`kcpp_analysis.analysis.trends.fit_trend`), which widens the interval to reflect the extra
    between-LSOA variation. Rate ratio = :math:`e^{\beta_1}`, Wald CI.

    Groups: ``"most deprived quintile"`` (deciles 1-2), ``"least deprived quintile"``
    (9-10), ``"most deprived decile"``, ``"least deprived decile"``.

    Returns
    -------
    DataFrame
        One row: ``group``, ``reference``, ``rate_group``, ``rate_reference``, ``rate_ratio``,
        ``ci_low``, ``ci_high``, ``p_value``, ``family``, ``n_lsoas``. NaN when a group has no
        LSOAs or no incidents in both groups.

    Examples
    --------
    >>> t = pd.DataFrame({"imd_decile": [1, 2, 9, 10], "count": [40, 40, 20, 20],
    ...                   "population": [1000] * 4})
    >>> round(float(rate_ratio(t).loc[0, "rate_ratio"]), 3)
    2.0
    """
    import statsmodels.api as sm

    from kcpp_analysis.analysis.stats import cameron_trivedi

    for g in groups:
        if g not in _GROUPS:
            raise ValueError(f"rate_ratio: unknown group {g!r}; use one of {list(_GROUPS)}")
    col_a, vals_a = _GROUPS[groups[0]]
    col_b, vals_b = _GROUPS[groups[1]]
    require_columns(lsoa_table, [col_a, "count", "population"], "rate_ratio", "LSOA")
    require_positive(lsoa_table, "rate_ratio")
    a = lsoa_table[lsoa_table[col_a].isin(vals_a)]
    b = lsoa_table[lsoa_table[col_b].isin(vals_b)]
    nan = float("nan")
    row = {
        "group": groups[0],
        "reference": groups[1],
        "rate_group": a["count"].sum() / a["population"].sum() * 1000 if len(a) else nan,
        "rate_reference": b["count"].sum() / b["population"].sum() * 1000 if len(b) else nan,
        "rate_ratio": nan,
        "ci_low": nan,
        "ci_high": nan,
        "p_value": nan,
        "family": "none",
        "n_lsoas": len(a) + len(b),
    }
    if len(a) == 0 or len(b) == 0 or a["count"].sum() == 0 or b["count"].sum() == 0:
        return pd.DataFrame([row])
    y = np.concatenate([a["count"], b["count"]]).astype(float)
    X = pd.DataFrame({"const": 1.0, "group": np.r_[np.ones(len(a)), np.zeros(len(b))]})
    off = np.log(np.concatenate([a["population"], b["population"]]).astype(float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = sm.GLM(y, X, family=sm.families.Poisson(), offset=off).fit()
        family = "poisson"
        alpha_ct, p_od = cameron_trivedi(y, np.asarray(m.fittedvalues))
        if p_od < 0.05 and alpha_ct > 0:
            nb = sm.NegativeBinomial(y, X, offset=off).fit(disp=False, maxiter=200)
            if np.isfinite(nb.params).all():
                m, family = nb, "negative binomial"
    b1 = float(m.params["group"])
    se = float(np.sqrt(m.cov_params().loc["group", "group"]))
    z = stats.norm.ppf(0.5 + level / 2)
    row.update(
        rate_ratio=float(np.exp(b1)),
        ci_low=float(np.exp(b1 - z * se)),
        ci_high=float(np.exp(b1 + z * se)),
        p_value=float(2 * stats.norm.sf(abs(b1 / se))),
        family=family,
    )
    return pd.DataFrame([row])


def inequality_indices(
    lsoa_table: pd.DataFrame,
    *,
    quantiles: int = 10,
    decile_col: str = "imd_decile",
    per: float = 1000,
    n_sim: int = 10000,
    seed: int = 1,
    level: float = 0.95,
) -> pd.DataFrame:
    r"""Slope and relative index of inequality (SII, RII) by the PHE method.

    Quantiles (deciles or quintiles of IMD) are ordered from most deprived to least deprived;
    each gets the midpoint :math:`x_i` of its cumulative share of the population (so
    :math:`x = 0` is the most deprived end, 1 the least). The quantile rates :math:`y_i` are
    regressed on :math:`x_i` by weighted least squares with weights equal to the population
    shares :math:`a_i` (PHE: multiply :math:`y_i`, :math:`x_i` and the constant by
    :math:`\sqrt{a_i}`). With slope :math:`\beta`:

    - SII = :math:`-\beta`: the modelled gap in the rate between the most and the least
      deprived ends (positive when rates are higher in the most deprived areas);
    - RII = :math:`\hat y(0) / \hat y(1)` with :math:`\hat y(x) = \alpha + \beta x`: the
      modelled rate at the most deprived end divided by that at the least deprived end
      (RII > 1 when rates are higher in the most deprived areas). NaN when the fitted rate
      at either end is not positive (a straight line through a steep gradient can cross
      zero).

    Orientation against PHEindicatormethods: its ``phe_sii`` reports :math:`\beta` and
    :math:`\hat y(1)/\hat y(0)` (least deprived end over most deprived), so these are its
    values with ``multiplier = -1``, which its documentation describes as negating the SII
    and taking the reciprocal of the RII "to account for the change in polarity". We
    orient them this way because a crime rate that is higher in deprived areas then reads
    as a positive gap and a ratio above 1.

    Confidence intervals follow PHE's simulation approach: each quantile rate is redrawn
    ``n_sim`` times from a normal distribution with its standard error (from the exact Poisson
    interval, SE = (upper - lower) / (2 x 1.96)), the regression is refitted and the 2.5% and
    97.5% points of the simulated SII (and RII) are taken. Fixed ``seed``: reproducible.

    Returns
    -------
    DataFrame
        Two rows, ``index`` = ``SII`` / ``RII``, with ``value``, ``ci_low``, ``ci_high``,
        ``quantiles``.

    Examples
    --------
    >>> t = pd.DataFrame({"imd_decile": range(1, 11), "population": [1000] * 10})
    >>> t["count"] = [int(1000 * (50 - 40 * (d - 0.5) / 10) / 1000) for d in t.imd_decile]
    >>> r = inequality_indices(t).set_index("index")
    >>> round(float(r.loc["SII", "value"]), 1), round(float(r.loc["RII", "value"]), 2)
    (40.0, 5.0)
    """
    by = rates_by_decile(lsoa_table, decile_col=decile_col, per=per, quantiles=quantiles)
    by = by[by["population"] > 0].sort_values("quantile")
    nan = float("nan")
    empty = pd.DataFrame(
        {
            "index": ["SII", "RII"],
            "value": nan,
            "ci_low": nan,
            "ci_high": nan,
            "quantiles": quantiles,
        }
    )
    if len(by) < 3:
        return empty
    a = (by["population"] / by["population"].sum()).to_numpy()
    x = np.cumsum(a) - a / 2
    y = by["rate"].to_numpy()
    overall = by["count"].sum() / by["population"].sum() * per
    if overall == 0:
        return empty

    def fit(yv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # WLS intercept and slope with weights a (closed form), yv may be (n_sim, k)
        xm = (a * x).sum()
        ym = (yv * a).sum(axis=-1, keepdims=True)
        b = ((a * (x - xm)) * (yv - ym)).sum(axis=-1) / (a * (x - xm) ** 2).sum()
        return ym[..., 0] - b * xm, b

    def rii(icpt: np.ndarray, b: np.ndarray) -> np.ndarray:
        most, least = icpt, icpt + b
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where((most > 0) & (least > 0), most / least, np.nan)

    a0, b0 = fit(y[None, :])
    sii = -float(b0[0])
    rii_v = float(rii(a0, b0)[0])
    z = stats.norm.ppf(0.975)
    se = (by["ci_high"] - by["ci_low"]).to_numpy() / (2 * z)
    rng = np.random.default_rng(seed)
    sims = y[None, :] + rng.standard_normal((n_sim, len(y))) * se[None, :]
    a_s, b_s = fit(sims)
    sii_s, rii_s = -b_s, rii(a_s, b_s)
    lo_q, hi_q = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    ok = np.isfinite(rii_s)
    rii_lo = np.percentile(rii_s[ok], lo_q) if np.isfinite(rii_v) and ok.mean() > 0.975 else nan
    rii_hi = np.percentile(rii_s[ok], hi_q) if np.isfinite(rii_v) and ok.mean() > 0.975 else nan
    return pd.DataFrame(
        {
            "index": ["SII", "RII"],
            "value": [sii, rii_v],
            "ci_low": [np.percentile(sii_s, lo_q), rii_lo],
            "ci_high": [np.percentile(sii_s, hi_q), rii_hi],
            "quantiles": quantiles,
        }
    )
