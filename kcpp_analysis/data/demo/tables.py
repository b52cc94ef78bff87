"""The demo's survey responses and partner indicators (synthetic)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kcpp_analysis.data.dataset import normalise_table

INDICATORS = {
    # id: (unit, source, value in 2017/18, annual change, noise sd, first FY)
    "nrm_referrals": ("referrals", "Home Office NRM statistics", 55, 8, 5, "2017/18"),
    "first_time_entrants": ("young people", "Youth Justice Board", 190, -9, 8, "2017/18"),
    "water_incidents": (
        "incidents",
        "West Yorkshire Fire and Rescue Service",
        34,
        -0.5,
        4,
        "2017/18",
    ),
    "drug_reoffending_rate": (
        "%",
        "Ministry of Justice proven reoffending",
        34.0,
        -0.3,
        0.8,
        "2017/18",
    ),
    "drug_treatment_referrals": ("people", "OHID NDTMS", 380, 12, 15, "2017/18"),
    "prevent_referrals": ("referrals", "Home Office Prevent statistics", 70, -2, 6, "2017/18"),
    "asylum_dispersal": ("people", "Home Office immigration statistics", 420, 45, 20, "2019/20"),
}


#: demo category -> the real spatial pattern it borrows: ("policeuk", crime type) from the
#: police.uk 12-month LSOA counts, or ("iod", indicator) an IoD2025 crime rate per 1,000 (times
#: the LSOA's population) where police.uk has no matching type. Categories not listed (fly-
#: tipping, road casualties) keep the model pattern (population x IMD score x hotspot).

SURVEYS = {
    # survey: {question: (2021/22 share, change per year after 2021/22), first wave, n per wave}
    "residents": (
        {
            "feel_safe_area": (0.815, -0.009),
            "satisfied_local_area": (0.73, -0.004),
            "get_along": (0.56, 0.003),
            "asb_concern": (0.585, 0.007),
        },
        "2017/18",
        1600,
    ),
    "tenants": ({"housing_satisfaction": (0.68, 0.012)}, "2021/22", 800),
    "young_people": ({"feel_safe": (0.76, -0.006)}, "2017/18", 1200),
}
PLACE_SURVEY_SHIFT = {
    "Batley & Spen": -0.03,
    "Dewsbury & Mirfield": -0.04,
    "Huddersfield": -0.01,
    "Rural": 0.07,
}
SKIPPED_WAVES = {"2020/21"}  # no face-to-face fieldwork during the pandemic


def demo_survey(rng, fys: list[str], base_fy: str) -> pd.DataFrame:
    """Synthetic survey responses: each question's share moves from its base-year value by
    its slope a year, shifted by place; waves of the pandemic year are skipped."""
    frames = []
    base_i = fys.index(base_fy)
    places = list(PLACE_SURVEY_SHIFT)
    place_p = np.array([0.26, 0.21, 0.33, 0.20])
    for survey, (questions, first, n) in SURVEYS.items():
        for yi, wave in enumerate(fys):
            if wave in SKIPPED_WAVES or fys.index(wave) < fys.index(first):
                continue
            place = rng.choice(places, size=n, p=place_p)
            weight = np.exp(rng.normal(0, 0.35, n))
            weight = np.round(weight / weight.mean(), 4)
            rid = np.char.add(f"{survey[:3].upper()}{wave[:4]}-", np.arange(1, n + 1).astype(str))
            for q, (p0, slope) in questions.items():
                shift = pd.Series(place).map(PLACE_SURVEY_SHIFT).to_numpy()
                p = np.clip(
                    p0 + slope * (yi - base_i) + shift * (0.5 if q != "asb_concern" else -0.5),
                    0.02,
                    0.98,
                )
                # centre the place shifts so the weighted whole-area share stays near p0
                p = np.clip(
                    p - (shift * 0.5).mean() * (1 if q != "asb_concern" else -1), 0.02, 0.98
                )
                frames.append(
                    pd.DataFrame(
                        {
                            "survey": survey,
                            "wave": wave,
                            "respondent_id": rid,
                            "place": place,
                            "weight": weight,
                            "question": q,
                            "positive": rng.random(n) < p,
                        }
                    )
                )
    return normalise_table(pd.concat(frames, ignore_index=True), "survey")


def demo_indicators(rng, fys: list[str]) -> pd.DataFrame:
    """Synthetic partner indicators: a level, a slope and noise per indicator."""
    rows = []
    for ind, (unit, source, v0, slope, sd, first) in INDICATORS.items():
        for i, fy in enumerate(fys):
            if fys.index(fy) < fys.index(first):
                continue
            v = v0 + slope * i + rng.normal(0, sd)
            v = round(v, 1) if unit == "%" else float(max(0, round(v)))
            rows.append(
                {
                    "indicator_id": ind,
                    "period": fy,
                    "value": v,
                    "unit": unit,
                    "source": f"{source} (synthetic)",
                }
            )
    return normalise_table(pd.DataFrame(rows), "indicators")
