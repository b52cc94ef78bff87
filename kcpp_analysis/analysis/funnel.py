r"""Funnel plots: which areas differ from a target by more than chance (and real variation
between areas) would produce.

Methods:

- :func:`exact_count_limits`: exact Poisson control limits as PHEindicatormethods computes
  them for counts and ratios (``poisson_funnel``; Spiegelhalter 2005). For an expected count
  :math:`E`, the upper limit is the count :math:`O_U` whose chance of being reached or passed
  is :math:`p` (0.025 for the 95% limit, 0.001 for 99.8%), with the Poisson tail made
  continuous through the gamma function: :math:`P(X \ge O \mid E) = P(\Gamma(O) \le E)`, so
  :math:`O_U` solves :math:`\Gamma^{-1}_{O_U}(p) = E`; the lower limit :math:`O_L` solves
  :math:`\Gamma^{-1}_{O_L + 1}(1 - p) = E` and **does not exist** when :math:`E < -\ln p`
  (3.69 at 95%, 6.91 at 99.8%): with fewer expected, even a zero is not unusual.
  (Treating the expected count as if it were observed, as a confidence interval would, puts
  the limits about one count off: up to several times too narrow at small counts.)
- :func:`between_area_variance`: the additive random-effects ("tau-squared") model of
  Spiegelhalter (2005) with the DerSimonian-Laird moment estimator, on the ratio scale
  :math:`y_i = O_i/E_i` with within-area variance :math:`1/E_i`:
  :math:`Q = \sum_i E_i (y_i - 1)^2`,
  :math:`\hat\tau^2 = \max\{0, (Q - (k - 1)) / (\sum w_i - \sum w_i^2 / \sum w_i)\}`,
  :math:`w_i = E_i`. Unlike a multiplicative factor from Winsorised z-scores, it keeps its
  size with a couple of dozen areas (measured: ``tests/test_funnel.py``).
- :func:`count_limits`: the exact limits when :math:`\hat\tau^2 = 0`, otherwise
  :math:`E(1 \pm z\sqrt{1/E + \hat\tau^2})` (normal approximation on the ratio scale, as
  Spiegelhalter 2005 does for the additive model); a lower limit at or below 0 does not exist.

References
----------
Spiegelhalter, D.J. (2005). Funnel plots for comparing institutional performance.
*Statistics in Medicine* 24, 1185-1202; and Handling over-dispersion of performance
indicators. *Quality and Safety in Health Care* 14, 347-351. DerSimonian, R. & Laird, N.
(1986). Meta-analysis in clinical trials. *Controlled Clinical Trials* 7, 177-188. Public
Health England, PHEindicatormethods (R package), ``poisson_funnel`` and its tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

LEVELS = (0.95, 0.998)


def _solve(f, target: float, hi: float) -> float:
    return float(optimize.brentq(lambda o: f(o) - target, 1e-12, hi, xtol=1e-10))


def exact_count_limits(expected, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact Poisson ``(lower, upper)`` count limits for each expected count (module
    docstring); the lower limit is NaN where it does not exist.

    Examples
    --------
    PHEindicatormethods' own test values: ``poisson_funnel(200, 0.025, "low")`` is 173.24086
    and ``poisson_funnel(500, 0.001, "high")`` is 573.02748, the expected counts at which 200
    is the 95% upper limit and 500 the 99.8% lower limit:

    >>> round(float(exact_count_limits([173.24086241121654], 0.95)[1][0]), 3)
    200.0
    >>> round(float(exact_count_limits([573.0274767209943], 0.998)[0][0]), 3)
    500.0
    >>> bool(np.isnan(exact_count_limits([2.5], 0.998)[0][0]))  # no lower limit below 6.91
    True
    """
    e = np.atleast_1d(np.asarray(expected, dtype=float))
    p = (1 - level) / 2
    lo = np.full(e.shape, np.nan)
    hi = np.full(e.shape, np.nan)
    for i, ei in enumerate(e):
        if not np.isfinite(ei) or ei <= 0:
            continue
        top = ei + 40 * np.sqrt(ei) + 60
        hi[i] = _solve(lambda o: special.gammaincinv(o, p), ei, top)
        if ei > -np.log(p):  # below -ln p even a zero is not unusual: no lower limit
            lo[i] = _solve(lambda o: special.gammaincinv(o + 1, 1 - p), ei, top)
    return lo, hi


