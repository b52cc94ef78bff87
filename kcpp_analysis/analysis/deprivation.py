"""How crime, ASB and harm concentrate in deprived neighbourhoods, and where.

Public API (names fixed): :func:`lsoa_rates`, :func:`rates_by_decile`,
:func:`deprivation_correlation`, :func:`rate_ratio`, :func:`inequality_indices`,
:func:`concentration`, :func:`hotspots`, :func:`imd_without_crime`; helpers
:func:`lsoa_counts_by_year` and :func:`ward_rates`.

IMD deciles follow the published convention: decile 1 is the most deprived 10% of LSOAs in
England. Quintile q groups deciles 2q-1 and 2q.

References
----------
- Ulm, K. (1990). A simple method to calculate the confidence interval of a standardized
  mortality ratio. *Am. J. Epidemiol.* 131(2), 373-375 (exact Poisson limits via chi-square);
  Breslow & Day (1987), *Statistical Methods in Cancer Research* Vol. II (Byar's approximation).
- Public Health England (2018). *Technical Guide: Calculating the slope index of inequality
  and relative index of inequality*; Low, A. & Low, A. (2004). Measuring the gap: quantifying
  and comparing local health inequalities. *J. Public Health* 26(4), 388-395.
- Bonett, D.G. & Wright, T.A. (2000). Sample size requirements for estimating Pearson,
  Kendall and Spearman correlations. *Psychometrika* 65, 23-28.
- Bernasco, W. & Steenbeek, W. (2017). More places than crimes: implications for evaluating
  the law of crime concentration at place. *J. Quant. Criminol.* 33, 451-467.
- Mohler, G., Brantingham, P.J., Carter, J. & Short, M.B. (2019). Reducing bias in estimates
  for the law of crime concentration. *J. Quant. Criminol.* 35, 747-765.
- MHCLG (2019). *The English Indices of Deprivation 2019: Technical report*, section 3
  (exponential transformation and domain weights).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from kcpp_analysis.core.periods import as_period, fy_labels

AREA_ATTRS = [
    "lsoa_name",
    "ward_code",
    "ward_name",
    "place",
    "population",
    "imd_score",
    "imd_rank",
    "imd_decile",
]
#: The IMD domain weights (IoD2019 and IoD2025 technical reports), keyed by domain.
IMD_DOMAIN_WEIGHTS = {
    "income": 0.225,
    "employment": 0.225,
    "education": 0.135,
    "health": 0.135,
    "crime": 0.093,
    "barriers": 0.093,
    "living_environment": 0.093,
}

#: The same weights keyed by the areas table's domain-score columns.
IMD_WEIGHTS = {
    ("living_env" if d == "living_environment" else d) + "_score": w
    for d, w in IMD_DOMAIN_WEIGHTS.items()
}


def _check_cols(df: pd.DataFrame, cols: Sequence[str], fn: str, table: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{fn}: column(s) {missing} missing from the {table} table")


def _check_population(df: pd.DataFrame, fn: str, pop_col: str = "population") -> None:
    bad = df[~(df[pop_col] > 0)]
    if len(bad):
        codes = ", ".join(map(str, bad.get("lsoa_code", bad.index)[:5]))
        raise ValueError(
            f"{fn}: column {pop_col!r} must be positive; zero or missing for "
            f"{len(bad)} row(s) (e.g. {codes})"
        )


def exact_poisson_ci(count, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) confidence limits for a Poisson count.

    Lower = chi2.ppf(a/2, 2k)/2 (0 when k = 0), upper = chi2.ppf(1-a/2, 2k+2)/2 (Ulm 1990).
    PHE tools use Byar's approximation to these limits for counts of 10 or more; the exact
    limits are used here for all counts.

    >>> lo, hi = exact_poisson_ci(10)
    >>> round(float(lo), 3), round(float(hi), 3)
    (4.795, 18.39)
    """
    k = np.asarray(count, dtype=float)
    a = 1 - level
    lo = np.where(k > 0, stats.chi2.ppf(a / 2, 2 * k) / 2, 0.0)
    hi = stats.chi2.ppf(1 - a / 2, 2 * k + 2) / 2
    return lo, hi


