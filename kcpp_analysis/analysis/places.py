"""Place profiles: the partnership's four places side by side, like for like.

For each place: residents (Census 2021), LSOAs, the share of its LSOAs in England's most
deprived 10% (IoD), and for the SIA year the police-recorded crimes, police-recorded ASB
incidents and domestic abuse crimes and incidents with rates per 1,000 residents, the
change in crimes on the same months of the previous year (exact conditional test:
:func:`kcpp_analysis.analysis.trends.compare_periods`), and the weighted share of residents
feeling safe. Each count covers the months of the SIA year its source covers and the same
months a year earlier (:func:`kcpp_analysis.core.periods.like_for_like_months`), as the theme
pages count them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kcpp_analysis.analysis.surveys import weighted_share
from kcpp_analysis.analysis.trends import compare_periods
from kcpp_analysis.core.periods import like_for_like_months

PLACE_COLUMNS = [
    "place",
    "population",
    "lsoas",
    "pct_lsoas_most_deprived_decile",
    "crimes",
    "crimes_previous",
    "crime_rate_per_1000",
    "crime_change_pct",
    "crime_change_p_value",
    "asb",
    "asb_rate_per_1000",
    "domestic_abuse",
    "feel_safe_pct",
    "feel_safe_n",
]


def _months_of(dataset, source: str, year: str) -> tuple[list, list]:
    cov = (dataset.meta.get("source_coverage") or {}).get(source)
    if cov is None:
        return [], []
    return like_for_like_months(cov["first_month"], cov["last_month"], year)


def place_profiles(
    dataset, places: list[str], year: str, *, feel_safe=("residents", "feel_safe_area")
) -> pd.DataFrame:
    """One row per place (columns :data:`PLACE_COLUMNS`); counts are NaN when their source
    does not cover the SIA year at all."""
    a = dataset.areas
    inc = dataset.incidents.merge(a[["lsoa_code", "place"]], on="lsoa_code", how="left")
    month = inc["date"].dt.to_period("M")
    survey, question = feel_safe
    safe = (
        weighted_share(dataset.survey, question, by="place", wave=year, survey_name=survey)
        if len(dataset.survey)
        else pd.DataFrame(columns=["place", "share", "n"])
    )

    def count(source: str, which: int, extra=None):
        months = _months_of(dataset, source, year)[which]
        if not months:
            return None
        m = (inc["source"] == source) & month.isin(months)
        if extra is not None:
            m &= extra
        return inc[m].groupby("place").size()

    crimes, crimes_prev = count("police_crime", 0), count("police_crime", 1)
    asb = count("police_asb", 0)
    da = count("police_crime", 0, inc["domestic_abuse"]) if "domestic_abuse" in inc else None
    rows = []
    for place in places:
        ap = a[a["place"] == place]
        pop = float(ap["population"].sum())

        def get(t, _place=place):
            return np.nan if t is None else float(t.get(_place, 0))

        c, cp = get(crimes), get(crimes_prev)
        test = (
            compare_periods(int(c), int(cp)).iloc[0] if np.isfinite(c) and np.isfinite(cp) else None
        )
        s = safe[safe["place"] == place]
        rows.append(
            {
                "place": place,
                "population": pop,
                "lsoas": len(ap),
                "pct_lsoas_most_deprived_decile": 100 * float((ap["imd_decile"] == 1).mean())
                if len(ap)
                else np.nan,
                "crimes": c,
                "crimes_previous": cp,
                "crime_rate_per_1000": 1000 * c / pop if pop else np.nan,
                "crime_change_pct": np.nan if test is None else float(test.change_pct),
                "crime_change_p_value": np.nan if test is None else float(test.p_value),
                "asb": get(asb),
                "asb_rate_per_1000": 1000 * get(asb) / pop if pop else np.nan,
                "domestic_abuse": get(da),
                "feel_safe_pct": 100 * float(s["share"].iloc[0]) if len(s) else np.nan,
                "feel_safe_n": float(s["n"].iloc[0]) if len(s) else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=PLACE_COLUMNS)
