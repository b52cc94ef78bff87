"""Weighted survey measures (e.g. % feeling safe) with confidence intervals.

The weighted share of positive answers is :math:`\\hat p = \\sum w_i y_i / \\sum w_i`.
Unequal weights make it less precise than a simple random sample of the same size; Kish's
effective sample size :math:`n_{eff} = (\\sum w_i)^2 / \\sum w_i^2` measures that (Kish 1965).
The 95% interval is the Wilson score interval computed with :math:`n_{eff}` in place of n
(better than the Wald interval near 0% or 100%). The change between two waves uses the
two-sample z-test with :math:`SE = \\sqrt{\\hat p_1(1-\\hat p_1)/n_{eff,1} +
\\hat p_2(1-\\hat p_2)/n_{eff,2}}` (independent samples).

References
----------
- Kish, L. (1965). *Survey Sampling*. Wiley (design effect of weighting, effective n).
- Wilson, E.B. (1927), see :mod:`kcpp_analysis.analysis.repeats`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from kcpp_analysis.analysis.stats import wilson_ci

_COLS = ["survey", "wave", "question", "weight", "positive"]


def _filter(survey: pd.DataFrame, question: str, wave, survey_name) -> pd.DataFrame:
    missing = [c for c in _COLS if c not in survey.columns]
    if missing:
        raise ValueError(f"survey table is missing column(s) {missing}")
    s = survey[survey["question"] == question]
    if survey_name is not None:
        s = s[s["survey"] == survey_name]
    if wave is not None:
        waves = [wave] if isinstance(wave, str) else list(wave)
        s = s[s["wave"].isin(waves)]
    if (s["weight"] <= 0).any():
        raise ValueError("survey: column 'weight' must be positive")
    return s


def weighted_share(
    survey: pd.DataFrame,
    question: str,
    *,
    by: str | Sequence[str] | None = None,
    wave=None,
    survey_name: str | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Weighted share of positive answers to ``question`` per wave (and ``by`` group).

    Returns
    -------
    DataFrame
        ``wave``, ``[*by]``, ``n`` (respondents), ``n_eff`` (Kish), ``share`` (0-1),
        ``ci_low``, ``ci_high``. A wave with no responses is absent (not zero).

    Examples
    --------
    >>> s = pd.DataFrame({"survey": "r", "wave": "2024/25", "question": "q",
    ...                   "weight": [1.0, 1.0, 2.0, 4.0], "positive": [True, False, True, False]})
    >>> r = weighted_share(s, "q").iloc[0]
    >>> float(r.share), round(float(r.n_eff), 4)
    (0.375, 2.9091)
    """
    by = [by] if isinstance(by, str) else list(by or [])
    s = _filter(survey, question, wave, survey_name)
    keys = ["wave", *by]
    s = s.assign(_wy=s["weight"] * s["positive"].astype(float), _w2=s["weight"] ** 2)
    g = (
        s.groupby(keys, observed=True)
        .agg(n=("weight", "size"), w=("weight", "sum"), wy=("_wy", "sum"), w2=("_w2", "sum"))
        .reset_index()
    )
    g["n_eff"] = g["w"] ** 2 / g["w2"]
    g["share"] = g["wy"] / g["w"]
    g["ci_low"], g["ci_high"] = wilson_ci(g["share"] * g["n_eff"], g["n_eff"], level)
    return g[[*keys, "n", "n_eff", "share", "ci_low", "ci_high"]]


