"""Statistical process control: the XmR chart with NHS "Making Data Count" rules.

References: NHS England (2019, updated 2021), *Making Data Count*; Wheeler (1993),
*Understanding Variation*, SPC Press.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)


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
        """The chart in one sentence.

        >>> pts = pd.DataFrame({"variation": ["common cause", "concern", "concern"]})
        >>> SpcResult(pts, 10.0, 2.0, 4.7, 15.3, "down", None, None).summary()
        'Mean 10.0, process limits 4.7 to 15.3; 2 months of concerning special-cause variation, none improving; latest point: concern.'
        >>> SpcResult(pts.iloc[:1], 10.0, 2.0, 4.7, 15.3, "down", None, None).summary()
        'Mean 10.0, process limits 4.7 to 15.3; no special-cause variation; latest point: common cause.'
        """
        n_imp = int((self.points["variation"] == "improvement").sum())
        n_con = int((self.points["variation"] == "concern").sum())

        def months(n):
            return f"{n} {'month' if n == 1 else 'months'}"

        if n_imp == n_con == 0:
            special = "no special-cause variation"
        elif n_imp == 0:
            special = f"{months(n_con)} of concerning special-cause variation, none improving"
        elif n_con == 0:
            special = f"{months(n_imp)} of improving special-cause variation, none concerning"
        else:
            special = (
                f"{months(n_con)} of concerning and {months(n_imp)} of improving special-cause "
                "variation"
            )
        s = (
            f"Mean {self.mean:,.1f}, process limits {self.lower:,.1f} to {self.upper:,.1f}; "
            f"{special}; latest point: {self.latest_variation}."
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
    rho: float = 0.0,
) -> SpcResult:
    """NHS "Making Data Count" XmR (individuals) chart with special-cause rules.

    Centre line :math:`\\bar x` and mean moving range :math:`\\overline{MR}` = mean of
    :math:`|x_i - x_{i-1}|` are computed from the first ``baseline_points`` points (all by
    default); with ``screen_outliers`` (the default, as in NHSRplotthedots) moving ranges of
    at least :math:`3.267\\,\\overline{MR}` are left out and :math:`\\overline{MR}`
    recomputed, so one extreme month does not widen the limits. Natural process limits are
    :math:`\\bar x \\pm 2.66\\,\\overline{MR}` (2.66 = 3 / 1.128, Wheeler 1993).

    Correlated months (``rho`` > 0, the series' lag-1 residual autocorrelation from its trend
    model): the mean moving range of an AR(1) series estimates :math:`\\sigma\\sqrt{1-\\rho}`,
    not :math:`\\sigma`, so limits from it are too tight and flag common-cause months
    (Montgomery 2020, *Introduction to Statistical Quality Control*, 8th ed., s. 10.4;
    Maragah & Woodall 1992, *J. Statist. Comput. Simul.* 40). The limits (and the two-thirds
    lines) are widened by :math:`1/\\sqrt{1-\\rho}`, which restores :math:`\\pm 3\\sigma`;
    NHSRplotthedots has no such adjustment, so with ``rho`` 0 this function is theirs.
    Special-cause rules, implemented as NHSRplotthedots (``ptd_calculate_point_type``) does:

    1. ``rule_outside``: a point outside the process limits;
    2. ``rule_shift``: ``run_length`` (7) or more consecutive points on one side of the mean
       (a point on the mean breaks the run);
    3. ``rule_trend``: ``run_length`` (7) or more consecutive points each higher (or each
       lower) than the one before (an equal value breaks it);
    4. ``rule_two_of_three``: within three consecutive points all on the same side of the
       mean, at least two lie between two-thirds of the way to a limit
       (:math:`\\bar x \\pm 1.773\\,\\overline{MR}`) and the limit; those points are flagged.

    A flagged point's direction follows the first rule that flags it, in NHSRplotthedots'
    order (``ptd_special_cause_type``): outside the limits (its side of the mean), part of a
    trend (the trend's direction: the step after the point when the point and the next are
    both in a trend, otherwise the step before), two of three (its side), a shift (its
    side). It is ``concern`` when that direction is the wrong one for ``improvement``
    (``"decrease"``: up is concern) and ``improvement`` otherwise.

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
    rho = float(rho) if np.isfinite(rho) and rho > 0 else 0.0
    width = 2.66 * mr_bar / np.sqrt(1 - min(rho, 0.95))
    ucl, lcl = mean + width, mean - width
    hi2, lo2 = mean + width * 2 / 3, mean - width * 2 / 3
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
    # direction by the first rule that fires (NHSRplotthedots' order)
    side = np.where(x > mean, 1, -1)
    in_trend = trend_hi | trend_lo
    step = np.sign(np.diff(x))
    right = np.concatenate([step, step[-1:]])
    left = np.concatenate([[0.0], step])
    nxt = np.concatenate([in_trend[1:], [False]])
    trend_dir = np.where(in_trend & nxt, right, left)
    direction = np.select(
        [out_hi | out_lo, in_trend, tt_hi | tt_lo, shift_hi | shift_lo],
        [side, trend_dir, side, side],
        default=0,
    )
    good_high = improvement == "increase"
    variation = np.full(n, "common cause", dtype=object)
    variation[direction > 0] = "improvement" if good_high else "concern"
    variation[direction < 0] = "concern" if good_high else "improvement"
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