def _select(incidents: pd.DataFrame, period=None, category=None) -> pd.DataFrame:
    inc = incidents
    if category is not None:
        cats = [category] if isinstance(category, str) else list(category)
        inc = inc[inc["category"].isin(cats)]
    if period is not None:
        p = as_period(period)
        inc = inc[p.contains(inc["date"])]
    return inc


def lsoa_rates(
    incidents: pd.DataFrame, areas: pd.DataFrame, *, per: float = 1000, period=None, category=None
) -> pd.DataFrame:
    """Incidents and rate per ``per`` residents for every LSOA (zeros included).

    Parameters
    ----------
    incidents : DataFrame
        Canonical incidents (``lsoa_code``, ``date``, ``category``), already filtered to
        what should be counted, or filtered here with ``period`` / ``category``.
    areas : DataFrame
        Canonical areas (one row per LSOA with ``population`` and IMD columns).
    per : float
        Rate denominator multiplier (1,000 residents by default).
    period : str or (start, end), optional
        Financial year label or date range.
    category : str or list, optional
        Canonical categories to count.

    Returns
    -------
    DataFrame
        ``lsoa_code``, ``count``, ``population``, ``rate`` and the area attributes
        (``lsoa_name``, ``ward_code``, ``ward_name``, ``place``, ``imd_score``,
        ``imd_rank``, ``imd_decile``, and domain scores where present).

    Raises
    ------
    ValueError
        If an incident's LSOA is missing from ``areas`` (the codes are listed) or a
        population is zero.

    Examples
    --------
    >>> areas = pd.DataFrame({"lsoa_code": ["E01000001", "E01000002"], "population": [1000, 2000]})
    >>> inc = pd.DataFrame({"lsoa_code": ["E01000001"] * 3, "date": pd.to_datetime(["2024-05-01"] * 3)})
    >>> lsoa_rates(inc, areas)[["lsoa_code", "count", "rate"]].values.tolist()
    [['E01000001', 3, 3.0], ['E01000002', 0, 0.0]]
    """
    _check_cols(incidents, ["lsoa_code"], "lsoa_rates", "incidents")
    _check_cols(areas, ["lsoa_code", "population"], "lsoa_rates", "areas")
    _check_population(areas, "lsoa_rates")
    inc = _select(incidents, period, category)
    missing = sorted(set(inc["lsoa_code"]) - set(areas["lsoa_code"]))
    if missing:
        raise ValueError(
            f"lsoa_rates: {len(missing)} LSOA code(s) in incidents are missing "
            f"from areas: {', '.join(missing[:10])}"
        )
    counts = inc.groupby("lsoa_code").size()
    out = areas.copy()
    out["count"] = out["lsoa_code"].map(counts).fillna(0).astype("int64")
    out["rate"] = out["count"] / out["population"] * per
    first = ["lsoa_code", "count", "population", "rate"]
    return out[first + [c for c in out.columns if c not in first]].reset_index(drop=True)


def lsoa_counts_by_year(
    incidents: pd.DataFrame, areas: pd.DataFrame, years: Sequence[str], *, per: float = 1000
) -> pd.DataFrame:
    """Long table of ``lsoa_code``, ``fy``, ``count``, ``population``, ``rate`` for each year."""
    fy = fy_labels(incidents["date"])
    inc = incidents.assign(fy=fy)
    inc = inc[inc["fy"].isin(list(years))]
    c = inc.groupby(["fy", "lsoa_code"]).size()
    idx = pd.MultiIndex.from_product([list(years), areas["lsoa_code"]], names=["fy", "lsoa_code"])
    out = c.reindex(idx, fill_value=0).rename("count").reset_index()
    out = out.merge(areas[["lsoa_code", "population"]], on="lsoa_code")
    out["rate"] = out["count"] / out["population"] * per
    return out