@dataclass(frozen=True)
class BetweenAreaVariance:
    """:func:`between_area_variance`: ``tau2`` (0 when no extra variation), Cochran's ``q``
    with ``df`` = areas - 1, its ``p_value``, and ``tau_pct`` = 100 tau (the between-area
    standard deviation as a % of the target)."""

    tau2: float
    q: float
    df: int
    p_value: float

    @property
    def tau_pct(self) -> float:
        return 100 * float(np.sqrt(self.tau2))

    @property
    def overdispersed(self) -> bool:
        return self.tau2 > 0 and self.p_value < 0.05


def between_area_variance(observed, expected) -> BetweenAreaVariance:
    """DerSimonian-Laird between-area variance on the ratio scale (module docstring).

    Examples
    --------
    >>> r = between_area_variance([100, 100, 100], [100, 100, 100])
    >>> r.tau2, r.q
    (0.0, 0.0)
    """
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    ok = e > 0
    o, e = o[ok], e[ok]
    k = len(e)
    if k < 3:
        return BetweenAreaVariance(0.0, float("nan"), max(k - 1, 0), float("nan"))
    w = e
    q = float((w * (o / e - 1) ** 2).sum())
    denom = w.sum() - (w**2).sum() / w.sum()
    tau2 = max(0.0, (q - (k - 1)) / denom) if denom > 0 else 0.0
    return BetweenAreaVariance(tau2, q, k - 1, float(stats.chi2.sf(q, k - 1)))


def count_limits(expected, level: float = 0.95, tau2: float = 0.0):
    """Lower and upper count limits at each expected count: exact Poisson without extra
    variation, the additive random-effects limits with it (module docstring)."""
    e = np.atleast_1d(np.asarray(expected, dtype=float))
    if tau2 <= 0:
        return exact_count_limits(e, level)
    z = stats.norm.ppf(0.5 + level / 2)
    half = z * np.sqrt(1 / e + tau2)
    lo = e * (1 - half)
    return np.where(lo > 0, lo, np.nan), e * (1 + half)


def classify(observed, expected, tau2: float = 0.0) -> np.ndarray:
    """``"above 99.8%"``, ``"below 99.8%"``, ``"outside 95%"`` or ``""`` for each area."""
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    lo95, hi95 = count_limits(e, 0.95, tau2)
    lo998, hi998 = count_limits(e, 0.998, tau2)
    below = lambda x, lo: np.where(np.isnan(lo), False, x < lo)  # noqa: E731
    return np.where(
        o > hi998,
        "above 99.8%",
        np.where(
            below(o, lo998),
            "below 99.8%",
            np.where((o > hi95) | below(o, lo95), "outside 95%", ""),
        ),
    )


def funnel_frame(
    lo_population: float,
    hi_population: float,
    rate: float,
    *,
    tau2: float = 0.0,
    points: int = 120,
    per: float = 1000.0,
) -> pd.DataFrame:
    """The 95% and 99.8% limits as rates per ``per`` on a grid of populations, as
    :func:`kcpp_analysis.presentation.charts.funnel_chart` draws them: ``population``,
    ``lo95``, ``hi95``, ``lo998``, ``hi998`` (NaN where a lower limit does not exist),
    ``target``."""
    grid = np.linspace(lo_population, hi_population, points)
    e = rate * grid / per
    out = {"population": grid}
    for lv, tag in ((0.95, "95"), (0.998, "998")):
        lo, hi = count_limits(e, lv, tau2)
        out[f"lo{tag}"], out[f"hi{tag}"] = per * lo / grid, per * hi / grid
    out["target"] = rate
    return pd.DataFrame(out)
