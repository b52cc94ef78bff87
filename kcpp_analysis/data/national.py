"""The national England tables behind benchmarking (real open data, OGL).

Built by :func:`build_benchmark` from the national open files (``kcpp reference build``
writes them into ``kcpp_analysis/resources/reference/england/``):

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
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

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


def build_benchmark(folder: Path, out: Path | None = None) -> Path:
    """Write ``la_benchmark.csv`` and ``rate_by_imd_decile.csv`` from the national files."""
    from kcpp_analysis.data.reference import NATIONAL_FILES, need_national

    folder = Path(folder)
    out = Path(out) if out else ENGLAND_DIR
    lk = pd.read_csv(need_national(folder, "lookup"), dtype=str)
    lk = lk[lk["ltla24_code"].str.startswith("E")][["lsoa21_code", "ltla24_code", "ltla24_name"]]
    census = pd.read_csv(need_national(folder, "census"))
    c = census.pivot_table(
        index="lsoa21_code", columns="age_group", values="usual_residents", aggfunc="sum"
    )
    pop = c.sum(axis=1).rename("population")
    ind_path = folder / NATIONAL_FILES["iod_indicators"]
    if not ind_path.is_file():
        raise SourceError(f"{ind_path}: national file not found (benchmark needs it)")
    ind = pd.read_csv(ind_path).rename(columns={"LSOA code (2021)": "lsoa21_code"})
    ind = ind[["lsoa21_code", *INDICATORS]].rename(columns={k: v[0] for k, v in INDICATORS.items()})
    f7 = pd.read_csv(need_national(folder, "iod_file7"))
    dec = f7.set_index("LSOA code (2021)")[
        "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"
    ].rename("imd_decile")
    ruc = pd.read_csv(need_national(folder, "ruc"), dtype=str).set_index("lsoa21_code")["ruc"]
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