def compare_shares(
    survey: pd.DataFrame,
    question: str,
    *,
    current_wave: str,
    previous_wave: str,
    by: str | Sequence[str] | None = None,
    survey_name: str | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Change in the weighted share between two waves, with a two-sample z-test.

    Each wave's share is treated as a binomial proportion on its Kish effective sample size.
    The interval for the difference is Newcombe's hybrid score interval (method 10: from the
    two Wilson intervals), which stays inside [-1, 1] and works at 0% and 100%. The p-value
    is the unpooled z-test, or the pooled z-test when the unpooled standard error is zero
    (both waves at 0% or 100%); "significant" means p < ``alpha``.

    References
    ----------
    Newcombe, R.G. (1998). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. *Statistics in Medicine* 17, 873-890.

    Returns
    -------
    DataFrame
        ``[*by]``, ``previous_wave``, ``current_wave``, ``previous``, ``current``,
        ``difference`` (current - previous, proportion points), ``ci_low``, ``ci_high``,
        ``z``, ``p_value``, ``significant``. NaN when either wave has no responses.

    Examples
    --------
    >>> s = pd.DataFrame({"survey": "r", "question": "q", "weight": 1.0,
    ...                   "wave": ["2023/24"] * 100 + ["2024/25"] * 100,
    ...                   "positive": [True] * 80 + [False] * 20 + [True] * 60 + [False] * 40})
    >>> r = compare_shares(s, "q", current_wave="2024/25", previous_wave="2023/24").iloc[0]
    >>> round(float(r.difference), 2), bool(r.significant)
    (-0.2, True)
    """
    by = [by] if isinstance(by, str) else list(by or [])
    ws = weighted_share(
        survey, question, by=by, wave=[current_wave, previous_wave], survey_name=survey_name
    )
    cur = ws[ws["wave"] == current_wave].drop(columns="wave")
    prev = ws[ws["wave"] == previous_wave].drop(columns="wave")
    if by:
        m = cur.merge(prev, on=by, how="outer", suffixes=("_c", "_p"))
    else:
        m = pd.concat(
            [
                cur.add_suffix("_c").reset_index(drop=True),
                prev.add_suffix("_p").reset_index(drop=True),
            ],
            axis=1,
        )
        if m.empty:
            m = pd.DataFrame(
                [{"share_c": np.nan, "share_p": np.nan, "n_eff_c": np.nan, "n_eff_p": np.nan}]
            )
    pc, pp = m["share_c"].to_numpy(float), m["share_p"].to_numpy(float)
    se = np.sqrt(
        pc * (1 - pc) / m["n_eff_c"].to_numpy(float) + pp * (1 - pp) / m["n_eff_p"].to_numpy(float)
    )
    diff = pc - pp
    nc, npv = m["n_eff_c"].to_numpy(float), m["n_eff_p"].to_numpy(float)
    lc, uc = wilson_ci(pc * nc, nc, 1 - alpha)
    lp, up = wilson_ci(pp * npv, npv, 1 - alpha)
    lo = diff - np.sqrt((pc - lc) ** 2 + (up - pp) ** 2)
    hi = diff + np.sqrt((uc - pc) ** 2 + (pp - lp) ** 2)
    pooled = (pc * nc + pp * npv) / (nc + npv)
    se0 = np.sqrt(pooled * (1 - pooled) * (1 / nc + 1 / npv))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, diff / se, np.where(se0 > 0, diff / se0, np.nan))
    p = 2 * stats.norm.sf(np.abs(z))
    out = pd.DataFrame(
        {
            **{c: m[c] for c in by},
            "previous_wave": previous_wave,
            "current_wave": current_wave,
            "previous": pp,
            "current": pc,
            "difference": diff,
            "ci_low": lo,
            "ci_high": hi,
            "z": z,
            "p_value": p,
        }
    )
    out["significant"] = out["p_value"].lt(alpha).fillna(False)
    return out


def share_trend(
    survey: pd.DataFrame,
    question: str,
    *,
    waves: Sequence[str],
    survey_name: str | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    r"""Linear trend of a weighted share across ``waves`` (oldest first): one test.

    The Cochran-Armitage test for trend in proportions (Armitage 1955, *Biometrics* 11,
    375-386) on Kish effective sample sizes: with wave scores :math:`x_i = 0, 1, ...`,
    shares :math:`p_i`, effective sizes :math:`n_i`, pooled share :math:`\bar p` and
    :math:`\bar x = \sum n_i x_i / \sum n_i`,

    .. math:: z = \frac{\sum n_i (p_i - \bar p)(x_i - \bar x)}
                       {\sqrt{\bar p (1 - \bar p) \sum n_i (x_i - \bar x)^2}}.

    With two waves it is the pooled two-sample z-test. One test over the last waves keeps
    a single false-alarm rate (``alpha``) where testing each pair of waves would not.

    Returns
    -------
    DataFrame
        One row: ``first_wave``, ``last_wave``, ``waves`` (with responses), ``first``,
        ``last`` (shares, 0-1), ``z``, ``p_value``, ``significant``, ``direction``
        (``rising``, ``falling`` or ``no clear change``). NaN/"insufficient data" with
        fewer than two waves holding responses.

    Examples
    --------
    >>> s = pd.DataFrame({"survey": "r", "question": "q", "weight": 1.0,
    ...                   "wave": ["a"] * 100 + ["b"] * 100,
    ...                   "positive": [True] * 80 + [False] * 20 + [True] * 60 + [False] * 40})
    >>> r = share_trend(s, "q", waves=["a", "b"]).iloc[0]
    >>> round(float(r.z), 3), r.direction
    (-3.086, 'falling')
    """
    ws = weighted_share(survey, question, wave=list(waves), survey_name=survey_name)
    ws = ws.set_index("wave").reindex(list(waves)).dropna(subset=["share"])
    cols = ["first_wave", "last_wave", "waves", "first", "last", "z", "p_value"]
    if len(ws) < 2:
        row = dict.fromkeys(cols, np.nan)
        row.update(waves=len(ws), significant=False, direction="insufficient data")
        return pd.DataFrame([row])
    order = {w: i for i, w in enumerate(waves)}
    x = np.array([order[w] for w in ws.index], dtype=float)
    n = ws["n_eff"].to_numpy(float)
    p = ws["share"].to_numpy(float)
    pbar = float((n * p).sum() / n.sum())
    xbar = float((n * x).sum() / n.sum())
    num = float((n * (p - pbar) * (x - xbar)).sum())
    var = pbar * (1 - pbar) * float((n * (x - xbar) ** 2).sum())
    z = num / np.sqrt(var) if var > 0 else np.nan
    pv = float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else np.nan
    sig = bool(np.isfinite(pv) and pv < alpha)
    return pd.DataFrame(
        [
            {
                "first_wave": ws.index[0],
                "last_wave": ws.index[-1],
                "waves": len(ws),
                "first": float(p[0]),
                "last": float(p[-1]),
                "z": z,
                "p_value": pv,
                "significant": sig,
                "direction": ("rising" if z > 0 else "falling") if sig else "no clear change",
            }
        ]
    )
