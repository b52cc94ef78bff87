"""Benchmarking: is that high? Kirklees against England, West Yorkshire and similar areas.

Built by :func:`build_benchmark` from the national open files (``kcpp reference build``
writes them into ``kcpp_analysis/data/reference/england/``):

- ``la_benchmark.csv``: one row per English local authority district (2024): Census 2021
  residents, age structure, share of residents in rural LSOAs (RUC 2021), IoD2025 average
  IMD score, community safety partnership and police force area, and each IoD2025
  police-recorded crime indicator aggregated from its LSOAs with **Census 2021 usual
  residents as weights**: :math:`r_{LA} = \\sum_i r_i p_i / \\sum_i p_i`. The IoD rates are
  per 1,000 *at-risk* population (burglary per 1,000 properties), so the aggregate
  approximates the published-style LA rate; it ranks areas consistently but is not an
  official LA rate.
- ``rate_by_imd_decile.csv``: the national rate of each indicator by IMD decile (same
  weighting), for indirect standardisation.

Methods here (each with its reference):

- :func:`nearest_neighbours`: CIPFA-style nearest neighbours, standardised Euclidean distance
  on documented variables (z-scores over all English LAs).
- :func:`poisson_funnel`: exact Poisson control limits for a funnel plot (as
  PHEindicatormethods' ``phe_funnel`` with exact Poisson; Spiegelhalter 2005, *Statistics in
  Medicine* 24, 1185-1202), with Byars' approximation available for comparison.
- :func:`indirect_standardise`: expected count from national rates by IMD decile and the
  observed/expected ratio with an exact Poisson interval (Breslow & Day 1987, vol. II).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from kcpp_analysis.core.errors import SourceError
from kcpp_analysis.core.paths import REFERENCE_DIR

ENGLAND_DIR = REFERENCE_DIR / "england"

#: IoD2025 indicator column -> short name and label
INDICATORS = {
    "violence_with_injury_rate_per_1_000_at_risk_population": (
        "violence_with_injury",
        "Violence with injury",
    ),
    "violence_without_injury_rate_per_1_000_at_risk_population": (
        "violence_without_injury",
        "Violence without injury",
    ),
    "stalking_and_harassment_rate_per_1_000_at_risk_population": (
        "stalking_harassment",
        "Stalking and harassment",
    ),
    "burglary_rate_per_1_000_at_risk_properties": ("burglary", "Burglary (per 1,000 properties)"),
    "theft_rate_per_1_000_at_risk_population": ("theft", "Theft"),
    "criminal_damage_rate_per_1_000_at_risk_population": ("criminal_damage", "Criminal damage"),
    "public_order_and_possession_of_weapons_rate_per_1_000_at_risk_population": (
        "public_order_weapons",
        "Public order and weapons",
    ),
    "anti_social_behaviour_rate_per_1_000_at_risk_population": (
        "anti_social_behaviour",
        "Anti-social behaviour",
    ),
}
INDICATOR_LABELS = dict(INDICATORS.values())
#: variables of the nearest-neighbour model (documented in the report and the README)
NN_VARIABLES = {
    "imd_average_score": "IoD2025 average IMD score",
    "pct_0_15": "% residents aged 0-15 (Census 2021)",
    "pct_65_plus": "% residents aged 65+ (Census 2021)",
    "pct_rural": "% residents in rural LSOAs (RUC 2021)",
    "log_population": "log of Census 2021 residents",
}


def build_benchmark(folder: Path, out: Path | None = None) -> Path:
    """Write ``la_benchmark.csv`` and ``rate_by_imd_decile.csv`` from the national files."""
    from kcpp_analysis.data.reference import NATIONAL_FILES, _need

    folder = Path(folder)
    out = Path(out) if out else ENGLAND_DIR
    lk = pd.read_csv(_need(folder, "lookup"), dtype=str)
    lk = lk[lk["ltla24_code"].str.startswith("E")][["lsoa21_code", "ltla24_code", "ltla24_name"]]
    census = pd.read_csv(_need(folder, "census"))
    c = census.pivot_table(
        index="lsoa21_code", columns="age_group", values="usual_residents", aggfunc="sum"
    )
    pop = c.sum(axis=1).rename("population")
    ind_path = folder / NATIONAL_FILES["iod_indicators"]
    if not ind_path.is_file():
        raise SourceError(f"{ind_path}: national file not found (benchmark needs it)")
    ind = pd.read_csv(ind_path).rename(columns={"LSOA code (2021)": "lsoa21_code"})
    ind = ind[["lsoa21_code", *INDICATORS]].rename(columns={k: v[0] for k, v in INDICATORS.items()})
    f7 = pd.read_csv(_need(folder, "iod_file7"))
    dec = f7.set_index("LSOA code (2021)")[
        "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"
    ].rename("imd_decile")
    ruc = pd.read_csv(_need(folder, "ruc"), dtype=str).set_index("lsoa21_code")["ruc"]
    d = lk.merge(ind, on="lsoa21_code", how="inner")
    d["population"] = d["lsoa21_code"].map(pop)
    d["imd_decile"] = d["lsoa21_code"].map(dec)
    d["rural"] = d["lsoa21_code"].map(ruc).eq("Rural")
    d["age_0_15"] = d["lsoa21_code"].map(c["Aged 15 years and under"])
    d["age_65"] = d["lsoa21_code"].map(c["Aged 65 years and over"])
    names = [v[0] for v in INDICATORS.values()]
    g = d.groupby(["ltla24_code", "ltla24_name"])
    la = g["population"].sum().rename("population").to_frame()
    for n in names:
        w = d["population"].where(d[n].notna(), 0)
        la[n] = (d[n].fillna(0) * w).groupby([d["ltla24_code"], d["ltla24_name"]]).sum() / (
            w.groupby([d["ltla24_code"], d["ltla24_name"]]).sum()
        )
    la["pct_0_15"] = 100 * g["age_0_15"].sum() / la["population"]
    la["pct_65_plus"] = 100 * g["age_65"].sum() / la["population"]
    la["pct_rural"] = (
        100
        * (d["population"] * d["rural"]).groupby([d["ltla24_code"], d["ltla24_name"]]).sum()
        / la["population"]
    )
    la = la.reset_index()
    summ = pd.read_csv(folder / "iod2025_england_ltla24_summaries.csv")[
        ["ltla24_code", "imd_average_score", "imd_rank_of_average_score"]
    ]
    la = la.merge(summ, on="ltla24_code", how="left")
    csp = pd.read_csv(folder / "ons_ltla24_csp24_pfa24_lookup.csv", dtype=str)
    # a few new unitary authorities hold several CSPs: one row per district, names joined
    csp = csp.groupby("ltla24_code", as_index=False).agg(
        csp24_name=("csp24_name", lambda s: "; ".join(sorted(set(s)))),
        pfa24_code=("pfa24_code", "first"),
        pfa24_name=("pfa24_name", "first"),
    )
    la = la.merge(
        csp[["ltla24_code", "csp24_name", "pfa24_code", "pfa24_name"]], on="ltla24_code", how="left"
    )
    la["log_population"] = np.log(la["population"])
    la = la.sort_values("ltla24_code").reset_index(drop=True)
    rows = []
    for n in names:
        ok = d[n].notna() & d["imd_decile"].notna()
        x = d[ok]
        r = (x[n] * x["population"]).groupby(x["imd_decile"]).sum() / x.groupby("imd_decile")[
            "population"
        ].sum()
        rows += [{"indicator": n, "imd_decile": int(k), "rate": float(v)} for k, v in r.items()]
    out.mkdir(parents=True, exist_ok=True)
    la.round(6).to_csv(out / "la_benchmark.csv", index=False, lineterminator="\n")
    pd.DataFrame(rows).round(6).to_csv(
        out / "rate_by_imd_decile.csv", index=False, lineterminator="\n"
    )
    return out


def load_benchmark() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The shipped England tables (LA benchmark, national rate by IMD decile)."""
    la, rd = ENGLAND_DIR / "la_benchmark.csv", ENGLAND_DIR / "rate_by_imd_decile.csv"
    if not la.is_file():
        raise SourceError(
            f"{la}: no benchmark table; build it with `kcpp reference build --lad <LAD> "
            "--from <folder of the national files>`"
        )
    return pd.read_csv(la), pd.read_csv(rd)


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