def _quantile_col(t: pd.DataFrame, decile_col: str, quantiles: int) -> pd.Series:
    if quantiles == 10:
        return t[decile_col].astype(int)
    if quantiles == 5:
        return ((t[decile_col].astype(int) + 1) // 2).astype(int)
    raise ValueError("quantiles must be 10 (deciles) or 5 (quintiles)")


def rates_by_decile(
    lsoa_table: pd.DataFrame,
    *,
    decile_col: str = "imd_decile",
    per: float = 1000,
    quantiles: int = 10,
    level: float = 0.95,
) -> pd.DataFrame:
    """Count, population and rate with exact Poisson CI per IMD decile (or quintile).

    rate = 1000 x count / population; CI = exact Poisson limits of the count (see
    :func:`exact_poisson_ci`) divided by the population. Every quantile 1..10 (1..5) gets a
    row; a quantile with no LSOAs has population 0 and NaN rate.

    Returns
    -------
    DataFrame
        ``quantile`` (1 = most deprived), ``n_lsoas``, ``count``, ``population``, ``rate``,
        ``ci_low``, ``ci_high``.

    Examples
    --------
    >>> t = pd.DataFrame({"imd_decile": [1, 1, 10], "count": [6, 4, 2], "population": [1000, 1000, 2000]})
    >>> r = rates_by_decile(t)
    >>> r.loc[r["quantile"] == 1, ["count", "rate"]].values.tolist(), int(r["rate"].isna().sum())
    ([[10.0, 5.0]], 8)
    """
    _check_cols(lsoa_table, [decile_col, "count", "population"], "rates_by_decile", "LSOA")
    _check_population(lsoa_table, "rates_by_decile")
    t = lsoa_table.assign(quantile=_quantile_col(lsoa_table, decile_col, quantiles))
    g = t.groupby("quantile").agg(
        n_lsoas=("count", "size"), count=("count", "sum"), population=("population", "sum")
    )
    g = g.reindex(range(1, quantiles + 1))
    g["n_lsoas"] = g["n_lsoas"].fillna(0).astype(int)
    g["count"] = g["count"].fillna(0).astype("int64")
    g["population"] = g["population"].fillna(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        g["rate"] = np.where(g["population"] > 0, g["count"] / g["population"] * per, np.nan)
        lo, hi = exact_poisson_ci(g["count"], level)
        g["ci_low"] = np.where(g["population"] > 0, lo / g["population"] * per, np.nan)
        g["ci_high"] = np.where(g["population"] > 0, hi / g["population"] * per, np.nan)
    return g.reset_index()


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
    _check_cols(lsoa_table, [x, y], "deprivation_correlation", "LSOA")
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

    from kcpp_analysis.analysis.trends import _cameron_trivedi

    for g in groups:
        if g not in _GROUPS:
            raise ValueError(f"rate_ratio: unknown group {g!r}; use one of {list(_GROUPS)}")
    col_a, vals_a = _GROUPS[groups[0]]
    col_b, vals_b = _GROUPS[groups[1]]
    _check_cols(lsoa_table, [col_a, "count", "population"], "rate_ratio", "LSOA")
    _check_population(lsoa_table, "rate_ratio")
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
        alpha_ct, p_od = _cameron_trivedi(y, np.asarray(m.fittedvalues))
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
      modelled rate at the most deprived end divided by that at the least deprived end, as
      in PHEindicatormethods ``phe_sii(rii = TRUE)`` (ratio of the fitted values at the two
      ends of the relative rank). Orientation: RII > 1 when rates are higher in the most
      deprived areas. NaN when the fitted rate at either end is not positive (a straight
      line through a steep gradient can cross zero).

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


@dataclass(frozen=True)
class ConcentrationResult:
    """Result of :func:`concentration`.

    ``lorenz``: ``cum_share_lsoas``, ``cum_share_incidents`` (from 0,0 to 1,1, LSOAs in
    ascending order of the value). ``top_shares``: ``top_pct``, ``n_lsoas``, ``share``.
    """

    gini: float
    gini_chance: float
    gini_adjusted: float
    total: float
    n_lsoas: int
    lorenz: pd.DataFrame
    top_shares: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        row = {
            "gini": self.gini,
            "gini_chance": self.gini_chance,
            "gini_adjusted": self.gini_adjusted,
            "total": self.total,
            "n_lsoas": self.n_lsoas,
        }
        for r in self.top_shares.itertuples():
            row[f"share_top_{r.top_pct:g}pct"] = r.share
        return pd.DataFrame([row])

    def summary(self) -> str:
        t10 = self.top_shares.set_index("top_pct")["share"].get(10, np.nan)
        return (
            f"The top 10% of LSOAs hold {100 * t10:.0f}% of incidents; Gini {self.gini:.2f} "
            f"(chance alone {self.gini_chance:.2f}; adjusted {self.gini_adjusted:.2f})."
        )


def gini(values: Sequence[float]) -> float:
    """Gini coefficient of non-negative values from the Lorenz curve (trapezium rule).

    G = 1 - sum_k (X_k - X_{k-1}) (Y_k + Y_{k-1}), LSOAs sorted ascending. All values equal
    gives 0; everything in one of n units gives (n - 1) / n.

    >>> gini([5, 5, 5, 5]), gini([0, 0, 0, 8])
    (0.0, 0.75)
    """
    v = np.sort(np.asarray(values, dtype=float))
    if len(v) == 0 or v.sum() == 0:
        return float("nan")
    y = np.concatenate([[0.0], np.cumsum(v) / v.sum()])
    return float(1 - ((y[1:] + y[:-1]) / len(v)).sum())


def concentration(
    lsoa_table: pd.DataFrame,
    *,
    value: str = "count",
    weight: str | None = "population",
    top: Sequence[float] = (1, 5, 10, 20),
    n_sim: int = 200,
    seed: int = 1,
) -> ConcentrationResult:
    r"""Lorenz curve, Gini and top-x% shares: how concentrated incidents are across LSOAs.

    The Gini uses LSOAs as equal units. Because counts are noisy, even a perfectly even
    underlying risk gives a Gini above 0, most of all when incidents are few relative to
    places (Bernasco & Steenbeek 2017). Following Mohler et al. (2019), the observed Gini is
    compared with ``gini_chance``: the mean Gini of ``n_sim`` multinomial allocations of the
    same total to the LSOAs with probabilities proportional to ``weight`` (population; equal
    if None), i.e. counts expected by chance alone. The adjusted Gini rescales the excess:
    :math:`G_{adj} = (G - G_0)/(1 - G_0)` (0 = no more concentrated than chance, 1 = maximal).

    Top shares: the share of all incidents in the top ``ceil(p% x n)`` LSOAs by ``value``.

    Returns
    -------
    ConcentrationResult

    Examples
    --------
    >>> r = concentration(pd.DataFrame({"count": [0, 0, 0, 10], "population": [1000] * 4}))
    >>> r.gini, float(r.top_shares.set_index("top_pct").loc[20, "share"])
    (0.75, 1.0)
    """
    _check_cols(lsoa_table, [value], "concentration", "LSOA")
    v = lsoa_table[value].to_numpy(dtype=float)
    if (v < 0).any():
        raise ValueError(f"concentration: column {value!r} has negative values")
    n, total = len(v), float(v.sum())
    s = np.sort(v)
    cum = np.concatenate([[0.0], np.cumsum(s) / total]) if total > 0 else np.full(n + 1, np.nan)
    lorenz = pd.DataFrame({"cum_share_lsoas": np.arange(n + 1) / n, "cum_share_incidents": cum})
    desc = s[::-1]
    rows = []
    for p in top:
        k = max(1, int(np.ceil(p / 100 * n)))
        rows.append(
            {"top_pct": p, "n_lsoas": k, "share": desc[:k].sum() / total if total > 0 else np.nan}
        )
    g = gini(v)
    g0 = float("nan")
    if total > 0 and float(total).is_integer():
        w = lsoa_table[weight].to_numpy(dtype=float) if weight else np.ones(n)
        rng = np.random.default_rng(seed)
        sims = rng.multinomial(int(total), w / w.sum(), size=n_sim)
        g0 = float(np.mean([gini(r) for r in sims]))
    gadj = (g - g0) / (1 - g0) if np.isfinite(g0) and g0 < 1 else float("nan")
    return ConcentrationResult(g, g0, gadj, total, n, lorenz, pd.DataFrame(rows))


@dataclass(frozen=True)
class HotspotResult:
    """Result of :func:`hotspots`: ranked ``lsoas`` and ``wards`` tables."""

    lsoas: pd.DataFrame
    wards: pd.DataFrame
    n_years: int

    def to_frame(self) -> pd.DataFrame:
        return self.lsoas.copy()


def ward_rates(lsoa_table: pd.DataFrame, *, per: float = 1000) -> pd.DataFrame:
    """Aggregate an LSOA table to wards: count, population, rate with exact Poisson CI.

    Examples
    --------
    >>> t = pd.DataFrame({"ward_code": ["w1", "w1"], "ward_name": ["W1", "W1"], "place": ["P", "P"],
    ...                   "count": [3, 1], "population": [1000, 1000]})
    >>> ward_rates(t)[["count", "population", "rate"]].values.tolist()
    [[4.0, 2000.0, 2.0]]
    """
    _check_cols(
        lsoa_table, ["ward_code", "ward_name", "place", "count", "population"], "ward_rates", "LSOA"
    )
    w = lsoa_table.groupby(["ward_code", "ward_name", "place"], as_index=False).agg(
        count=("count", "sum"), population=("population", "sum"), n_lsoas=("count", "size")
    )
    w["rate"] = w["count"] / w["population"] * per
    lo, hi = exact_poisson_ci(w["count"])
    w["ci_low"] = lo / w["population"] * per
    w["ci_high"] = hi / w["population"] * per
    return w.sort_values("rate", ascending=False).reset_index(drop=True)


def hotspots(
    lsoa_table: pd.DataFrame,
    *,
    top: int = 10,
    by: str = "rate",
    min_population: int = 500,
    history: pd.DataFrame | None = None,
    top_share: float = 0.10,
) -> HotspotResult:
    """Rank LSOAs and wards, with persistence of LSOA hotspots over years.

    LSOAs with population below ``min_population`` are left out of the ranking (a small
    denominator makes rates unstable). Persistence: given ``history`` (``lsoa_code``,
    ``fy``, ``count``, ``rate`` per year, see :func:`lsoa_counts_by_year`), the number of
    those years in which the LSOA was in the top ``top_share`` (10%) of LSOAs by ``by``.

    Returns
    -------
    HotspotResult
        ``lsoas``: ``rank``, ``lsoa_code``, ``lsoa_name``, ``ward_name``, ``place``,
        ``imd_decile``, ``count``, ``population``, ``rate``, ``years_in_top``, ``n_years``;
        ``wards``: the top wards by ``by`` from :func:`ward_rates`.

    Examples
    --------
    >>> t = pd.DataFrame({"lsoa_code": ["a", "b", "c"], "lsoa_name": ["A", "B", "C"],
    ...                   "ward_code": ["w1", "w1", "w2"], "ward_name": ["W1", "W1", "W2"],
    ...                   "place": ["P"] * 3, "imd_decile": [1, 5, 9], "count": [9, 2, 5],
    ...                   "population": [1000, 1000, 500]})
    >>> t["rate"] = t["count"] / t["population"] * 1000
    >>> h = hotspots(t, top=2, min_population=600)
    >>> h.lsoas["lsoa_code"].tolist(), h.wards["ward_name"].tolist()
    (['a', 'b'], ['W2', 'W1'])
    """
    if by not in ("rate", "count"):
        raise ValueError("hotspots: by must be 'rate' or 'count'")
    _check_cols(lsoa_table, ["lsoa_code", "count", "population", by], "hotspots", "LSOA")
    t = lsoa_table[lsoa_table["population"] >= min_population]
    # an LSOA with no incidents is never a hotspot; ties are broken by count, then by code
    ranked = (
        t[t["count"] > 0]
        .sort_values([by, "count", "lsoa_code"], ascending=[False, False, True])
        .head(top)
        .copy()
    )
    ranked.insert(0, "rank", range(1, len(ranked) + 1))
    n_years = 0
    if history is not None and len(history):
        h = history[history["lsoa_code"].isin(t["lsoa_code"])]
        n_years = h["fy"].nunique()
        k = max(1, int(np.ceil(top_share * t["lsoa_code"].nunique())))
        h = h[h["count"] > 0]  # zero-count LSOAs never count towards persistence
        topk = (
            h.sort_values(["fy", by, "lsoa_code"], ascending=[True, False, True])
            .groupby("fy")
            .head(k)
        )
        persist = topk.groupby("lsoa_code").size()
        ranked["years_in_top"] = ranked["lsoa_code"].map(persist).fillna(0).astype(int)
    else:
        ranked["years_in_top"] = np.nan
    ranked["n_years"] = n_years
    cols = [
        "rank",
        "lsoa_code",
        "lsoa_name",
        "ward_name",
        "place",
        "imd_decile",
        "count",
        "population",
        "rate",
        "years_in_top",
        "n_years",
    ]
    wards = ward_rates(lsoa_table).sort_values(by, ascending=False).head(top)
    return HotspotResult(
        ranked[[c for c in cols if c in ranked.columns]].reset_index(drop=True),
        wards.reset_index(drop=True),
        n_years,
    )


def _exp_transform(scores: pd.Series) -> np.ndarray:
    """:func:`exponential_transform` of a domain score's rank within ``scores`` (rank 1 =
    highest score = most deprived)."""
    n = int(scores.notna().sum())
    return exponential_transform(scores.rank(method="average", ascending=False).to_numpy(), n)


#: Domain rank columns of the published File 7 (IoD2019 and IoD2025 headings).
FILE7_RANK_COLUMNS = {
    "income": "Income Rank (where 1 is most deprived)",
    "employment": "Employment Rank (where 1 is most deprived)",
    "education": "Education, Skills and Training Rank (where 1 is most deprived)",
    "health": "Health Deprivation and Disability Rank (where 1 is most deprived)",
    "crime": "Crime Rank (where 1 is most deprived)",
    "barriers": "Barriers to Housing and Services Rank (where 1 is most deprived)",
    "living_environment": "Living Environment Rank (where 1 is most deprived)",
}


def exponential_transform(rank, n: int) -> np.ndarray:
    r"""MHCLG's exponential transformation of a national domain rank.

    With rank 1 the most deprived of ``n`` LSOAs, :math:`R = (n - rank + 1)/n` (1 for the
    most deprived, :math:`1/n` for the least) and :math:`X = -23 \ln(1 - R(1 - e^{-100/23}))`,
    which runs from about 0 (least deprived) to 100 (most deprived) and stretches the
    deprived end so that deprivation in one domain is not cancelled by affluence in another.

    References
    ----------
    MHCLG (2019, 2025). *The English Indices of Deprivation: Technical report*, section 3.8
    (combining the domains).

    Examples
    --------
    >>> [round(float(x), 2) for x in exponential_transform(np.array([1, 100]), 100)]
    [100.0, 0.23]
    """
    r = (n - np.asarray(rank, dtype=float) + 1) / n
    return -23 * np.log(1 - r * (1 - np.exp(-100 / 23)))


def recompute_imd(
    areas: pd.DataFrame,
    weights: dict[str, float] | None = None,
    *,
    rank_columns: dict[str, str] | None = None,
    n_lsoas: int | None = None,
) -> pd.Series:
    """The IMD score recomputed from the national domain ranks, with any weights.

    Each domain's national rank is exponentially transformed
    (:func:`exponential_transform`) and the transformed domains are combined with
    ``weights`` (default :data:`IMD_DOMAIN_WEIGHTS`, which sum to 0.999 as published; other
    weights are rescaled to that total, so ``weights`` without ``crime`` gives an IMD without
    its crime domain on the published scale). With the default weights this reproduces the published IMD score: on
    IoD2025 File 7 within 0.001 for every one of England's 33,755 LSOAs (the published scores
    are rounded to 3 decimals).

    Parameters
    ----------
    areas : DataFrame
        One row per LSOA with the national domain ranks (rank 1 = most deprived).
    weights : dict, optional
        Domain -> weight.
    rank_columns : dict, optional
        Domain -> rank column (default: the File 7 headings, :data:`FILE7_RANK_COLUMNS`).
    n_lsoas : int, optional
        LSOAs in England for the IoD version (IoD2025: 33,755; IoD2019: 32,844). Default:
        the largest rank found, which is right for a national file.

    Returns
    -------
    Series
        The recomputed score, indexed like ``areas`` (higher = more deprived).

    Examples
    --------
    >>> a = pd.DataFrame({d: [1, 2] for d in IMD_DOMAIN_WEIGHTS})
    >>> s = recompute_imd(a, rank_columns={d: d for d in IMD_DOMAIN_WEIGHTS}, n_lsoas=2)
    >>> round(float(s.iloc[0]), 1), round(float(s.iloc[1]), 1)
    (99.9, 15.6)
    """
    weights = dict(weights or IMD_DOMAIN_WEIGHTS)
    cols = rank_columns or FILE7_RANK_COLUMNS
    missing = [d for d in weights if d not in cols or cols[d] not in areas.columns]
    if missing:
        raise ValueError(f"recompute_imd: no national rank column for domain(s) {missing}")
    n = n_lsoas or int(max(areas[cols[d]].max() for d in weights))
    total = sum(weights.values())
    if total <= 0:
        raise ValueError("recompute_imd: weights must sum to more than 0")
    # the published weights sum to 0.999; other weights are rescaled to that same total so
    # an index without a domain stays on the published scale
    scale = sum(IMD_DOMAIN_WEIGHTS.values()) / total
    score = sum(w * scale * exponential_transform(areas[cols[d]], n) for d, w in weights.items())
    return pd.Series(score, index=areas.index, name="imd_score_recomputed")


def imd_without_crime(areas: pd.DataFrame, *, include_crime: bool = False) -> pd.DataFrame:
    r"""Recompute an IMD-style score from the domain scores, without the crime domain.

    Why: the IMD includes a crime domain (weight 9.3%) built from police recorded violence,
    burglary, theft and criminal damage. Correlating crime against the full IMD is partly
    circular, so an association could be inflated. Correlating against an index without
    the crime domain (or against income or employment deprivation alone) tests whether
    crime concentrates in deprived areas for reasons other than its own contribution.

    Method (MHCLG 2019 and 2025 technical reports, section 3): each domain's rank, scaled to
    (0, 1] with 1 the most deprived (:math:`R`), is exponentially transformed
    :math:`X = -23\ln(1 - R(1 - e^{-100/23}))` and the transformed domains are combined with
    the IMD weights (income 22.5%, employment 22.5%, education 13.5%, health 13.5%, crime,
    barriers and living environment 9.3% each); without crime the other weights are rescaled
    to the same total.

    - When the areas table carries the **national domain ranks** (``income_rank`` ...
      ``living_env_rank``, as the reference extract does), they are used
      (:func:`recompute_imd`, ``n_lsoas`` 33,755 for IoD2025 or 32,844 for IoD2019), so the
      score is on the published national scale; with crime included it reproduces the
      published IMD score.
    - Otherwise each domain score is ranked within the supplied LSOAs: the result orders
      LSOAs like the IMD but is not on the national scale.

    Returns
    -------
    DataFrame
        ``lsoa_code``, ``imd_score_no_crime`` (or ``imd_score_recomputed`` when
        ``include_crime``), and its local rank (1 = most deprived).

    Examples
    --------
    >>> a = pd.DataFrame({"lsoa_code": ["x", "y", "z"], **{c: [3.0, 2.0, 1.0] for c in IMD_WEIGHTS}})
    >>> imd_without_crime(a)["imd_rank_no_crime"].tolist()
    [1, 2, 3]
    """
    name = "imd_score_recomputed" if include_crime else "imd_score_no_crime"
    national = {
        d: c.replace("_score", "_rank")
        for d, c in zip(IMD_DOMAIN_WEIGHTS, IMD_WEIGHTS, strict=True)
    }
    if (
        all(c in areas.columns for c in national.values())
        and areas[list(national.values())].notna().all().all()
    ):
        weights = {d: w for d, w in IMD_DOMAIN_WEIGHTS.items() if include_crime or d != "crime"}
        version = areas["iod_version"].iloc[0] if "iod_version" in areas.columns else "IoD2025"
        n = 32844 if str(version) == "IoD2019" else 33755
        score = recompute_imd(areas, weights, rank_columns=national, n_lsoas=n).to_numpy()
        out = pd.DataFrame({"lsoa_code": areas["lsoa_code"].to_numpy(), name: score})
        out[name.replace("score", "rank")] = (
            out[name].rank(ascending=False, method="min").astype(int)
        )
        return out
    cols = list(IMD_WEIGHTS) if include_crime else [c for c in IMD_WEIGHTS if c != "crime_score"]
    _check_cols(areas, ["lsoa_code", *cols], "imd_without_crime", "areas")
    if areas[cols].isna().any().any():
        bad = areas.loc[areas[cols].isna().any(axis=1), "lsoa_code"].head(5).tolist()
        raise ValueError(f"imd_without_crime: missing domain scores for LSOAs {bad}")
    wsum = sum(IMD_WEIGHTS[c] for c in cols)
    score = sum(IMD_WEIGHTS[c] / wsum * _exp_transform(areas[c]) for c in cols)
    out = pd.DataFrame({"lsoa_code": areas["lsoa_code"].to_numpy(), name: score})
    out[name.replace("score", "rank")] = out[name].rank(ascending=False, method="min").astype(int)
    return out
