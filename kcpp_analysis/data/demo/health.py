"""Synthetic health data on violence for the demo: A&E assault attendances (ISTV minimum
dataset) and hospital admissions for assault (ICD-10 X85-Y09), drawn around the demo's
police-recorded serious violence so that police and health can be set side by side.

Assumptions (stated, not evidence): about half as many A&E attendances for assault as
police-recorded violence with injury, a fifth of them never reported to the police and
placed where the night-time economy is (the neighbourhoods with most serious violence),
more of them at night and among 16-34s; admissions about one in eight attendances. Every
page built from them carries the synthetic-data banner.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kcpp_analysis.config.models import AGE_BANDS
from kcpp_analysis.data.sources.health import LOCATIONS, WEAPONS

WEAPON_P = dict(zip(WEAPONS, [0.10, 0.01, 0.08, 0.07, 0.55, 0.09, 0.10], strict=True))
LOCATION_P = dict(zip(LOCATIONS, [0.25, 0.42, 0.16, 0.03, 0.09, 0.05], strict=True))
AGE_P = dict(zip(AGE_BANDS, [0.07, 0.28, 0.27, 0.23, 0.11, 0.04], strict=True))
#: attendance hour weights: the evening and night carry most assaults
HOUR_W = np.array(
    [6, 5, 4, 3, 1.5, 1, 1, 1, 1.2, 1.5, 2, 2.2, 2.5, 2.5, 2.5, 3, 3.2, 3.5, 4, 4.5, 5, 6, 7, 7],
    dtype=float,
)
ICD = {"X99": 0.15, "Y00": 0.12, "Y04": 0.53, "Y09": 0.20}


def demo_health(rng: np.random.Generator, incidents: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """``{"hospital_assaults": ..., "hospital_admissions": ...}`` in the sources' layouts."""
    sv = incidents[incidents["category"] == "violence_with_injury"]
    if sv.empty:
        return {}
    n = int(len(sv) * 0.5)
    reported = sv.sample(n=int(n * 0.8), random_state=int(rng.integers(1 << 31)))
    busiest = sv["lsoa_code"].value_counts().head(25).index.to_numpy()
    extra = n - len(reported)
    dates = pd.concat(
        [
            reported["date"],
            sv["date"].sample(n=extra, replace=True, random_state=int(rng.integers(1 << 31))),
        ],
        ignore_index=True,
    ) + pd.to_timedelta(rng.integers(0, 2, n), unit="D")
    lsoas = np.concatenate([reported["lsoa_code"].to_numpy(), rng.choice(busiest, extra)])

    def pick(p: dict) -> np.ndarray:
        return rng.choice(list(p), n, p=np.array(list(p.values())) / sum(p.values()))

    assaults = pd.DataFrame(
        {
            "date": pd.to_datetime(dates).dt.normalize().astype("datetime64[ns]"),
            "hour": rng.choice(24, n, p=HOUR_W / HOUR_W.sum()).astype("float64"),
            "location": pick(LOCATION_P),
            "weapon": pick(WEAPON_P),
            "age_band": pick(AGE_P),
            "sex": rng.choice(["male", "female", "not recorded"], n, p=[0.66, 0.32, 0.02]),
            "lsoa_code": pd.Series(lsoas, dtype="str"),
        }
    )
    last = incidents["date"].max()
    assaults = assaults[assaults["date"] <= last].reset_index(drop=True)
    adm = assaults.sample(frac=0.125, random_state=int(rng.integers(1 << 31)))
    adm = adm.assign(
        month=adm["date"].dt.to_period("M").dt.to_timestamp(),
        icd10=rng.choice(list(ICD), len(adm), p=list(ICD.values())),
    )
    admissions = (
        adm.groupby(["month", "lsoa_code", "icd10", "age_band"])
        .size()
        .rename("count")
        .reset_index()
    )
    admissions = admissions.assign(ward_code=None)[
        ["month", "lsoa_code", "ward_code", "icd10", "age_band", "count"]
    ]
    admissions["month"] = admissions["month"].astype("datetime64[ns]")
    admissions["count"] = admissions["count"].astype("int64")
    admissions["lsoa_code"] = admissions["lsoa_code"].astype("str")
    admissions["ward_code"] = pd.Series(pd.NA, index=admissions.index, dtype="str")
    return {"hospital_assaults": assaults, "hospital_admissions": admissions}
