"""Area-level risk and protective factors: ecological association, never cause.

The Serious Violence Duty asks partnerships to describe the causes of serious violence. What
area data can honestly give is an **ecological association**: across the neighbourhoods of
the area, is a priority's rate higher where a factor is higher? It says nothing about people
(the ecological fallacy: Robinson 1950), and nothing about cause (the factors move together,
and with crime itself).

:func:`factor_associations` gives, for each factor, Spearman's rank correlation with the
priority's LSOA rate and an interval from a **cluster bootstrap over wards**: neighbouring
LSOAs are alike (spatial autocorrelation), so an interval that treats 260 LSOAs as
independent is too narrow; resampling whole wards keeps that likeness inside each replicate
(Field and Welsh 2007, "Bootstrapping clustered data", JRSS B 69:369-390). The intervals are
percentile intervals at the **Bonferroni-adjusted** level ``1 - (1 - level) / k`` for ``k``
factors, so that "associated" (the interval excludes 0) is claimed for any factor of a
priority with no real association in at most about ``1 - level`` of priorities
(``tests/test_risk_factors.py`` measures it by simulation with ward-level noise).

:data:`FACTORS` lists the factors the reference extract carries (IoD2025 domain scores and
the Census 2021 share of residents aged 16-24); :data:`BOROUGH_ONLY` the risk and protective
factors partnerships usually hold only as borough figures (partner indicators), which cannot
be associated across areas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

#: factor column -> how a reader names it (higher value = more of the factor)
FACTORS: dict[str, str] = {
    "income_score": "Income deprivation",
    "employment_score": "Employment deprivation",
    "education_score": "Education, skills and training deprivation",
    "health_score": "Health deprivation and disability",
    "barriers_score": "Barriers to housing and services",
    "living_env_score": "Living environment deprivation",
    "share_16_24": "Share of residents aged 16-24",
}

#: risk and protective factors usually held only as borough figures (partner indicators)
BOROUGH_ONLY: tuple[str, ...] = (
    "young people not in education, employment or training (NEET)",
    "school exclusions and suspensions",
    "adults and young people in substance misuse treatment",
    "mental health contacts",
    "children in need and looked-after children",
)


def factor_table(areas: pd.DataFrame) -> pd.DataFrame:
    """The factors of :data:`FACTORS` available for each LSOA (``lsoa_code``, ``ward_code``
    and one column per factor; a factor missing from the areas table is left out)."""
    out = areas[["lsoa_code", "ward_code"]].copy()
    for c in FACTORS:
        if c == "share_16_24":
            if {"pop_16_24", "population"} <= set(areas.columns):
                out[c] = areas["pop_16_24"] / areas["population"].where(areas["population"] > 0)
        elif c in areas.columns:
            out[c] = pd.to_numeric(areas[c], errors="coerce")
    keep = [c for c in FACTORS if c in out.columns and out[c].notna().all()]
    return out[["lsoa_code", "ward_code", *keep]]


def _ranks(m: np.ndarray) -> np.ndarray:
    return stats.rankdata(m, axis=0)


def _spearman_columns(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Spearman's rho of ``y`` (n,) with each column of ``x`` (n, k): Pearson on mid-ranks."""
    ry = _ranks(y[:, None])[:, 0]
    rx = _ranks(x)
    ry = ry - ry.mean()
    rx = rx - rx.mean(axis=0)
    den = np.sqrt((ry**2).sum() * (rx**2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (ry @ rx) / den


def _weighted_mid_ranks(v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Mid-ranks of ``v`` (n,) in each replicate that holds item ``i`` ``w[b, i]`` times
    (``w``: (reps, n)): the rank :func:`scipy.stats.rankdata` gives each copy of item ``i``
    in the replicated sample, i.e. (copies of smaller values) + (copies of equal values + 1) / 2."""
    order = np.argsort(v, kind="stable")
    sv = v[order]
    starts = np.flatnonzero(np.r_[True, sv[1:] != sv[:-1]])
    group = np.cumsum(np.r_[True, sv[1:] != sv[:-1]]) - 1  # tie group of each sorted item
    gsum = np.add.reduceat(w[:, order], starts, axis=1)  # copies in each tie group
    below = np.cumsum(gsum, axis=1) - gsum
    ranks = np.empty_like(w, dtype=float)
    ranks[:, order] = (below + (gsum + 1) / 2)[:, group]
    return ranks


def _weighted_spearman(y: np.ndarray, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Spearman's rho of ``y`` with each column of ``x`` in every replicate of ``w``
    (:func:`_weighted_mid_ranks`): Pearson on the replicate's mid-ranks with each item
    weighted by its copies, which equals :func:`_spearman_columns` on the replicated rows."""
    tot = w.sum(axis=1, keepdims=True)
    ry = _weighted_mid_ranks(y, w)
    ry = ry - (w * ry).sum(axis=1, keepdims=True) / tot
    out = np.empty((w.shape[0], x.shape[1]))
    syy = (w * ry**2).sum(axis=1)
    for j in range(x.shape[1]):
        rx = _weighted_mid_ranks(x[:, j], w)
        rx = rx - (w * rx).sum(axis=1, keepdims=True) / tot
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, j] = (w * ry * rx).sum(axis=1) / np.sqrt(syy * (w * rx**2).sum(axis=1))
    return out


def factor_associations(
    rates: pd.DataFrame,
    factors: pd.DataFrame,
    *,
    level: float = 0.95,
    reps: int = 2000,
    seed: int = 20260401,
) -> pd.DataFrame:
    r"""Spearman correlation of an LSOA rate with each factor, with ward-cluster bootstrap
    intervals at the Bonferroni-adjusted level.

    Parameters
    ----------
    rates : DataFrame
        ``lsoa_code`` and ``rate`` (incidents per 1,000 residents).
    factors : DataFrame
        :func:`factor_table`: ``lsoa_code``, ``ward_code`` and one column per factor.
    level : float
        Family-wise confidence level over the ``k`` factors; each interval is at
        :math:`1 - (1 - \text{level})/k`.
    reps : int
        Bootstrap replicates (wards drawn with replacement, all their LSOAs kept).

    Returns
    -------
    DataFrame
        One row per factor: ``factor``, ``label``, ``rho`` (on all LSOAs), ``ci_low``,
        ``ci_high``, ``level`` (of each interval), ``n_lsoas``, ``n_wards``, ``associated``
        (``"higher"`` / ``"lower"`` when the interval excludes 0, else ``""``). Empty
        when fewer than 5 wards or no factor.

    Examples
    --------
    >>> f = pd.DataFrame({"lsoa_code": list("abcdefghij"), "ward_code": list("aabbccddee"),
    ...                   "income_score": np.arange(10.0)})
    >>> r = pd.DataFrame({"lsoa_code": list("abcdefghij"), "rate": np.arange(10.0) ** 2})
    >>> float(factor_associations(r, f, reps=200).loc[0, "rho"])
    1.0
    """
    cols = [c for c in factors.columns if c in FACTORS]
    d = factors.merge(rates[["lsoa_code", "rate"]], on="lsoa_code", how="inner").dropna(
        subset=["rate"]
    )
    wards = d["ward_code"].astype(str).to_numpy()
    uw, inv = np.unique(wards, return_inverse=True)
    empty = pd.DataFrame(
        columns=[
            "factor",
            "label",
            "rho",
            "ci_low",
            "ci_high",
            "level",
            "n_lsoas",
            "n_wards",
            "associated",
        ]
    )
    if not cols or len(uw) < 5 or d["rate"].nunique() < 2:
        return empty
    y = d["rate"].to_numpy(dtype=float)
    x = d[cols].to_numpy(dtype=float)
    rho = _spearman_columns(y, x)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(uw), (reps, len(uw)))
    # a replicate holds each LSOA as many times as its ward was drawn
    times = np.zeros((reps, len(uw)))
    np.add.at(times, (np.repeat(np.arange(reps), len(uw)), draws.ravel()), 1)
    boot = _weighted_spearman(y, x, times[:, inv])
    each = 1 - (1 - level) / len(cols)
    lo, hi = np.nanquantile(boot, [(1 - each) / 2, 1 - (1 - each) / 2], axis=0)
    assoc = np.where(lo > 0, "higher", np.where(hi < 0, "lower", ""))
    return pd.DataFrame(
        {
            "factor": cols,
            "label": [FACTORS[c] for c in cols],
            "rho": rho,
            "ci_low": lo,
            "ci_high": hi,
            "level": each,
            "n_lsoas": len(d),
            "n_wards": len(uw),
            "associated": assoc,
        }
    )
