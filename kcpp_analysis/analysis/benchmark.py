"""Benchmarking statistics: is that high? The area against England, its force area, the
partnership's own comparators and its statistical nearest neighbours.

Methods (each with its reference):

- :func:`nearest_neighbours`: CIPFA-style nearest neighbours, standardised Euclidean distance
  on documented variables (z-scores over all English LAs).
- :func:`comparator_groups`: the groups every benchmark page uses, built once.
- :func:`poisson_funnel`: exact Poisson control limits for a funnel plot (as
  PHEindicatormethods' ``phe_funnel`` with exact Poisson; Spiegelhalter 2005, *Statistics in
  Medicine* 24, 1185-1202), with Byars' approximation available for comparison.
- :func:`indirect_standardise`: expected count from national rates by IMD decile and the
  observed/expected ratio with an exact Poisson interval (Breslow & Day 1987, vol. II).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from kcpp_analysis.config.benchmark import NN_VARIABLES, BenchmarkConfig, ComparatorGroup


def nearest_neighbours(
    table: pd.DataFrame,
    target: str,
    *,
    variables=tuple(NN_VARIABLES),
    k: int = 15,
    code_col: str = "ltla24_code",
) -> pd.DataFrame:
    """The ``k`` areas nearest ``target`` by standardised Euclidean distance.

    Each variable is standardised to z-scores over every row of ``table`` (mean 0, sd 1,
    population sd), so no variable dominates by its units; the distance is
    :math:`d = \\sqrt{\\sum_v (z_{v,a} - z_{v,t})^2}` (the CIPFA nearest-neighbour model's
    approach, with its variables replaced by the documented open ones). Returns the
    neighbours sorted by distance (the target excluded) with ``distance`` and ``rank``.

    Examples
    --------
    >>> t = pd.DataFrame({"ltla24_code": list("abcd"), "x": [0.0, 1, 2, 10], "y": [0.0, 0, 0, 0]})
    >>> nearest_neighbours(t, "a", variables=("x",), k=2)["ltla24_code"].tolist()
    ['b', 'c']
    """
    if target not in set(table[code_col]):
        raise ValueError(f"nearest_neighbours: {target!r} is not in the table")
    x = table[list(variables)].astype(float)
    sd = x.std(ddof=0).replace(0, 1)
    z = (x - x.mean()) / sd
    t = z[table[code_col] == target].iloc[0]
    dist = np.sqrt(((z - t) ** 2).sum(axis=1))
    out = table.assign(distance=dist)
    out = out[out[code_col] != target].sort_values(["distance", code_col]).head(k)
    out["rank"] = np.arange(1, len(out) + 1)
    return out.reset_index(drop=True)


def overdispersion_phi(observed, expected, *, winsor: float = 0.1) -> float:
    r"""Spiegelhalter's (2005) multiplicative overdispersion factor for a funnel plot.

    z-scores :math:`z_i = (O_i - E_i)/\sqrt{E_i}` are Winsorised at the ``winsor`` and
    ``1 - winsor`` quantiles (so the outliers being looked for do not inflate the factor) and
    :math:`\hat\phi = \frac{1}{n}\sum z_i^2`. Returns 1.0 when
    :math:`n\hat\phi` is not above the 95% point of :math:`\chi^2_{n-1}` (no evidence of
    overdispersion). Spiegelhalter, D.J. (2005). Handling over-dispersion of performance
    indicators. *Quality and Safety in Health Care* 14, 347-351.
    """
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    ok = e > 0
    z = (o[ok] - e[ok]) / np.sqrt(e[ok])
    n = len(z)
    if n < 3:
        return 1.0
    lo, hi = np.quantile(z, [winsor, 1 - winsor])
    phi = float(np.mean(np.clip(z, lo, hi) ** 2))
    return phi if n * phi > stats.chi2.ppf(0.95, n - 1) else 1.0


def poisson_funnel(
    denominator,
    rate: float,
    *,
    level: float = 0.95,
    per: float = 1000.0,
    method: str = "exact",
    phi: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Funnel-plot control limits (as rates per ``per``) for areas of size ``denominator``
    around a target ``rate``.

    ``method="exact"``: the limits are the Poisson quantiles of the expected count
    :math:`\mu = rate \cdot n / per`, with the interpolation PHEindicatormethods uses
    (exact Poisson limits via the chi-square relation, Spiegelhalter 2005):
    :math:`L = \chi^2_{\alpha/2}(2\mu)/2`, :math:`U = \chi^2_{1-\alpha/2}(2\mu + 2)/2`.
    ``method="byars"``: Byars' approximation of the same limits. ``phi`` (from
    :func:`overdispersion_phi`) widens each limit's distance from the expected count by
    :math:`\sqrt{\phi}` (Spiegelhalter 2005, multiplicative model).

    Examples
    --------
    >>> lo, hi = poisson_funnel([10_000], 5.0, level=0.95)   # expected 50
    >>> round(float(lo[0] * 10), 2), round(float(hi[0] * 10), 2)
    (37.11, 65.92)
    """
    n = np.asarray(denominator, dtype=float)
    mu = rate * n / per
    a = 1 - level
    if method == "exact":
        lo = stats.chi2.ppf(a / 2, 2 * mu) / 2
        hi = stats.chi2.ppf(1 - a / 2, 2 * mu + 2) / 2
    elif method == "byars":
        z = stats.norm.ppf(1 - a / 2)
        lo = mu * (1 - 1 / (9 * mu) - z / (3 * np.sqrt(mu))) ** 3
        m1 = mu + 1
        hi = m1 * (1 - 1 / (9 * m1) + z / (3 * np.sqrt(m1))) ** 3
    else:
        raise ValueError("poisson_funnel: method must be 'exact' or 'byars'")
    if phi > 1:
        s = np.sqrt(phi)
        lo, hi = np.maximum(mu - s * (mu - lo), 0), mu + s * (hi - mu)
    return per * lo / n, per * hi / n


