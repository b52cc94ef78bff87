"""Reconstructing the IMD from its domains, e.g. without its crime domain."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kcpp_analysis.core.frames import require_columns

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
    require_columns(areas, ["lsoa_code", *cols], "imd_without_crime", "areas")
    if areas[cols].isna().any().any():
        bad = areas.loc[areas[cols].isna().any(axis=1), "lsoa_code"].head(5).tolist()
        raise ValueError(f"imd_without_crime: missing domain scores for LSOAs {bad}")
    wsum = sum(IMD_WEIGHTS[c] for c in cols)
    score = sum(IMD_WEIGHTS[c] / wsum * _exp_transform(areas[c]) for c in cols)
    out = pd.DataFrame({"lsoa_code": areas["lsoa_code"].to_numpy(), name: score})
    out[name.replace("score", "rank")] = out[name].rank(ascending=False, method="min").astype(int)
    return out
