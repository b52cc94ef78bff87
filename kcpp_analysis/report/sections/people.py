"""Who: victims by age band and sex, and repeat offenders.

Victims: incidents of the SIA year with a victim, by age band (the Census 2021 bands) and
sex, with the rate per 1,000 residents of each age band (Census 2021, all sexes: the
reference extract has no sex split, so rates by sex are not given). Offenders (identified
offenders only, pseudonymised): the share of identified offences committed by the most
prolific 10% of offenders (the "repeat offender" concentration, as in the Home Office
repeat-offending measures), and offenders with 3 or more offences in the 12 months; the
victim-offender overlap when both references use the same keyed hash. All counts pass the
disclosure gate (counts 1-4 withheld with secondary suppression).
"""

from __future__ import annotations

import pandas as pd

from kcpp_analysis.analysis.volt import top_share
from kcpp_analysis.config.models import AGE_BANDS
from kcpp_analysis.data.schemas import AGE_POP_COLUMNS
from kcpp_analysis.presentation import narrative
from kcpp_analysis.report.results import SectionResult
from kcpp_analysis.report.sections.common import (
    SectionSettings,
    anchor,
    gap,
    has,
    has_incidents,
    table_name,
    year_incidents,
)

KIND = "people"
TITLE = "Who: victims and offenders"
POP_COLUMNS = AGE_POP_COLUMNS


class Settings(SectionSettings):
    min_offenders: int


def applies(ctx, pr) -> bool:
    return has_incidents(ctx, pr)


def compute(ctx, pr, settings: Settings) -> SectionResult:
    a = anchor(pr.id, KIND)
    gate = ctx.gate
    title = narrative.lower_first(pr.title)
    inc = year_incidents(ctx, pr)
    sentences, tables, notes = [], [], []
    if has(inc, "victim_age_band"):
        v = inc[inc["victim_age_band"].notna()]
        t = (
            v.assign(victim_sex=v["victim_sex"].fillna("not recorded"))
            .pivot_table(
                index="victim_age_band",
                columns="victim_sex",
                values="incident_id",
                aggfunc="count",
                fill_value=0,
            )
            .reindex(list(AGE_BANDS), fill_value=0)
        )
        t["all"] = t.sum(axis=1)
        areas = ctx.dataset.areas
        if all(c in areas.columns for c in POP_COLUMNS.values()):
            pop = pd.Series({b: areas[c].sum() for b, c in POP_COLUMNS.items()})
            t["rate_per_1000"] = 1000 * t["all"] / pop.reindex(t.index)
        t = t.reset_index().rename(columns={"victim_age_band": "age_band"})
        counts = [c for c in t.columns if c not in ("age_band", "rate_per_1000")]
        pub = gate.table(
            t,
            table_name(ctx, pr.id, "victims_age_sex"),
            counts=counts,
            derived={"all": ["rate_per_1000"]} if "rate_per_1000" in t else None,
            formats={"rate_per_1000": ",.1f"},
            caption=f"Victims by age band and sex, {ctx.year} (incidents with a recorded victim)",
        )
        tables.append(pub)
        if "rate_per_1000" in t:
            vis = [i for i in range(len(t)) if not pub.hidden(i, "rate_per_1000")]
            if vis:
                hi = t.iloc[vis].sort_values("rate_per_1000", ascending=False).iloc[0]
                sentences.append(
                    f"Residents aged {hi.age_band} are the most often victimised "
                    f"({hi.rate_per_1000:,.1f} {title} incidents per 1,000 residents of that age)."
                )
        if "female" in t.columns and t["all"].sum() >= gate.threshold:
            share = t["female"].sum() / t["all"].sum()
            sentences.append(f"{narrative.fmt_pct(100 * share)} of victims are female.")
    else:
        sentences.append(gap(title, "victim age or sex", "`victim_age_band` and `victim_sex`"))
    if has(inc, "offender_id"):
        o = inc["offender_id"].dropna().value_counts()
        if len(o) >= settings.min_offenders:
            share = top_share(o)
            n3 = int((o >= 3).sum())
            row = pd.DataFrame(
                [
                    {
                        "offences_with_offender": int(o.sum()),
                        "offenders": len(o),
                        "offenders_3_plus": n3,
                        "top10_share_pct": 100 * share,
                    }
                ]
            )
            pub = gate.table(
                row,
                table_name(ctx, pr.id, "offenders"),
                counts=["offences_with_offender", "offenders", "offenders_3_plus"],
                derived={"offenders": ["top10_share_pct"]},
                column_totals=False,
                formats={"top10_share_pct": ".0f"},
                caption=f"Identified offenders, {ctx.year}",
            )
            tables.append(pub)
            if not pub.hidden(0, "top10_share_pct"):
                sentences.append(
                    f"The most prolific 10% of identified offenders committed "
                    f"{narrative.fmt_pct(100 * share)} of the offences with an identified "
                    "offender"
                    + (
                        f"; {narrative.fmt_count(n3)} offenders had 3 or more offences in the year."
                        if not pub.hidden(0, "offenders_3_plus")
                        else "."
                    )
                )
            if "victim_id" in inc.columns:
                both = set(inc["victim_id"].dropna()) & set(o.index)
                if both:
                    notes.append(
                        f"{len(both)} people appear as both victim and offender (same keyed hash)."
                    )
        else:
            sentences.append(
                f"Fewer than {settings.min_offenders} identified offenders: no offender profile."
            )
    else:
        sentences.append(gap(title, "offender references", "`offender_ref` (pseudonymised)"))
    if has(inc, "caller_id"):
        c = inc["caller_id"].dropna().value_counts()
        row = pd.DataFrame(
            [
                {
                    "calls_with_caller": int(c.sum()),
                    "callers": len(c),
                    "callers_3_plus": int((c >= 3).sum()),
                    "calls_from_repeat_callers_pct": 100 * c[c >= 2].sum() / c.sum(),
                }
            ]
        )
        pub = gate.table(
            row,
            table_name(ctx, pr.id, "repeat_callers"),
            counts=["calls_with_caller", "callers", "callers_3_plus"],
            derived={"callers": ["calls_from_repeat_callers_pct"]},
            column_totals=False,
            formats={"calls_from_repeat_callers_pct": ".0f"},
            caption=f"Repeat callers, {ctx.year}",
        )
        tables.append(pub)
        if not pub.hidden(0, "calls_from_repeat_callers_pct"):
            sentences.append(
                f"{narrative.fmt_pct(row.calls_from_repeat_callers_pct[0])} of calls came from "
                "callers who called more than once in the year."
            )
    if has(inc, "x", "y"):
        loc = inc[inc["x"].notna()]
        at = loc.groupby([loc["x"].round(0), loc["y"].round(0)]).size()
        rep = at[at >= 2]
        row = pd.DataFrame(
            [
                {
                    "located_incidents": int(at.sum()),
                    "repeat_locations": len(rep),
                    "incidents_at_repeat_locations": int(rep.sum()),
                }
            ]
        )
        tables.append(
            gate.table(
                row,
                table_name(ctx, pr.id, "repeat_locations"),
                counts=list(row.columns),
                column_totals=False,
                caption=(
                    f"Repeat locations, {ctx.year} (the same point to the metre twice or more; "
                    "addresses are never published)"
                ),
            )
        )
    published = any(t.has_values for t in tables)
    return SectionResult(
        KIND,
        pr.id,
        TITLE,
        a,
        tuple(sentences),
        tuple(tables),
        (),
        (
            "Victim and offender references are pseudonymised with a keyed hash when the data "
            "are prepared and never published; only counts leave this report.",
            *notes,
        ),
        signals={"published": published},
    )
