"""Synthetic community insight for the demo (coded engagement feedback, bannered).

Volumes follow the engagement reach by place that the SIA approach paper reports
(individuals engaged, section 5: Batley & Spen 448, Dewsbury & Mirfield 307, Huddersfield
995, Rural 623), one coded mention per person engaged a year, plus councillor and officer
sessions. Topics follow the themes the paper lists: persistent ASB (youth disorder, drug
activity, nuisance vehicles, fly-tipping), dangerous and nuisance driving, drug use,
environmental quality and under-reporting of domestic abuse, VAWG and hate crime, with the
place-specific themes of councillors and place-based officers (Dewsbury & Mirfield: knife
crime, gangs, domestic abuse; Batley & Spen: night-time town-centre fears, nuisance
driving; Huddersfield: ASB, road safety, lighting and CCTV; Rural: drugs and alcohol, youth
ASB, dangerous driving). The figures are synthetic and describe no real feedback.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kcpp_analysis.core.periods import fy_bounds
from kcpp_analysis.data.sources.insight import normalise_insight

#: people engaged a year by place (approach paper, section 5)
REACH = {"Batley & Spen": 448, "Dewsbury & Mirfield": 307, "Huddersfield": 995, "Rural": 623}
#: share of a place's mentions by channel
CHANNEL_SHARE = {"community": 0.62, "councillor": 0.14, "officer": 0.16, "partner": 0.08}
#: borough-wide topic weights (councillors' and communities' common themes)
COMMON = {
    "asb_persistent": 14,
    "asb_youth": 10,
    "nuisance_vehicles": 8,
    "fly_tipping": 7,
    "speeding": 8,
    "nuisance_driving": 5,
    "drug_dealing": 7,
    "domestic_abuse_underreporting": 2,
    "vawg_safety": 2,
    "hate_crime_underreporting": 2,
    "youth_provision": 4,
    "cost_of_living": 3,
    "lighting_cctv": 2,
    "burglary": 2,
    "vehicle_crime": 2,
    "community_tensions": 2,
    "asylum_migration": 1,
    "reporting_routes": 1,
}
#: extra weight by place (approach paper, section 5)
PLACE = {
    "Batley & Spen": {
        "night_time_safety": 6,
        "nuisance_driving": 4,
        "hate_crime_underreporting": 3,
        "youth_provision": 3,
        "community_tensions": 2,
    },
    "Dewsbury & Mirfield": {
        "knife_crime": 6,
        "gangs_violence": 5,
        "domestic_abuse_underreporting": 4,
        "speeding": 3,
        "youth_exploitation": 3,
        "lighting_cctv": 2,
    },
    "Huddersfield": {
        "asb_persistent": 4,
        "speeding": 3,
        "lighting_cctv": 3,
        "reporting_routes": 2,
        "vawg_safety": 2,
    },
    "Rural": {
        "drug_dealing": 4,
        "alcohol_street_drinking": 3,
        "asb_youth": 3,
        "nuisance_driving": 4,
        "burglary": 2,
    },
}
FIRST = "2021/22"


def demo_insight(rng, fys: list[str], params) -> pd.DataFrame:
    """Monthly coded mentions by place, channel and topic for each year from 2021/22."""
    topics = params.insight.topics
    rows = []
    years = [fy for fy in fys if fy >= FIRST]
    for fy in years:
        start, _ = fy_bounds(fy)
        months = pd.date_range(start, periods=12, freq="MS")
        for place, reach in REACH.items():
            w = dict(COMMON)
            for t, x in PLACE[place].items():
                w[t] = w.get(t, 0) + x
            w = {t: x for t, x in w.items() if t in topics}
            names = sorted(w)
            p = np.array([w[t] for t in names], dtype=float)
            p /= p.sum()
            total = rng.poisson(reach * 1.2)
            for ch, share in CHANNEL_SHARE.items():
                n = rng.multinomial(rng.binomial(total, share), p)
                for t, k in zip(names, n, strict=True):
                    if k == 0:
                        continue
                    per_month = rng.multinomial(k, np.full(12, 1 / 12))
                    for m, c in zip(months, per_month, strict=True):
                        if c:
                            rows.append(
                                {
                                    "date": m,
                                    "date_precision": "month",
                                    "place": place,
                                    "ward_code": None,
                                    "channel": ch,
                                    "topic": t,
                                    "mentions": int(c),
                                    "concern": float(rng.integers(1, 4)),
                                }
                            )
    out = pd.DataFrame(rows).sort_values(["date", "place", "channel", "topic"])
    return normalise_insight(out)
