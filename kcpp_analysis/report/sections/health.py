"""Police and health side by side: A&E assault attendances (ISTV) and hospital admissions
for assault against the priority's police-recorded incidents (the Serious Violence Duty's
"police, health, justice and education data").

What it shows: volumes by financial year for the three sources; the age profile of police
victims against A&E attendances; the share at night (22:00 to 03:59); the share involving a
knife or sharp instrument; and, by place, attendances and police records per 1,000
residents with their ratio, so a place where health sees relatively more than the police do
stands out (under-reporting, or assaults that reach A&E without a crime report). Counts pass
the disclosure gate; shares and rates are hidden with their counts. No test is claimed: the
sources count different things (an attendance is not an offence), so the comparison is
descriptive.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kcpp_analysis.config.models import AGE_BANDS
from kcpp_analysis.core.periods import fy_labels, in_fy, previous_fy
from kcpp_analysis.presentation import charts, narrative
from kcpp_analysis.report.results import Figure, SectionResult
from kcpp_analysis.report.sections.common import (
    SectionSettings,
    anchor,
    has_incidents,
    table_name,
)

KIND = "health"
TITLE = "Police and health side by side"
NIGHT = (22, 23, 0, 1, 2, 3)


class Settings(SectionSettings):
    for_priority: str
    years_shown: int


def applies(ctx, pr) -> bool:
    s = ctx.settings(KIND, pr)
    return (
        pr.id == s.for_priority
        and "hospital_assaults" in ctx.dataset.extras
        and has_incidents(ctx, pr)
    )


def _share(mask: pd.Series) -> float:
    return float(mask.mean()) if len(mask) else float("nan")


def compute(ctx, pr, settings: Settings) -> SectionResult:
    a = anchor(pr.id, KIND)
    gate = ctx.gate
    title = narrative.lower_first(pr.title)
    ae = ctx.dataset.extras["hospital_assaults"]
    adm = ctx.dataset.extras.get("hospital_admissions")
    inc = ctx.incidents(pr)
    years = [ctx.year]
    for _ in range(settings.years_shown - 1):
        years.insert(0, previous_fy(years[0]))
    vol = pd.DataFrame({"financial_year": years})
    vol["police"] = [int(in_fy(inc["date"], y).sum()) for y in years]
    vol["ae_attendances"] = [int(in_fy(ae["date"], y).sum()) for y in years]
    if adm is not None:
        fy = fy_labels(adm["month"])
        vol["admissions"] = [int(adm.loc[fy == y, "count"].sum()) for y in years]
    counts = [c for c in vol.columns if c != "financial_year"]
    vol_t = gate.table(
        vol,
        table_name(ctx, pr.id, "health_volumes"),
        counts=counts,
        column_totals=False,
        caption=f"{pr.title} recorded by the police, A&E attendances for assault and hospital "
        "admissions for assault, by financial year",
    )
    cur_p = inc[in_fy(inc["date"], ctx.year)]
    cur_a = ae[in_fy(ae["date"], ctx.year)]
    # age profile: police victims against A&E attendances (shares of those with an age)
    pv = cur_p["victim_age_band"].value_counts() if "victim_age_band" in cur_p else pd.Series()
    av = cur_a["age_band"].value_counts()
    age = pd.DataFrame({"age_band": list(AGE_BANDS)})
    age["police_victims"] = age["age_band"].map(pv).fillna(0).astype(int)
    age["ae_attendances"] = age["age_band"].map(av).fillna(0).astype(int)
    for c in ("police_victims", "ae_attendances"):
        tot = age[c].sum()
        age[f"{c}_pct"] = 100 * age[c] / tot if tot else np.nan
    age_t = gate.table(
        age,
        table_name(ctx, pr.id, "health_age"),
        counts=["police_victims", "ae_attendances"],
        derived={
            "police_victims": ["police_victims_pct"],
            "ae_attendances": ["ae_attendances_pct"],
        },
        formats={"police_victims_pct": ".0f", "ae_attendances_pct": ".0f"},
        caption=f"Age of police-recorded victims and of A&E attendances for assault, {ctx.year}",
    )
    # by place: rates per 1,000 residents and the A&E-to-police ratio
    areas = ctx.dataset.areas
    pop = areas.groupby("place")["population"].sum()
    place_of = areas.set_index("lsoa_code")["place"]
    pl = pd.DataFrame({"place": ctx.params.sia.places})
    pl["police"] = pl["place"].map(cur_p["lsoa_code"].map(place_of).value_counts()).fillna(0)
    pl["ae_attendances"] = (
        pl["place"].map(cur_a["lsoa_code"].dropna().map(place_of).value_counts()).fillna(0)
    )
    pl["police_per_1000"] = 1000 * pl["police"] / pl["place"].map(pop)
    pl["ae_per_1000"] = 1000 * pl["ae_attendances"] / pl["place"].map(pop)
    ratio_b = pl["ae_attendances"].sum() / max(pl["police"].sum(), 1)
    pl["ae_to_police"] = pl["ae_attendances"] / pl["police"].where(pl["police"] > 0)
    place_t = gate.table(
        pl,
        table_name(ctx, pr.id, "health_places"),
        counts=["police", "ae_attendances"],
        row_totals=False,
        derived={
            "police": ["police_per_1000", "ae_to_police"],
            "ae_attendances": ["ae_per_1000", "ae_to_police"],
        },
        formats={"police_per_1000": ",.1f", "ae_per_1000": ",.1f", "ae_to_police": ".2f"},
        caption=f"{pr.title} and A&E assault attendances by place, {ctx.year}",
    )
    sentences = []
    cur = vol.iloc[-1]
    if not (gate.small(cur["police"]) or gate.small(cur["ae_attendances"])):
        s = (
            f"In {ctx.year} A&E departments recorded "
            f"{narrative.fmt_count(cur['ae_attendances'])} attendances for assault"
        )
        if "admissions" in vol and not gate.small(cur["admissions"]):
            s += f" and hospitals admitted {narrative.fmt_count(cur['admissions'])} people"
        s += f", beside {narrative.fmt_count(cur['police'])} police-recorded {title} offences."
        sentences.append(s)
    night_a = _share(cur_a["hour"].isin(NIGHT))
    if "time_from" in cur_p:
        t = cur_p["time_from"].dropna()
        night_p = _share(t.dt.hour.isin(NIGHT))
        if len(cur_a) >= gate.threshold and len(t) >= gate.threshold:
            sentences.append(
                f"{narrative.fmt_pct(100 * night_a)} of A&E assault attendances were at night "
                f"(22:00 to 03:59), against {narrative.fmt_pct(100 * night_p)} of police-recorded "
                f"{title}."
            )
    if len(cur_a) >= gate.threshold and "knife_crime" in cur_p:
        sentences.append(
            f"A knife or sharp instrument was involved in "
            f"{narrative.fmt_pct(100 * _share(cur_a['weapon'] == 'knife or sharp instrument'))} "
            f"of A&E attendances and flagged on {narrative.fmt_pct(100 * _share(cur_p['knife_crime']))} "
            "of police records."
        )
    shown = [
        i
        for i in range(len(pl))
        if not place_t.hidden(i, "ae_to_police") and pd.notna(pl["ae_to_police"].iloc[i])
    ]
    if shown and ratio_b > 0:
        top = max(shown, key=lambda i: pl["ae_to_police"].iloc[i])
        rel = pl["ae_to_police"].iloc[top] / ratio_b
        if rel >= 1.2:
            sentences.append(
                f"Relative to police records, A&E sees most in {pl['place'].iloc[top]} "
                f"({pl['ae_to_police'].iloc[top]:.2f} attendances per police record against "
                f"{ratio_b:.2f} for the borough): assaults there reach hospital more often "
                "than they reach a crime report."
            )
    chart = charts.health_chart(
        vol,
        title=f"{pr.title}: police and health records by year (index, {years[0]} = 100)",
        name=table_name(ctx, pr.id, "health_volumes_chart"),
        alt=f"Line chart of police-recorded {title}, A&E assault attendances and hospital "
        f"admissions for assault by financial year, each indexed to {years[0]}. "
        + " ".join(sentences[:1]),
    )
    return SectionResult(
        KIND,
        pr.id,
        TITLE,
        a,
        tuple(sentences),
        (vol_t, age_t, place_t),
        (Figure.from_chart(chart),),
        (
            "A&E attendances for assault follow the Information Sharing to Tackle Violence "
            "minimum dataset; admissions are hospital episodes with an external cause of "
            "assault (ICD-10 X85-Y09). An attendance is not an offence: the comparison "
            "describes, it does not test.",
        ),
        signals={"published": True},
    )
