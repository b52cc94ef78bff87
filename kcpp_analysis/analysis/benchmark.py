"""Benchmarking statistics: is that high? The area against England, its force area, the
partnership's own comparators and its statistical nearest neighbours.

Methods (each with its reference):

- :func:`nearest_neighbours`: CIPFA-style nearest neighbours, standardised Euclidean distance
  on documented variables (z-scores over all English LAs).
- :func:`comparator_groups`: the groups every benchmark page uses, built once.
- funnel plots: :mod:`kcpp_analysis.analysis.funnel` (exact limits as PHEindicatormethods,
  random-effects widening).
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
            missing.append(f"{m.name} ({m.note or 'not in the England table'})")
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