def funnel_limits(
    lo_population: float, hi_population: float, rate: float, *, phi: float = 1.0, points: int = 120
) -> pd.DataFrame:
    """The 95% and 99.8% funnel limits (:func:`poisson_funnel`) on a grid of ``points``
    populations from ``lo_population`` to ``hi_population``, as the frame
    :func:`kcpp_analysis.presentation.charts.funnel_chart` draws: ``population``, ``lo95``, ``hi95``,
    ``lo998``, ``hi998``, ``target``."""
    grid = np.linspace(lo_population, hi_population, points)
    l95, h95 = poisson_funnel(grid, rate, level=0.95, phi=phi)
    l998, h998 = poisson_funnel(grid, rate, level=0.998, phi=phi)
    return pd.DataFrame(
        {"population": grid, "lo95": l95, "hi95": h95, "lo998": l998, "hi998": h998, "target": rate}
    )


def indirect_standardise(
    observed: float, population_by_decile: pd.Series, rate_by_decile: pd.Series, *, per=1000.0
) -> dict:
    """Observed against expected from national rates by IMD decile.

    :math:`E = \\sum_d p_d r_d / per`; the ratio :math:`O/E` has the exact Poisson interval
    of :math:`O` divided by :math:`E`: :math:`[\\chi^2_{0.025}(2O)/2E, \\chi^2_{0.975}(2O+2)/2E]`
    (Breslow & Day 1987). A ratio above 1 means more than the area's deprivation profile
    predicts from England's rates.

    Examples
    --------
    >>> r = indirect_standardise(120, pd.Series({1: 1000, 10: 1000}), pd.Series({1: 80.0, 10: 20.0}))
    >>> r["expected"], round(r["ratio"], 2)
    (100.0, 1.2)
    """
    p = population_by_decile.astype(float)
    r = rate_by_decile.reindex(p.index).astype(float)
    expected = float((p * r).sum() / per)
    o = float(observed)
    lo = stats.chi2.ppf(0.025, 2 * o) / 2 if o > 0 else 0.0
    hi = stats.chi2.ppf(0.975, 2 * o + 2) / 2
    return {
        "observed": o,
        "expected": expected,
        "ratio": o / expected if expected > 0 else np.nan,
        "ci_low": lo / expected if expected > 0 else np.nan,
        "ci_high": hi / expected if expected > 0 else np.nan,
    }


def rank_and_percentile(values: pd.Series, target_value: float) -> tuple[int, float]:
    """Rank (1 = highest rate) and percentile (share of areas with a lower rate, %)."""
    v = values.dropna().astype(float)
    rank = int((v > target_value).sum()) + 1
    pct = 100.0 * float((v < target_value).sum()) / len(v)
    return rank, pct


@dataclass(frozen=True)
class ComparatorGroups:
    """The comparison groups of one area, built once (:func:`comparator_groups`).

    ``me`` is the area's row of the LA table; ``nearest`` its statistical nearest
    neighbours; ``force`` the other districts of its police force area; ``family`` the
    partnership's own comparators (rows found in the table) with ``family_missing`` naming
    members that have no row (e.g. a Welsh authority in an England-only table) and why;
    ``user`` an optional official group."""

    me: pd.Series
    nearest: pd.DataFrame
    force: pd.DataFrame
    family: pd.DataFrame
    family_label: str
    family_missing: tuple[str, ...] = ()
    user: pd.DataFrame = field(default_factory=pd.DataFrame)
    user_label: str = ""


def _members(la: pd.DataFrame, group: ComparatorGroup | None, code_col: str):
    if group is None:
        return la.iloc[0:0], ()
    rows, missing = [], []
    for m in group.members:
        hit = la[la[code_col].isin(m.codes)]
        if hit.empty:
            missing.append(f"{m.name}: {m.note or 'not in the England table'}")
        else:
            rows.append(hit)
    frame = pd.concat(rows, ignore_index=True) if rows else la.iloc[0:0]
    return frame, tuple(missing)


def comparator_groups(
    la: pd.DataFrame, target: str, config: BenchmarkConfig, *, code_col: str = "ltla24_code"
) -> ComparatorGroups:
    """Every comparison group of ``target`` from the LA table and ``params/benchmark.yaml``.

    Raises ``ValueError`` when the target is not in the table.
    """
    if target not in set(la[code_col]):
        raise ValueError(f"comparator_groups: {target!r} is not in the LA table")
    me = la[la[code_col] == target].iloc[0]
    nn = nearest_neighbours(
        la, target, variables=config.nearest_neighbours.variables, k=config.nearest_neighbours.k
    )
    force = la[(la["pfa24_code"] == me["pfa24_code"]) & (la[code_col] != target)]
    fam, missing = _members(la, config.partnership_comparators, code_col)
    user, _ = _members(la, config.user_group, code_col)
    return ComparatorGroups(
        me=me,
        nearest=nn,
        force=force,
        family=fam,
        family_label=(
            config.partnership_comparators.label if config.partnership_comparators else ""
        ),
        family_missing=missing,
        user=user,
        user_label=config.user_group.label if config.user_group else "",
    )


def england_rate(la: pd.DataFrame, indicator: str) -> float:
    """The population-weighted mean of the LA rates (England's rate on the same basis)."""
    ok = la[indicator].notna()
    return float(
        (la.loc[ok, indicator] * la.loc[ok, "population"]).sum() / la.loc[ok, "population"].sum()
    )