def spread_sentence(name: str, value: float, group: pd.Series, group_label: str) -> str:
    """A hedged sentence on where ``value`` sits in ``group``'s spread (z-score bands:
    within 1 sd "similar to", 1-2 sd "higher/lower than most", beyond 2 sd "well above/below")."""
    g = group.dropna().astype(float)
    if len(g) < 3 or g.std() == 0:
        return ""
    z = (value - g.mean()) / g.std()
    if abs(z) < 1:
        where = "similar to"
    elif abs(z) < 2:
        where = "higher than most of" if z > 0 else "lower than most of"
    else:
        where = "well above" if z > 0 else "well below"
    return (
        f"{name}: {value:,.1f} per 1,000, {where} {group_label} (mean {g.mean():,.1f}, "
        f"range {g.min():,.1f} to {g.max():,.1f})."
    )


# --------------------------------------------------------------------------------------
# configuration (params/benchmark.yaml)
# --------------------------------------------------------------------------------------
def load_benchmark_config(path: Path, priority_ids=None) -> dict:
    """Read and check ``params/benchmark.yaml`` (unknown indicators, variables or
    priorities are :class:`~kcpp_analysis.core.errors.ConfigError` naming the file and key)."""
    import yaml

    from kcpp_analysis.core.errors import ConfigError

    path = Path(path)
    if not path.is_file():
        return {"nearest_neighbours": {"k": 15, "variables": list(NN_VARIABLES)}, "priorities": {}}
    from kcpp_analysis.config.params import safe_yaml

    try:
        d = safe_yaml(path.read_bytes(), path) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    allowed = {"nearest_neighbours", "user_group", "priorities"}
    for k in d:
        if k not in allowed:
            raise ConfigError(
                f"{path}: key {k!r}: unknown key; known: {', '.join(sorted(allowed))}"
            )
    nn = d.get("nearest_neighbours") or {}
    for v in nn.get("variables", []):
        if v not in NN_VARIABLES:
            raise ConfigError(
                f"{path}: key 'nearest_neighbours.variables': unknown variable {v!r}; "
                f"known: {', '.join(NN_VARIABLES)}"
            )
    if not isinstance(nn.get("k", 15), int) or nn.get("k", 15) < 1:
        raise ConfigError(f"{path}: key 'nearest_neighbours.k' must be a whole number >= 1")
    names = set(INDICATOR_LABELS)
    for pid, spec in (d.get("priorities") or {}).items():
        if priority_ids is not None and pid not in priority_ids:
            raise ConfigError(f"{path}: key 'priorities.{pid}': no such priority in the plan")
        for ind in (spec or {}).get("indicators", []):
            if ind not in names:
                raise ConfigError(
                    f"{path}: key 'priorities.{pid}.indicators': unknown indicator {ind!r}; "
                    f"known: {', '.join(sorted(names))}"
                )
    d.setdefault("nearest_neighbours", {})
    d["nearest_neighbours"].setdefault("k", 15)
    d["nearest_neighbours"].setdefault("variables", list(NN_VARIABLES))
    d.setdefault("priorities", {})
    return d


def england_rate(la: pd.DataFrame, indicator: str) -> float:
    """The population-weighted mean of the LA rates (England's rate on the same basis)."""
    ok = la[indicator].notna()
    return float(
        (la.loc[ok, indicator] * la.loc[ok, "population"]).sum() / la.loc[ok, "population"].sum()
    )
